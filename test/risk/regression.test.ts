import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng, SYNTHETIC_QUICK, gridOf, industryIndex, syntheticMarket } from "../../src/data/index.js";
import { crossSectionalRegression, dailyReturns, neutralizePanel, projectionMatrix, solveSymmetric, styleExposures } from "../../src/risk/index.js";
import { pearson } from "../../src/evaluate/index.js";
import { applyMatrix, randomProblem } from "../helpers.js";

/** Closed form: the normal equations with the constraint by substitution, in float64 by hand. */
function closedForm(p: ReturnType<typeof randomProblem>): { f: number[]; resid: number[] } {
  const n = p.y.length, I = p.industries, K = p.styles.length;
  const w = p.cap.map(Math.sqrt);
  const capSum = new Array(I).fill(0);
  p.industry.forEach((j, i) => (capSum[j] += p.cap[i]));
  const tot = capSum.reduce((a, b) => a + b, 0);
  const c = capSum.map((x) => x / tot);
  // f_I-1 = -sum_{j<I-1} c_j f_j / c_{I-1}: free parameters [country, ind_0..ind_{I-2}, styles]
  const q = 1 + (I - 1) + K;
  const row = (i: number): number[] => {
    const r = new Array(q).fill(0);
    r[0] = 1;
    const j = p.industry[i];
    if (j < I - 1) r[1 + j] = 1;
    else for (let a = 0; a < I - 1; a++) r[1 + a] = -c[a] / c[I - 1];
    for (let k = 0; k < K; k++) r[I + k] = p.styles[k][i];
    return r;
  };
  const A = new Float64Array(q * q), b = new Float64Array(q);
  for (let i = 0; i < n; i++) {
    const r = row(i);
    for (let a = 0; a < q; a++) { b[a] += w[i] * r[a] * p.y[i]; for (let bb = 0; bb < q; bb++) A[a * q + bb] += w[i] * r[a] * r[bb]; }
  }
  const g = solveSymmetric(A, b, q);
  const ind = Array.from({ length: I - 1 }, (_, a) => g[1 + a]);
  ind.push(-ind.reduce((s, x, a) => s + c[a] * x, 0) / c[I - 1]);
  const f = [g[0], ...ind, ...Array.from({ length: K }, (_, k) => g[I + k])];
  const resid = p.y.map((yy, i) => yy - f[0] - ind[p.industry[i]] - p.styles.reduce((s, st, k) => s + st[i] * f[1 + I + k], 0));
  return { f, resid };
}

test("the constrained regression equals the closed-form normal equations; residuals are orthogonal to every exposure", () => {
  const rng = new Rng(4);
  for (let trial = 0; trial < 20; trial++) {
    const p = randomProblem(rng, 30 + rng.int(200), 2 + rng.int(8), 1 + rng.int(6));
    const r = crossSectionalRegression(p);
    const ref = closedForm(p);
    const got = [r.country, ...r.industry, ...r.styles];
    got.forEach((x, i) => assert.ok(Math.abs(x - ref.f[i]) < 1e-9 * Math.max(1, Math.abs(ref.f[i])), `factor ${i}: ${x} vs ${ref.f[i]}`));
    r.residual.forEach((x, i) => assert.ok(Math.abs(x - ref.resid[i]) < 1e-12));
    // cap-weighted industry returns sum to zero
    const capSum = new Array(p.industries).fill(0);
    p.industry.forEach((j, i) => (capSum[j] += p.cap[i]));
    assert.ok(Math.abs(r.industry.reduce((s, x, j) => s + x * capSum[j], 0)) < 1e-9 * capSum.reduce((a, b) => a + b, 0));
    // orthogonality in the sqrt(cap) inner product
    const w = p.cap.map(Math.sqrt);
    const dot = (e: number[]): number => e.reduce((s, x, i) => s + w[i] * x * r.residual[i], 0);
    const scale = Math.sqrt(r.residual.reduce((s, x, i) => s + w[i] * x * x, 0) * w.reduce((a, b) => a + b, 0));
    for (let j = 0; j < p.industries; j++) assert.ok(Math.abs(dot(p.industry.map((x) => (x === j ? 1 : 0)))) < 1e-9 * scale);
    for (const st of p.styles) assert.ok(Math.abs(dot(st)) < 1e-9 * scale * 10);
  }
});

test("without the constraint (a single industry) it is plain WLS; the projection matrix agrees", () => {
  const rng = new Rng(9);
  const p = randomProblem(rng, 80, 1, 3);
  const r = crossSectionalRegression(p);
  const Hy = applyMatrix(projectionMatrix(p.industry, p.styles, p.cap), p.y);
  p.y.forEach((y, i) => assert.ok(Math.abs(y - Hy[i] - r.residual[i]) < 1e-12));
  assert.equal(r.industry[0], 0);
});

test("bad cross-sections give defined results and warnings, never NaN", () => {
  const rng = new Rng(1);
  const base = randomProblem(rng, 40, 4, 3);
  // an industry with one stock, all-equal caps, a constant exposure, an empty industry
  const p = { ...base, industry: base.industry.map((j, i) => (i === 0 ? 3 : j === 3 ? 2 : j)), cap: base.cap.map(() => 1e9),
    styles: [...base.styles, base.y.map(() => 1)], industries: 6 };
  const r = crossSectionalRegression(p);
  assert.ok(r.residual.every(Number.isFinite) && r.industry.every(Number.isFinite) && Number.isFinite(r.country));
  assert.equal(r.industry[5], 0, "an empty industry has return 0");
  assert.ok(r.warnings.some((w) => /constant style/.test(w)));
  const tiny = crossSectionalRegression({ ...p, y: p.y.slice(0, 4), industry: p.industry.slice(0, 4), styles: p.styles.map((s) => s.slice(0, 4)), cap: p.cap.slice(0, 4) });
  assert.ok(tiny.residual.every(Number.isFinite));
  assert.ok(tiny.warnings.some((w) => /styles left out|industries left out/.test(w)));
  const zeroCap = crossSectionalRegression({ ...p, cap: p.cap.map(() => 0) });
  assert.ok(zeroCap.residual.every(Number.isFinite) && zeroCap.warnings.some((w) => /equal weights/.test(w)));
});

