/**
 * The cross-sectional regression of CNE5: per date, weighted least squares (weights sqrt(cap)) of
 * returns on a country factor, industry dummies and style exposures, with the industry factor
 * returns constrained to a cap-weighted sum of zero (which makes the country factor the cap-weighted
 * market). Robust to empty industries (left out, return 0), collinear exposures (ridge fallback)
 * and small cross-sections (styles dropped first, then industries, with a warning).
 */
import type { Grid } from "../data/index.js";

export interface CrossSection {
  /** Returns (or predictions) to explain, length n. */
  y: ArrayLike<number>;
  /** Industry index per stock in [0, I), length n. */
  industry: ArrayLike<number>;
  industries: number;
  /** Style exposures, each of length n. */
  styles: ArrayLike<number>[];
  /** Capitalisation per stock (the regression weight is its square root). */
  cap: ArrayLike<number>;
}

export interface RegressionResult {
  country: number;
  /** Per industry (0 for industries with no stock). */
  industry: Float64Array;
  styles: Float64Array;
  residual: Float64Array;
  warnings: string[];
}

/** Solves the constrained WLS problem through its KKT system. */
export function crossSectionalRegression(c: CrossSection): RegressionResult {
  const n = c.y.length;
  const I = c.industries;
  const warnings: string[] = [];
  const w = Float64Array.from({ length: n }, (_, i) => (Number.isFinite(c.cap[i]) && c.cap[i] > 0 ? Math.sqrt(c.cap[i]) : 0));
  if (w.every((x) => x === 0)) {
    w.fill(1);
    warnings.push("no usable capitalisation: equal weights");
  }
  const capSum = new Float64Array(I);
  const count = new Int32Array(I);
  for (let i = 0; i < n; i++) { capSum[c.industry[i]] += Number.isFinite(c.cap[i]) && c.cap[i] > 0 ? c.cap[i] : 1; count[c.industry[i]]++; }
  let present = [...Array(I).keys()].filter((j) => count[j] > 0);
  let styles = c.styles.filter((st) => {
    let min = Infinity, max = -Infinity;
    for (let i = 0; i < n; i++) { min = Math.min(min, st[i]); max = Math.max(max, st[i]); }
    return max - min > 1e-12;
  });
  if (styles.length < c.styles.length) warnings.push(`${c.styles.length - styles.length} constant style exposure(s) left out`);
  // Small cross-sections: keep the problem over-determined.
  if (n < 1 + present.length + styles.length + 2) {
    styles = [];
    warnings.push(`only ${n} stocks: styles left out`);
  }
  if (n < 1 + present.length + 2) {
    present = [];
    warnings.push(`only ${n} stocks: industries left out`);
  }
  const p = 1 + present.length + styles.length;
  const row = (i: number): number[] => [1, ...present.map((j) => (c.industry[i] === j ? 1 : 0)), ...styles.map((st) => st[i])];
  // KKT: [X'WX c; c' 0] [f; lambda] = [X'Wy; 0], c = cap weights of the industries present.
  const m = present.length ? p + 1 : p;
  const A = new Float64Array(m * m);
  const b = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    const x = row(i);
    for (let a = 0; a < p; a++) {
      b[a] += w[i] * x[a] * c.y[i];
      for (let bb = 0; bb < p; bb++) A[a * m + bb] += w[i] * x[a] * x[bb];
    }
  }
  if (present.length) {
    const total = present.reduce((s, j) => s + capSum[j], 0);
    present.forEach((j, q) => {
      A[(1 + q) * m + p] = capSum[j] / total;
      A[p * m + 1 + q] = capSum[j] / total;
    });
  }
  // The KKT system is indefinite; elimination with partial pivoting handles it.
  const f = solveSymmetric(A, b, m);
  const industry = new Float64Array(I);
  present.forEach((j, q) => (industry[j] = f[1 + q]));
  const styleRet = new Float64Array(c.styles.length);
  styles.forEach((st, q) => (styleRet[c.styles.indexOf(st)] = f[1 + present.length + q]));
  const residual = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = row(i);
    let fit = 0;
    for (let a = 0; a < p; a++) fit += x[a] * f[a];
    residual[i] = c.y[i] - fit;
  }
  return { country: f[0], industry, styles: styleRet, residual, warnings };
}

/**
 * The W-weighted projection onto the exposures' span, H = X (X'WX)^-1 X'W, kept as its two factors
 * `left` = X (X'WX)^-1 (n x p) and `right` = X'W (p x n), row-major: neutralised = y - left (right y).
 * With p (industries + styles, ~40) far below n, that is 2np numbers instead of n^2 (36 MB per date
 * for 3,000 stocks) and 2np operations instead of n^2. The constraint does not change the span
 * (industries sum to the country), so X holds industries and styles without the country column.
 */
export interface Projection {
  n: number;
  p: number;
  left: Float64Array;
  right: Float64Array;
}

