/**
 * The baselines' own inputs (V1's 9, V2's 15) against a float64 loop over the bars, their feature
 * stores, and V4's store unchanged by input sets (its cache key and content pinned).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Panel } from "../../src/data/index.js";
import {
  INPUT_NAMES, V1_INPUT_NAMES, V2_INPUT_NAMES, buildFeatureStore, computeInputs, extractStock, featureCount, readFeaturePanel,
  storeFeatureCount,
} from "../../src/features/index.js";

/**
 * 4 stocks x 30 days of bars from integer arithmetic (exact, the same on every platform): stock 2
 * suspended on day 12, stock 3 not listed on days 0-2; turnover and free-float turnover optional.
 */
function handPanel(withTurnover: boolean): Panel {
  const S = 4, D = 30;
  const calendar = Array.from({ length: D }, (_, d) => `2020-01-${String(d + 1).padStart(2, "0")}`);
  const stocks = ["000001", "000002", "000003", "000004"];
  const f = (g: (s: number, d: number) => number): Float64Array => Float64Array.from({ length: S * D }, (_, k) => g(Math.floor(k / D), k % D));
  const close = f((s, d) => 10 + s + ((7 * d + 3 * s) % 11) / 10);
  const open = f((s, d) => close[s * D + d] + (((5 * d + s) % 7) - 3) / 20);
  const high = f((s, d) => Math.max(open[s * D + d], close[s * D + d]) + ((d + s) % 4) / 10);
  const low = f((s, d) => Math.min(open[s * D + d], close[s * D + d]) - ((2 * d + s) % 3) / 10);
  const vwap = f((s, d) => (open[s * D + d] + high[s * D + d] + low[s * D + d] + close[s * D + d]) / 4);
  const volume = f((s, d) => 1000 * (1 + s) * (10 + ((13 * d + 5 * s) % 17)));
  const turnover = f((s, d) => volume[s * D + d] / (1e6 * (1 + s)));
  const free_turnover = f((s, d) => turnover[s * D + d] * 1.5);
  const is_suspended = new Uint8Array(S * D);
  is_suspended[2 * D + 12] = 1;
  volume[2 * D + 12] = 0;
  for (const a of [close, open, high, low, vwap, volume, turnover, free_turnover]) for (let d = 0; d < 3; d++) a[3 * D + d] = NaN;
  return {
    calendar, stocks, fields: { open, high, low, close, vwap, volume, ...(withTurnover ? { turnover, free_turnover } : {}) },
    flags: { is_suspended }, industry: stocks.map(() => "A"), listDate: stocks.map(() => null), indexWeights: {},
    priceBasis: "adjusted", market: "cn",
  };
}

test("V1's 9 and V2's 15 inputs equal a float64 loop over the bars, NaN on untraded days", () => {
  const p = handPanel(true);
  const S = p.stocks.length, D = p.calendar.length;
  const { open, high, low, close, vwap, volume, turnover, free_turnover } = p.fields as Record<string, Float64Array>;
  const v1 = computeInputs(p, "v1"), v2 = computeInputs(p, "v2");
  assert.equal(v1.values.length, 9);
  assert.equal(v2.values.length, 15);
  assert.deepEqual(v1.standIns, []);
  const traded = (k: number): boolean => Number.isFinite(close[k]) && volume[k] > 0 && p.flags.is_suspended![k] === 0;
  let untraded = 0;
  for (let s = 0; s < S; s++) for (let d = 0; d < D; d++) {
    const k = s * D + d;
    let want1: number[], want2: number[];
    if (!traded(k)) {
      untraded++;
      want1 = Array(9).fill(NaN);
      want2 = Array(15).fill(NaN);
    } else {
      const prev = d > 0 && traded(k - 1) ? close[k - 1] : NaN;
      want1 = [open[k], high[k], low[k], close[k], vwap[k], volume[k], close[k] / prev - 1, turnover[k], free_turnover[k]];
      want2 = [...want1, close[k] / free_turnover[k], open[k] / turnover[k], volume[k] / low[k], vwap[k] / high[k], low[k] / high[k],
        vwap[k] / close[k]].map((x) => (Number.isFinite(x) ? x : NaN));
      want1 = want1.map((x) => (Number.isFinite(x) ? x : NaN));
    }
    assert.deepEqual(v1.values.map((v) => v.values[k]), want1, `v1 stock ${s} day ${d}`);
    assert.deepEqual(v2.values.map((v) => v.values[k]), want2, `v2 stock ${s} day ${d}`);
  }
  assert.equal(untraded, 4);
  // The day after the suspension and after the listing has no return (its previous close was not traded).
  assert.ok(Number.isNaN(v1.values[6].at(2, 13)) && Number.isNaN(v1.values[6].at(3, 3)));
  assert.ok(Number.isFinite(v1.values[6].at(2, 14)));
});

