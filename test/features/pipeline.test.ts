import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Panel, Rng, SYNTHETIC_QUICK, loadBars, syntheticMarket } from "../../src/data/index.js";
import {
  N_FEATURES, buildFeatureStore, computeInputs, extractStock, gatherImages, imageValid, readFeaturePanel, spearmanSelect,
} from "../../src/features/index.js";
import { ROOT, SHARED } from "../helpers.js";

function clonePanel(p: Panel): Panel {
  return { ...p, fields: Object.fromEntries(Object.entries(p.fields).map(([k, v]) => [k, v!.slice()])),
    flags: Object.fromEntries(Object.entries(p.flags).map(([k, v]) => [k, v!.slice()])) };
}

test("no look-ahead: changing any value after date t changes no feature at or before t", () => {
  const m = syntheticMarket({ stocks: 20, start: "2019-01-01", end: "2019-06-30", seed: 5 });
  const D = m.panel.calendar.length;
  const rng = new Rng(1);
  const featuresOf = (p: Panel, s: number, d: number): Float64Array => {
    const inp = computeInputs(p);
    const x = inp.values.map((v) => v.row(s).slice());
    const out = new Float64Array(D * N_FEATURES);
    extractStock(x, D, d, out, new Uint8Array(D));
    return out;
  };
  for (let trial = 0; trial < 8; trial++) {
    const t = 25 + rng.int(D - 30);
    const s = rng.int(20);
    const d = [2, 5, 10, 20][trial % 4];
    const base = featuresOf(m.panel, s, d);
    const changed = clonePanel(m.panel);
    for (const f of Object.values(changed.fields)) for (let k = s * D + t + 1; k < (s + 1) * D; k++) f![k] *= 1.5 + rng.uniform();
    for (const f of Object.values(changed.flags)) for (let k = s * D + t + 1; k < (s + 1) * D; k++) f![k] = rng.int(2);
    const after = featuresOf(changed, s, d);
    assert.deepEqual(after.subarray(0, (t + 1) * N_FEATURES), base.subarray(0, (t + 1) * N_FEATURES), `t ${t}, d ${d}`);
    assert.notDeepEqual(after.subarray((t + 1) * N_FEATURES), base.subarray((t + 1) * N_FEATURES));
  }
});

test("the feature store is built once, reads back what was computed, and images are [20 x K]", () => {
  const m = syntheticMarket({ stocks: 30, start: "2019-01-01", end: "2019-12-31", seed: 9 });
  const root = mkdtempSync(join(tmpdir(), "alphanet-features-"));
  const settings = { windows: [5, 10], standardize: false };
  let progress = 0;
  const store = buildFeatureStore(m.panel, root, settings, () => progress++);
  assert.ok(progress > 0);
  const mtime = statSync(join(store.dir, "d10.f32")).mtimeMs;
  let again = 0;
  const store2 = buildFeatureStore(m.panel, root, settings, () => again++);
  assert.equal(again, 0, "the second build computes nothing");
  assert.equal(store2.dir, store.dir);
  assert.equal(statSync(join(store.dir, "d10.f32")).mtimeMs, mtime);
  const p = readFeaturePanel(store, 10);
  const D = m.panel.calendar.length;
  const inp = computeInputs(m.panel);
  const s = 7;
  const out = new Float64Array(D * N_FEATURES);
  const valid = new Uint8Array(D);
  extractStock(inp.values.map((v) => v.row(s).slice()), D, 10, out, valid);
  for (let t = 0; t < D; t++) {
    assert.equal(p.valid[s * D + t], valid[t]);
    for (let f = 0; f < N_FEATURES; f += 13) assert.equal(p.values[(s * D + t) * N_FEATURES + f], Math.fround(out[t * N_FEATURES + f]));
  }
  // A different setting is a different store.
  const other = buildFeatureStore(m.panel, root, { windows: [5, 10], standardize: true });
  assert.notEqual(other.dir, store.dir);
  // Images: 20 rows of K columns; V1's 3 steps of stride 10.
  const cols = [0, 5, 100, 207];
  const sel = readFeaturePanel(store, 10, cols);
  const t = D - 1;
  const stock = m.panel.stocks.findIndex((_, i) => imageValid(sel, i, t, 20));
  const img = gatherImages(sel, [{ stock, date: t }], 20);
  assert.equal(img.length, 20 * 4);
  for (let i = 0; i < 20; i++) for (let j = 0; j < 4; j++)
    assert.equal(img[i * 4 + j], p.values[(stock * D + t - 19 + i) * N_FEATURES + cols[j]]);
  const v1 = gatherImages(sel, [{ stock, date: t }], 3, 10);
  assert.deepEqual(Array.from(v1.subarray(0, 4)), Array.from(img.subarray(0, 4)).map((_, j) => p.values[(stock * D + t - 20) * N_FEATURES + cols[j]]));
});