export function projection(industry: ArrayLike<number>, styles: ArrayLike<number>[],
  cap: ArrayLike<number>): Projection {
  const n = industry.length;
  const present = [...new Set(Array.from(industry))].sort((a, b) => a - b);
  const usable = styles.filter((st) => {
    let min = Infinity, max = -Infinity;
    for (let i = 0; i < n; i++) { min = Math.min(min, st[i]); max = Math.max(max, st[i]); }
    return max - min > 1e-12;
  });
  const cols = n > present.length + usable.length + 2 ? usable : [];
  const p = present.length + cols.length;
  const X = new Float64Array(n * p);
  for (let i = 0; i < n; i++) {
    X[i * p + present.indexOf(industry[i])] = 1;
    cols.forEach((st, q) => (X[i * p + present.length + q] = st[i]));
  }
  const w = Float64Array.from({ length: n }, (_, i) => (Number.isFinite(cap[i]) && cap[i] > 0 ? Math.sqrt(cap[i]) : 1));
  // G = (X'WX)^-1 via p solves; H = X G X'W
  const XtWX = new Float64Array(p * p);
  for (let i = 0; i < n; i++) for (let a = 0; a < p; a++) {
    const xa = X[i * p + a];
    if (xa === 0) continue;
    for (let bb = 0; bb < p; bb++) XtWX[a * p + bb] += w[i] * xa * X[i * p + bb];
  }
  const G = new Float64Array(p * p);
  for (let col = 0; col < p; col++) {
    const e = new Float64Array(p);
    e[col] = 1;
    const g = solveSymmetric(XtWX, e, p);
    for (let r = 0; r < p; r++) G[r * p + col] = g[r];
  }
  const XG = new Float64Array(n * p);
  for (let i = 0; i < n; i++) for (let a = 0; a < p; a++) {
    let s = 0;
    for (let bb = 0; bb < p; bb++) s += X[i * p + bb] * G[bb * p + a];
    XG[i * p + a] = s;
  }
  const XtW = new Float64Array(p * n);
  for (let i = 0; i < n; i++) for (let a = 0; a < p; a++) XtW[a * n + i] = X[i * p + a] * w[i];
  return { n, p, left: XG, right: XtW };
}

/**
 * The projection of one date's cross-section of `stocks` (indices into the [stocks x dates] arrays):
 * their industries, their style exposures on that date (a missing one as 0) and their caps, the
 * neutralisation the loss applies (formula 3-3). `styles`: the StyleExposures (its values and caps).
 */
export function projectionAt(styles: { values: Grid[]; cap: Grid }, industry: Int32Array, date: number,
  stocks: ArrayLike<number>): Projection {
  const ss = Array.from(stocks);
  return projection(ss.map((s) => industry[s]),
    styles.values.map((v) => ss.map((s) => { const x = v.at(s, date); return Number.isFinite(x) ? x : 0; })),
    ss.map((s) => styles.cap.at(s, date)));
}

/** x - H x in float64: the residual of x (one value per stock of the projection) on its exposures. */
export function residualOf(P: Projection, x: ArrayLike<number>): Float64Array {
  const coef = new Float64Array(P.p);
  for (let a = 0; a < P.p; a++) for (let i = 0; i < P.n; i++) coef[a] += P.right[a * P.n + i] * x[i];
  const out = new Float64Array(P.n);
  for (let i = 0; i < P.n; i++) {
    let fit = 0;
    for (let a = 0; a < P.p; a++) fit += P.left[i * P.p + a] * coef[a];
    out[i] = x[i] - fit;
  }
  return out;
}

/** H itself (n x n, row-major), for checks: left x right. */
export function projectionMatrix(industry: ArrayLike<number>, styles: ArrayLike<number>[],
  cap: ArrayLike<number>): Float64Array {
  const { n, p, left, right } = projection(industry, styles, cap);
  const H = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let a = 0; a < p; a++) s += left[i * p + a] * right[a * n + j];
    H[i * n + j] = s;
  }
  return H;
}

/** Solves A x = b for a symmetric positive semi-definite A (Gaussian elimination, ridge fallback). */
export function solveSymmetric(Ain: Float64Array, bin: Float64Array, n: number): Float64Array {
  let scale = 0;
  for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(Ain[i * n + i]));
  for (const ridge of [0, 1e-12, 1e-9, 1e-6]) {
    const A = Float64Array.from(Ain);
    const b = Float64Array.from(bin);
    for (let i = 0; i < n; i++) A[i * n + i] += ridge * (scale || 1);
    let ok = true;
    for (let c = 0; c < n && ok; c++) {
      let piv = c;
      for (let r = c + 1; r < n; r++) if (Math.abs(A[r * n + c]) > Math.abs(A[piv * n + c])) piv = r;
      if (Math.abs(A[piv * n + c]) <= 1e-13 * (scale || 1)) { ok = false; break; }
      if (piv !== c) {
        for (let j = 0; j < n; j++) [A[c * n + j], A[piv * n + j]] = [A[piv * n + j], A[c * n + j]];
        [b[c], b[piv]] = [b[piv], b[c]];
      }
      for (let r = c + 1; r < n; r++) {
        const f = A[r * n + c] / A[c * n + c];
        if (f === 0) continue;
        for (let j = c; j < n; j++) A[r * n + j] -= f * A[c * n + j];
        b[r] -= f * b[c];
      }
    }
    if (!ok) continue;
    const x = new Float64Array(n);
    for (let r = n - 1; r >= 0; r--) {
      let s = b[r];
      for (let j = r + 1; j < n; j++) s -= A[r * n + j] * x[j];
      x[r] = s / A[r * n + r];
    }
    if (x.every(Number.isFinite)) return x;
  }
  return new Float64Array(n);
}