test("without turnover fields the baselines' inputs take V4's stand-ins, reported, and read no later day", () => {
  const p = handPanel(false);
  const D = p.calendar.length;
  const v4 = computeInputs(p), v1 = computeInputs(p, "v1"), v2 = computeInputs(p, "v2");
  // The same relative-volume turnover as V4's; free-float turnover falls back to it.
  assert.deepEqual(v1.values[7], v4.values[INPUT_NAMES.indexOf("turnover")]);
  assert.deepEqual(v1.values[8], v1.values[7]);
  assert.deepEqual(v2.values.slice(0, 9), v1.values);
  assert.deepEqual(v1.standIns.map((x) => x.input), ["turn", "free_turn"]);
  assert.equal(v2.standIns.length, 2);
  assert.match(v2.standIns[1].input, /div_close_free_turn/);
  // No look-ahead: changing every bar after day t changes no input at or before t.
  const t = 17;
  const later: Panel = { ...p, fields: Object.fromEntries(Object.entries(p.fields).map(([k, v]) =>
    [k, v!.map((x, i) => (i % D > t ? x * 1.7 + 1 : x))])) };
  const after = computeInputs(later, "v2");
  for (let i = 0; i < 15; i++) for (let s = 0; s < p.stocks.length; s++) {
    assert.deepEqual(after.values[i].row(s).subarray(0, t + 1), v2.values[i].row(s).subarray(0, t + 1), `input ${i} stock ${s}`);
    assert.notDeepEqual(after.values[i].row(s).subarray(t + 1), v2.values[i].row(s).subarray(t + 1));
  }
});

test("a store of V1's or V2's inputs has C(n,2) x 2 + 4n features named by its inputs, the operators' values, its own key", () => {
  const p = handPanel(true);
  const D = p.calendar.length;
  const root = mkdtempSync(join(tmpdir(), "alphanet-inputsets-"));
  const settings = { windows: [5, 10], standardize: false };
  const v4 = buildFeatureStore(p, root, settings);
  for (const [set, names] of [["v1", V1_INPUT_NAMES], ["v2", V2_INPUT_NAMES]] as const) {
    const n = names.length;
    const F = ((n * (n - 1)) / 2) * 2 + 4 * n;
    assert.equal(featureCount(n), F);
    const store = buildFeatureStore(p, root, { ...settings, inputs: set });
    assert.notEqual(store.meta.key, v4.meta.key);
    assert.equal(store.meta.settings.inputs, set);
    assert.equal(storeFeatureCount(store), F);
    const fnames = store.meta.names["10"];
    assert.equal(fnames.length, F);
    assert.equal(new Set(fnames).size, F);
    assert.equal(fnames[0], `ts_corr(${names[0]},${names[1]},10)`);
    assert.equal(fnames[n * (n - 1) / 2], `ts_cov(${names[0]},${names[1]},10)`);
    assert.equal(fnames[n * (n - 1)], `ts_stddev(${names[0]},10)`);
    assert.equal(fnames.at(-1), `ts_decaylinear(${names.at(-1)},10)`);
    // Built once: a second build opens it.
    assert.equal(buildFeatureStore(p, root, { ...settings, inputs: set }).meta.seconds, store.meta.seconds);
    const panel = readFeaturePanel(store, 10);
    assert.equal(panel.columns.length, F);
    const x = computeInputs(p, set).values;
    for (const s of [0, 2, 3]) {
      const out = new Float64Array(D * F);
      const valid = new Uint8Array(D);
      extractStock(x.map((v) => v.row(s).slice()), D, 10, out, valid);
      for (let t = 0; t < D; t++) {
        assert.equal(panel.valid[s * D + t], valid[t], `${set} stock ${s} day ${t}`);
        for (let f = 0; f < F; f++) assert.equal(panel.values[(s * D + t) * F + f], Math.fround(out[t * F + f]));
      }
    }
    // Scaled per date as V4's are: z-scores clipped to +-5.
    const z = readFeaturePanel(buildFeatureStore(p, root, { windows: [10], standardize: true, inputs: set }), 10, [0, F - 1]);
    assert.ok(z.values.every((v) => Number.isFinite(v) && Math.abs(v) <= 5));
  }
});

/** sha256 of a store's data files (every window's features, validity and statistics). */
function contentHash(dir: string, windows: number[]): string {
  const h = createHash("sha256");
  for (const d of windows) for (const ext of ["f32", "valid", "stats"]) h.update(readFileSync(join(dir, `d${d}.${ext}`)));
  return h.digest("hex");
}

test("V4's feature store keeps the cache key and the content it had before input sets", () => {
  const root = mkdtempSync(join(tmpdir(), "alphanet-v4key-"));
  // These values pin the cache key (and the bytes) of V4's store: they were computed by the code
  // before input sets existed (commit f8f5c2f). A change here orphans every existing feature cache
  // and may change every run's metrics; change them only on purpose (with FEATURE_VERSION).
  const pins = [
    { panel: handPanel(true), winsorize: 0, key: "3997c3d568a097c468c498e0", content: "61cbe4f030e543f657e6f9cf126e3268b4d713b15dbad21f4292cd70e7a2c9c6" },
    { panel: handPanel(false), winsorize: 3, key: "b44609d9f5019651778a9fc8", content: "1455e013bb80691a292d24a4be91613f6aa1eb47a994855608713f9da52b6537" },
  ];
  for (const { panel, winsorize, key, content } of pins) {
    const settings = { windows: [2, 5, 10], standardize: true, winsorize };
    const store = buildFeatureStore(panel, root, settings);
    assert.equal(store.meta.key, key);
    assert.equal(store.meta.settings.inputs, undefined);
    assert.equal(contentHash(store.dir, settings.windows), content);
    // Naming V4's inputs is the same store.
    assert.equal(buildFeatureStore(panel, root, { ...settings, inputs: "v4" }).dir, store.dir);
  }
});
