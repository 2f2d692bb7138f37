import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng, syntheticMarket } from "../../src/data/index.js";
import { classicFactors } from "../../src/features/index.js";
import { gram, ridgeSolve } from "../../src/train/index.js";

/** (A + c I) x = b by Gauss-Jordan elimination with partial pivoting, float64, no shortcuts. */
function naiveSolve(A: number[][], b: number[], c: number): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row.map((v, j) => v + (i === j ? c : 0)), b[i]]);
  for (let col = 0; col < n; col++) {
    let piv = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(M[r][col]) > Math.abs(M[piv][col])) piv = r;
    [M[col], M[piv]] = [M[piv], M[col]];
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = M[r][col] / M[col][col];
      for (let j = col; j <= n; j++) M[r][j] -= f * M[col][j];
    }
  }
  return M.map((row, i) => row[n] / row[i]);
}

test("ridge: the closed form equals a naive float64 solve of (X'X + lambda n I) b = X'y, and its gradient is zero", () => {
  const rng = new Rng(21);
  for (const [n, K, lambda] of [[40, 5, 0.1], [200, 12, 0.01], [30, 8, 10]] as const) {
    const X = Float64Array.from({ length: n * K }, () => rng.normal());
    const y = Float64Array.from({ length: n }, (_, i) => X[i * K] * 0.5 - X[i * K + 1] + rng.normal());
    const { XtX, Xty } = gram(X, y, n, K);
    const beta = ridgeSolve(XtX, Xty, n, K, lambda);
    const A = Array.from({ length: K }, (_, a) => Array.from({ length: K }, (_, c) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += X[i * K + a] * X[i * K + c];
      return s;
    }));
    const b = Array.from({ length: K }, (_, a) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += X[i * K + a] * y[i];
      return s;
    });
    const want = naiveSolve(A, b, lambda * n);
    for (let j = 0; j < K; j++) assert.ok(Math.abs(beta[j] - want[j]) < 1e-10 * (1 + Math.abs(want[j])), `n ${n} K ${K}: b${j} ${beta[j]} vs ${want[j]}`);
    // Optimality: X'(y - X b) = lambda n b.
    for (let a = 0; a < K; a++) {
      let g = 0;
      for (let i = 0; i < n; i++) {
        let fit = 0;
        for (let c = 0; c < K; c++) fit += X[i * K + c] * beta[c];
        g += X[i * K + a] * (y[i] - fit);
      }
      assert.ok(Math.abs(g - lambda * n * beta[a]) < 1e-8 * n, `gradient ${a}: ${g} vs ${lambda * n * beta[a]}`);
    }
  }
});

test("classic factors equal their formulas, computed by hand on one stock, and use nothing after their date", () => {
  const m = syntheticMarket({ stocks: 20, start: "2018-01-01", end: "2019-06-30", seed: 3 });
  const p = m.panel;
  const D = p.calendar.length;
  const [rev, vol, relVol] = classicFactors(p);
  const close = p.fields.close!, volume = p.fields.volume!;
  // The stock with the fewest missing bars (synthetic stocks have suspensions).
  const missing = (k: number): number => Array.from({ length: D }, (_, d) => volume[k * D + d]).filter(Number.isNaN).length;
  const s = [...Array(20).keys()].sort((a, b) => missing(a) - missing(b))[0], o = s * D;
  // Equal as numbers, or both undefined (a window with a missing bar is not a full window).
  const same = (a: number, b: number): boolean => (Number.isNaN(a) && Number.isNaN(b)) || Math.abs(a - b) < 1e-12;
  let checked = 0;
  for (const d of [20, 61, 100, 260, 300, D - 1]) {
    if (!Number.isFinite(close[o + d]) || !Number.isFinite(close[o + d - 20])) continue;
    assert.ok(same(rev.values.at(s, d), -(close[o + d] / close[o + d - 20] - 1)), `reversal at ${d}`);
    const r = Array.from({ length: 20 }, (_, i) => close[o + d - 19 + i] / close[o + d - 20 + i] - 1);
    const mean = r.reduce((a, b) => a + b, 0) / 20;
    const sd = Math.sqrt(r.reduce((a, x) => a + (x - mean) ** 2, 0) / 19);
    assert.ok(same(vol.values.at(s, d), -sd), `low volatility at ${d}`);
    if (d >= 249) {
      const avg = (n: number): number => Array.from({ length: n }, (_, i) => volume[o + d - i]).reduce((a, b) => a + b, 0) / n;
      assert.ok(same(relVol.values.at(s, d), -(avg(20) / avg(250))), `relative volume at ${d}`);
      if (Number.isFinite(relVol.values.at(s, d))) checked++;
    } else assert.ok(Number.isNaN(relVol.values.at(s, d)), "no 250-day history: undefined");
    if (Number.isFinite(vol.values.at(s, d))) checked++;
  }
  assert.ok(checked >= 4, "most cases are defined values, not NaN = NaN");
  // No look-ahead: changing the last date's bars changes no earlier value.
  const changed = { ...p, fields: { ...p.fields, close: close.slice(), volume: volume.slice() } };
  for (let k = 0; k < 20; k++) (changed.fields.close[k * D + D - 1] *= 3), (changed.fields.volume[k * D + D - 1] *= 5);
  classicFactors(changed).forEach((f, i) => {
    const before = [rev, vol, relVol][i].values;
    for (let k = 0; k < 20; k++) for (let d = 0; d < D - 1; d++) assert.ok(Object.is(f.values.at(k, d), before.at(k, d)), `${f.name} at ${d}`);
  });
});
