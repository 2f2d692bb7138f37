import { syntheticMarket, SYNTHETIC_QUICK } from "./dist/src/data/index.js";
import { buildFeatureStore, readFeaturePanel } from "./dist/src/features/index.js";
import { styleExposures } from "./dist/src/risk/index.js";
import { makeLabels } from "./dist/src/dataset/index.js";
const m = syntheticMarket(SYNTHETIC_QUICK);
const styles = styleExposures(m.panel);
const labels = makeLabels(m.panel, styles, 10);
const S = m.panel.stocks.length, D = m.panel.calendar.length;
const ic = (f, y, fcol) => { const ics=[]; for (let d=100; d<D; d+=3){ const a=[],b=[]; for(let s=0;s<S;s++){const k=s*D+d; const x=fcol?fcol(k):f[k]; if(Number.isFinite(x)&&Number.isFinite(y[k])){a.push(x);b.push(y[k]);}} if(a.length>10){ const ma=a.reduce((x,y)=>x+y)/a.length, mb=b.reduce((x,y)=>x+y)/b.length; let c=0,va=0,vb=0; for(let i=0;i<a.length;i++){c+=(a[i]-ma)*(b[i]-mb);va+=(a[i]-ma)**2;vb+=(b[i]-mb)**2;} if (va>0&&vb>0) ics.push(c/Math.sqrt(va*vb)); } } return (ics.reduce((x,y)=>x+y,0)/ics.length).toFixed(4); };
console.log("oracle vs raw", ic(m.oracle, labels.raw), "vs neutralized", ic(m.oracle, labels.neutralized), "vs std", ic(m.oracle, labels.standardized));
for (let i = 0; i < styles.names.length; i++) console.log("oracle vs style", styles.names[i], ic(m.oracle, styles.values[i]));
const store = buildFeatureStore(m.panel, "/tmp/fsq");
for (const d of [5,10,20]) { const p = readFeaturePanel(store, d); const names = store.meta.names[d];
  const res = names.map((n, f) => [n, Number(ic(null, labels.standardized, (k) => p.valid[k] ? p.values[k*208+f] : NaN))]).sort((a,b)=>Math.abs(b[1])-Math.abs(a[1])).slice(0,5); console.log(d, JSON.stringify(res)); }