/** A synthetic market over the quick preset's span, with its style exposures and industries. */
function quickMarket(stocks: number) {
  const m = syntheticMarket({ ...SYNTHETIC_QUICK, stocks });
  const p = m.panel;
  return { m, p, S: p.stocks.length, D: p.calendar.length, styles: styleExposures(p), ind: industryIndex(p) };
}

test("on the synthetic market the regression recovers the generator's market and industry returns (corr > 0.9)", () => {
  const { m, p, S, D, styles, ind: { index } } = quickMarket(400);
  const r = dailyReturns(p).values;
  const estMarket: number[] = [], trueMarket: number[] = [];
  const estInd: number[][] = Array.from({ length: 10 }, () => []), trueInd: number[][] = Array.from({ length: 10 }, () => []);
  for (let d = 260; d < D; d++) {
    const rows: number[] = [];
    for (let s = 0; s < S; s++) { const k = s * D + d; if (Number.isFinite(r[k]) && styles.values.every((v) => Number.isFinite(v.values[k - 1]))) rows.push(k); }
    if (rows.length < 50) continue;
    const res = crossSectionalRegression({ y: rows.map((k) => r[k]), industry: rows.map((k) => index[Math.floor(k / D)]), industries: 10,
      styles: styles.values.map((v) => rows.map((k) => v.values[k - 1])), cap: rows.map((k) => styles.cap.values[k - 1]) });
    // The country factor is the cap-weighted market: the generator's market factor times the mean beta.
    estMarket.push(res.country);
    trueMarket.push(m.truth.market[d]);
    // The constraint makes industry returns relative to their cap-weighted mean: centre the truth alike.
    const capShare = new Array(10).fill(0);
    for (const k of rows) capShare[index[Math.floor(k / D)]] += styles.cap.values[k - 1];
    const tot = capShare.reduce((a, b) => a + b, 0);
    const mean = m.truth.industry.reduce((acc, f, j) => acc + (capShare[j] / tot) * f[d], 0);
    for (let j = 0; j < 10; j++) { estInd[j].push(res.industry[j]); trueInd[j].push(m.truth.industry[j][d] - mean); }
  }
  assert.ok(pearson(estMarket, trueMarket) > 0.9, `market ${pearson(estMarket, trueMarket)}`);
  const ind = estInd.map((e, j) => pearson(e, trueInd[j]));
  assert.ok(ind.every((c) => c > 0.9), `industries ${ind.map((c) => c.toFixed(2))}`);
});

test("neutralizePanel: on every date the residual is orthogonal (weights sqrt cap) to each industry and style, and a pure style tilt vanishes", () => {
  const { S, D, styles, ind } = quickMarket(120);
  const rng = new Rng(3);
  // A factor made of a style tilt plus noise: after neutralisation only the noise's residual remains.
  const size = styles.values[styles.names.indexOf("size")].values;
  const y = Float64Array.from({ length: S * D }, (_, k) => 0.5 * size[k] + 0.1 * rng.normal());
  const { residual: neutral, noExposure } = neutralizePanel(gridOf(y, S, D), styles, ind);
  const residual = neutral.values;
  let dates = 0;
  for (let d = 0; d < D; d++) {
    const rows = Array.from({ length: S }, (_, s) => s * D + d).filter((k) => Number.isFinite(residual[k]));
    if (rows.length < 30) continue;
    dates++;
    const w = rows.map((k) => Math.sqrt(styles.cap.values[k]));
    const scale = Math.sqrt(rows.reduce((a, k, i) => a + w[i] * y[k] ** 2, 0));
    for (const v of styles.values) {
      const dot = rows.reduce((a, k, i) => a + w[i] * residual[k] * v.values[k], 0);
      assert.ok(Math.abs(dot) < 1e-8 * scale * rows.length, `date ${d}: style inner product ${dot}`);
    }
    for (let j = 0; j < ind.names.length; j++) {
      const dot = rows.reduce((a, k, i) => a + (ind.index[Math.floor(k / D)] === j ? w[i] * residual[k] : 0), 0);
      assert.ok(Math.abs(dot) < 1e-8 * scale * rows.length, `date ${d}: industry ${j} inner product ${dot}`);
    }
    assert.ok(Math.abs(pearson(rows.map((k) => residual[k]), rows.map((k) => size[k]))) < 0.2, "the size tilt is gone");
  }
  assert.ok(dates > 100, `${dates} dates checked`);
  // Values without exposures are counted, not silently kept (a naive count: per date, values
  // with a missing exposure, plus every usable value of a date with fewer than 3).
  let undefinedExposure = 0;
  for (let d = 0; d < D; d++) {
    let usable = 0;
    for (let s = 0; s < S; s++) {
      const k = s * D + d;
      if (!Number.isFinite(y[k])) continue;
      if (styles.values.every((v) => Number.isFinite(v.values[k])) && Number.isFinite(styles.cap.values[k])) usable++;
      else undefinedExposure++;
    }
    if (usable < 3) undefinedExposure += usable;
  }
  assert.equal(noExposure, undefinedExposure);
});
