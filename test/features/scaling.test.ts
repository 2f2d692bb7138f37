import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Panel, Rng, syntheticMarket } from "../../src/data/index.js";
import { N_FEATURES, buildFeatureStore, readFeaturePanel } from "../../src/features/index.js";
import { median } from "../../src/features/store.js";

const sortedMedian = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

test("median: quickselect equals the sorted middle on random, tied and constant data", () => {
  const rng = new Rng(3);
  for (let trial = 0; trial < 200; trial++) {
    const n = 1 + rng.int(40);
    const v = Array.from({ length: n }, () => (trial % 3 === 0 ? rng.int(4) : trial % 3 === 1 ? 7 : rng.normal()));
    assert.equal(median(Float64Array.from(v), n), sortedMedian(v), `trial ${trial}: ${v}`);
  }
});

function clonePanel(p: Panel): Panel {
  return { ...p, fields: Object.fromEntries(Object.entries(p.fields).map(([k, v]) => [k, v!.slice()])),
    flags: Object.fromEntries(Object.entries(p.flags).map(([k, v]) => [k, v!.slice()])) };
}

test("winsorised scaling equals a float64 reference: median +- k MAD, then the z-score of the clipped values", () => {
  const m = syntheticMarket({ stocks: 40, start: "2019-01-01", end: "2019-05-31", seed: 11 });
  const root = mkdtempSync(join(tmpdir(), "alphanet-scale-"));
  const k = 3;
  const raw = readFeaturePanel(buildFeatureStore(m.panel, root, { windows: [10], standardize: false }), 10);
  const scaled = readFeaturePanel(buildFeatureStore(m.panel, root, { windows: [10], standardize: true, winsorize: k }), 10);
  const { S, D } = raw;
  const rng = new Rng(4);
  let clipped = 0;
  for (let trial = 0; trial < 60; trial++) {
    const t = 20 + rng.int(D - 20);
    const f = rng.int(N_FEATURES);
    const ss = [...Array(S).keys()].filter((s) => raw.valid[s * D + t]);
    const x = ss.map((s) => raw.values[(s * D + t) * N_FEATURES + f]);
    const med = sortedMedian(x);
    const mad = sortedMedian(x.map((v) => Math.abs(v - med)));
    const scale = mad > 0 ? 1.4826 * mad : 1.2533 * x.reduce((a, v) => a + Math.abs(v - med), 0) / x.length;
    const c = x.map((v) => Math.min(med + k * scale, Math.max(med - k * scale, v)));
    clipped += c.filter((v, i) => v !== x[i]).length;
    const mean = c.reduce((a, b) => a + b, 0) / c.length;
    const sd = Math.sqrt(c.reduce((a, v) => a + (v - mean) ** 2, 0) / (c.length - 1));
    ss.forEach((s, i) => {
      const want = sd > 0 ? Math.max(-5, Math.min(5, (c[i] - mean) / sd)) : 0;
      const got = scaled.values[(s * D + t) * N_FEATURES + f];
      assert.ok(Math.abs(got - want) <= 1e-4 * Math.max(1, Math.abs(want)), `t ${t} f ${f} s ${s}: ${got} vs ${want}`);
    });
  }
  assert.ok(clipped > 0, "the cases include clipped values");
});

test("winsorised scaling is leak-free: changing another date's bars leaves a date's scaled features unchanged", () => {
  const m = syntheticMarket({ stocks: 30, start: "2019-01-01", end: "2019-04-30", seed: 12 });
  const D = m.panel.calendar.length;
  const changed = clonePanel(m.panel);
  // An explosion on the last date only: every stock's close x 50 there.
  for (const f of ["close", "vwap", "high"] as const) for (let s = 0; s < 30; s++) changed.fields[f]![s * D + D - 1] *= 50;
  const settings = { windows: [5], standardize: true, winsorize: 5 };
  const a = readFeaturePanel(buildFeatureStore(m.panel, mkdtempSync(join(tmpdir(), "alphanet-leak-")), settings), 5);
  const b = readFeaturePanel(buildFeatureStore(changed, mkdtempSync(join(tmpdir(), "alphanet-leak-")), settings), 5);
  for (let s = 0; s < 30; s++) {
    const before = (x: Float32Array): Float32Array => x.subarray(s * D * N_FEATURES, (s * D + D - 1) * N_FEATURES);
    assert.deepEqual(before(b.values), before(a.values), `stock ${s}: dates before the change`);
  }
  assert.notDeepEqual(b.values, a.values, "the changed date itself differs");
});
