import { syntheticMarket, SYNTHETIC_QUICK, forwardIC } from "./dist/src/data/index.js";
import { buildFeatureStore } from "./dist/src/features/index.js";
import { styleExposures } from "./dist/src/risk/index.js";
import { makeLabels, rollingWindows } from "./dist/src/dataset/index.js";
import { PanelCache, runRolling } from "./dist/src/train/index.js";
let t = performance.now(); const lap = (s) => { console.log(s, ((performance.now() - t)/1000).toFixed(1)); t = performance.now(); };
const m = syntheticMarket(SYNTHETIC_QUICK); lap("market");
const store = buildFeatureStore(m.panel, "/tmp/fsq"); lap("features");
const styles = styleExposures(m.panel); lap("styles");
const labels = makeLabels(m.panel, styles, 10); lap("labels");
const windows = rollingWindows(m.panel.calendar, { trainStart: "2018-01-01", testStart: "2019-07-01", testEnd: "2020-06-30", retrainMonths: 6, horizon: 10 });
console.log(windows);
const cache = new PanelCache(store);
const S = m.panel.stocks.length, D = m.panel.calendar.length;
const icOf = (f) => { const ics=[]; for (let d=0; d<D; d+=5){ const a=[],b=[]; for(let s=0;s<S;s++){const k=s*D+d; if(Number.isFinite(f[k])&&Number.isFinite(labels.raw[k])){a.push(f[k]);b.push(labels.raw[k]);}} if(a.length>10){ const ma=a.reduce((x,y)=>x+y)/a.length, mb=b.reduce((x,y)=>x+y)/b.length; let c=0,va=0,vb=0; for(let i=0;i<a.length;i++){c+=(a[i]-ma)*(b[i]-mb);va+=(a[i]-ma)**2;vb+=(b[i]-mb)**2;} ics.push(c/Math.sqrt(va*vb)); } } return ics.reduce((x,y)=>x+y,0)/ics.length; };
const oracleTest = new Float64Array(S*D).fill(NaN); for (const w of windows) for (let s=0;s<S;s++) for (let d=w.test.from; d<w.test.to; d++) oracleTest[s*D+d]=m.oracle[s*D+d];
console.log("oracle IC on test", icOf(oracleTest).toFixed(4));
for (const kind of ["v1", "v3", "v4"]) {
  const r = runRolling(kind, { kind }, { panel: m.panel, store, styles, labels }, windows, cache, { sampleStep: 2, minListingDays: 60, spearmanThreshold: 0.8, train: { maxEpochs: 8, patience: 4, seed: 1, lrEpochs: 90 } });
  lap(kind);
  console.log(kind, "IC", icOf(r.factor).toFixed(4), JSON.stringify(r.windows.map(w => ({ kept: w.selection?.kept, s: w.samples.train, best: w.bestEpoch, log: w.log.map(l => [l.loss.toFixed(3), l.valid_ic.toFixed(3), l.valid_sharpe.toFixed(2), l.seconds.toFixed(1)]) }))));
}
