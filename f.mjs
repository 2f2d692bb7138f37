import { syntheticMarket } from "./dist/src/data/index.js";
import { buildFeatureStore, readFeaturePanel, spearmanSelect } from "./dist/src/features/index.js";
const m = syntheticMarket({});
let t = performance.now();
const st = buildFeatureStore(m.panel, "/tmp/fs");
console.log("build", (performance.now() - t).toFixed(0), st.meta.masked, st.meta.seconds);
t = performance.now();
const p10 = readFeaturePanel(st, 10);
console.log("read", (performance.now() - t).toFixed(0));
const D = m.panel.calendar.length;
const sel = spearmanSelect(p10, m.panel.calendar, { from: 0, to: Math.floor(D * 0.6), seed: 1 });
console.log("kept", sel.kept.length, "samples", sel.samples, (performance.now() - t).toFixed(0), process.memoryUsage().rss / 1e6);
import { FEATURES } from "./dist/src/features/index.js";
const byOp = {}; for (const d of sel.dropped) { const k = FEATURES[d.feature].operator; byOp[k] = (byOp[k] ?? 0) + 1; }
console.log(byOp);
console.log(sel.dropped.slice(0, 60).map(d => `${st.meta.names[10][d.feature]} <- ${st.meta.names[10][d.by]} ${d.rho.toFixed(2)}`).join("\n"));
