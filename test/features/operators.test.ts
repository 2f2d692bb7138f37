import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/data/index.js";
import { FEATURES, N_FEATURES, N_INPUTS, PAIRS, extractStock, featureName, tsMax, tsMean, tsMin } from "../../src/features/index.js";

/** Random inputs with NaNs, constant stretches and zeros. */
function nastyInputs(D: number, seed: number): Float64Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: N_INPUTS }, (_, i) => {
    const x = Float64Array.from({ length: D }, () => (i % 3 === 0 ? 1e6 : 1) * (0.5 + rng.uniform()));
    for (let t = 0; t < D; t++) {
      const u = rng.uniform();
      if (u < 0.0015) x[t] = NaN;
      else if (u < 0.05) x[t] = 0;
      else if (u < 0.1 && t > 0) x[t] = x[t - 1]; // constant stretches
    }
    if (i === 5) x.fill(3, 40, 70); // a long constant stretch: zero variance
    return x;
  });
}

/** The features of one window by their definitions, in float64, two-pass. */
function naive(x: Float64Array[], t: number, d: number): number[] | null {
  const w = x.map((s) => Array.from(s.subarray(t - d + 1, t + 1)));
  if (w.some((s) => s.some((v) => !Number.isFinite(v)))) return null;
  const mean = w.map((s) => s.reduce((a, b) => a + b, 0) / d);
  const cov = (a: number, b: number): number => w[a].reduce((acc, _, j) => acc + (w[a][j] - mean[a]) * (w[b][j] - mean[b]), 0) / (d - 1);
  const sd = w.map((_, i) => Math.sqrt(cov(i, i)));
  const out: number[] = [];
  for (const [i, j] of PAIRS) out.push(sd[i] > 0 && sd[j] > 0 ? cov(i, j) / (sd[i] * sd[j]) : 0);
  for (const [i, j] of PAIRS) out.push(cov(i, j));
  for (let i = 0; i < N_INPUTS; i++) out.push(sd[i]);
  for (let i = 0; i < N_INPUTS; i++) out.push(sd[i] > 0 ? mean[i] / sd[i] : 0);
  for (let i = 0; i < N_INPUTS; i++) out.push(w[i][0] !== 0 ? w[i][d - 1] / w[i][0] - 1 : 0);
  for (let i = 0; i < N_INPUTS; i++) out.push(w[i].reduce((acc, v, j) => acc + ((j + 1) * v) / ((d * (d + 1)) / 2), 0));
  return out;
}

test("every operator equals a float64 loop on windows with NaNs, constant stretches and zeros", () => {
  const D = 120;
  let masked = 0;
  for (const d of [2, 5, 10, 20]) {
    for (let seed = 1; seed <= 3; seed++) {
      const x = nastyInputs(D, seed * 10 + d);
      const out = new Float64Array(D * N_FEATURES);
      const valid = new Uint8Array(D);
      extractStock(x, D, d, out, valid);
      let checked = 0;
      for (let t = d - 1; t < D; t++) {
        const want = naive(x, t, d);
        const got = out.subarray(t * N_FEATURES, (t + 1) * N_FEATURES);
        assert.ok(got.every(Number.isFinite), `no NaN or Inf leaves the operators (d ${d}, t ${t})`);
        if (!want) {
          masked++;
          assert.equal(valid[t], 0);
          assert.ok(got.every((v) => v === 0));
          continue;
        }
        assert.equal(valid[t], 1);
        for (let f = 0; f < N_FEATURES; f++) {
          const tol = 1e-6 * Math.max(Math.abs(want[f]), 1e-9 * (FEATURES[f].operator === "ts_cov" ? 1e12 : 1));
          assert.ok(Math.abs(got[f] - want[f]) <= tol || Math.abs(got[f] - want[f]) < 1e-12,
            `${featureName(f, d)} at t=${t}: ${got[f]} vs ${want[f]}`);
        }
        checked++;
      }
      assert.ok(checked > 20, `enough valid windows checked (${checked})`);
    }
  }
  assert.ok(masked > 20, `windows with missing data were exercised (${masked})`);
});

test("features are 2 x 78 + 4 x 13 = 208, in operator order, with readable names", () => {
  assert.equal(N_FEATURES, 208);
  assert.equal(featureName(0, 10), "ts_corr(div_open_close,div_high_close,10)");
  assert.equal(featureName(78, 5), "ts_cov(div_open_close,div_high_close,5)");
  assert.equal(featureName(156 + 3, 20), "ts_stddev(close,20)");
  assert.equal(featureName(207, 10), "ts_decaylinear(div_vwap_close_2,10)");
});

test("stride: V1's d = 10, stride 10 over 30 days gives 3 steps", () => {
  const D = 30;
  const x = nastyInputs(D, 99).map((s) => s.map((v) => (Number.isFinite(v) && v !== 0 ? v : 1)));
  const out = new Float64Array(D * N_FEATURES).fill(NaN);
  const valid = new Uint8Array(D);
  extractStock(x, D, 10, out, valid, 10);
  const rows = Array.from({ length: D }, (_, t) => t).filter((t) => Number.isFinite(out[t * N_FEATURES]));
  assert.deepEqual(rows, [9, 19, 29]);
});

test("pooling operators ts_mean, ts_max and ts_min equal loops", () => {
  const x = [3, 1, 4, 1, 5, 9, 2, 6];
  assert.deepEqual(Array.from(tsMean(x, 3)).slice(2), [8 / 3, 2, 10 / 3, 5, 16 / 3, 17 / 3]);
  assert.deepEqual(Array.from(tsMax(x, 3)).slice(2), [4, 4, 5, 9, 9, 9]);
  assert.deepEqual(Array.from(tsMin(x, 3)).slice(2), [1, 1, 1, 1, 2, 2]);
});