test("Spearman dropout is deterministic for a seed and keeps 80 to 140 of 208 features on the synthetic market", () => {
  const m = syntheticMarket(SYNTHETIC_QUICK);
  const store = buildFeatureStore(m.panel, mkdtempSync(join(tmpdir(), "alphanet-features-")), { windows: [10], standardize: true });
  const p = readFeaturePanel(store, 10);
  const D = m.panel.calendar.length;
  const a = spearmanSelect(p, m.panel.calendar, { from: 0, to: Math.floor(D * 0.6), seed: 3 });
  const b = spearmanSelect(p, m.panel.calendar, { from: 0, to: Math.floor(D * 0.6), seed: 3 });
  assert.deepEqual(a, b);
  assert.ok(a.kept.length >= 80 && a.kept.length <= 140, `kept ${a.kept.length}`);
  assert.equal(a.kept.length + a.dropped.length, 208);
  assert.ok(a.dates.every((d) => d < m.panel.calendar[Math.floor(D * 0.6)]), "training dates only");
  for (const dr of a.dropped) assert.ok(Math.abs(dr.rho) > 0.8 && (a.kept.includes(dr.by) || dr.by === dr.feature));
});

test("real A-share data: no NaN or Inf reaches a sample image; masked windows are counted", async () => {
  const { panel } = await loadBars(join(SHARED, "data/ashare-2017-2019.csv.gz"), {
    instruments: { path: join(SHARED, "data/ashare-2017-2019-stocks.csv"), map: { total_shares_10k: "total_shares" }, scale: { total_shares: 1e4 } },
  });
  const sub: Panel = { ...panel, stocks: panel.stocks.slice(0, 120), industry: panel.industry.slice(0, 120),
    listDate: panel.listDate.slice(0, 120),
    fields: Object.fromEntries(Object.entries(panel.fields).map(([k, v]) => [k, v!.slice(0, 120 * panel.calendar.length)])),
    flags: Object.fromEntries(Object.entries(panel.flags).map(([k, v]) => [k, v!.slice(0, 120 * panel.calendar.length)])) };
  const store = buildFeatureStore(sub, mkdtempSync(join(tmpdir(), "alphanet-features-")), { windows: [5, 10], standardize: true });
  assert.ok(store.meta.masked["10"] > 0, "suspensions mask windows");
  assert.ok(store.meta.standIns.some((s) => s.input.startsWith("free_turnover")), "the missing free float is reported");
  const p = readFeaturePanel(store, 10);
  const D = sub.calendar.length;
  const samples = [];
  for (let s = 0; s < 120; s++) for (let t = 0; t < D; t += 7) if (imageValid(p, s, t, 20)) samples.push({ stock: s, date: t });
  assert.ok(samples.length > 1000);
  const img = gatherImages(p, samples, 20);
  assert.ok(img.every(Number.isFinite));
});

test("building a store holds one stock's rows at a time: peak memory does not grow with the panel", () => {
  const script = (stocks: number): string => `
    import { syntheticMarket } from "${ROOT}/dist/src/data/index.js";
    import { buildFeatureStore } from "${ROOT}/dist/src/features/index.js";
    import { mkdtempSync } from "node:fs"; import { tmpdir } from "node:os"; import { join } from "node:path";
    const m = syntheticMarket({ stocks: ${stocks}, start: "2019-01-01", end: "2019-12-31", seed: 1, targetIC: 0.1 });
    global.gc?.(); const before = process.memoryUsage().rss;
    buildFeatureStore(m.panel, mkdtempSync(join(tmpdir(), "alphanet-peak-")), { windows: [2, 5, 10, 20], standardize: true });
    console.log(JSON.stringify({ before, peak: process.resourceUsage().maxRSS * 1024 }));`;
  const run = (stocks: number): { before: number; peak: number } => {
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script(stocks)], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout.trim());
  };
  const small = run(40);
  const large = run(320);
  const D = 250;
  const wholePanels = 320 * D * 208 * 4 * 4;
  const growth = (large.peak - large.before) - (small.peak - small.before);
  assert.ok(growth < wholePanels / 4, `peak grew ${(growth / 1e6).toFixed(0)} MB from 40 to 320 stocks; the panels are ${(wholePanels / 1e6).toFixed(0)} MB`);
});
