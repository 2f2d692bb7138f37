/**
 * The feature-extraction operators of the paper's table 3-3 (DESIGN.md section 5), over the
 * window of the last d days ending at t (x_{t-d+1} .. x_t).
 *
 * Conventions, one for all operators:
 * - variance, covariance and standard deviation are sample estimates (divided by d - 1), as in
 *   PyTorch's and pandas' defaults;
 * - ts_zscore(X, d) = mean / stddev (the paper's and Huatai's definition, not (x - mean) / std);
 * - ts_return(X, d) = x_t / x_{t-d+1} - 1; ts_decaylinear weights 1..d normalised to sum 1, the
 *   newest day weighted d;
 * - where a value is undefined it is 0: zero variance (corr, zscore), a zero denominator (return);
 * - a window with any missing input (a suspended or unlisted day) is invalid: every feature of it
 *   is 0 and its mask is 0. No NaN or Inf ever leaves these functions.
 */
import { INPUT_NAMES, N_INPUTS } from "./inputs.js";

/** Input pairs i < j of n inputs (the ts_corr and ts_cov features of each). */
export const pairCount = (n: number): number => (n * (n - 1)) / 2;
/** Features of n inputs: corr and cov of each pair, four single-input operators of each input. */
export const featureCount = (n: number): number => 2 * pairCount(n) + 4 * n;
/** 2 x 78 + 4 x 13 = 208 */
export const N_FEATURES = featureCount(N_INPUTS);
export const OPERATORS = ["ts_corr", "ts_cov", "ts_stddev", "ts_zscore", "ts_return", "ts_decaylinear"] as const;
export type Operator = (typeof OPERATORS)[number];

/** The pairs (i < j) of n inputs in the order of the features: row-major over the upper triangle. */
export function pairsOf(n: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) out.push([i, j]);
  return out;
}
export const PAIRS = pairsOf(N_INPUTS);

export interface FeatureInfo {
  operator: Operator;
  inputs: string[];
}

/** The features of a list of inputs in order: corr pairs, cov pairs, stddev, zscore, return, decaylinear. */
export function featuresOf(names: readonly string[]): FeatureInfo[] {
  const pairs = pairsOf(names.length);
  return [
    ...pairs.map(([i, j]) => ({ operator: "ts_corr" as const, inputs: [names[i], names[j]] })),
    ...pairs.map(([i, j]) => ({ operator: "ts_cov" as const, inputs: [names[i], names[j]] })),
    ...(["ts_stddev", "ts_zscore", "ts_return", "ts_decaylinear"] as const).flatMap((op) => names.map((n) => ({ operator: op, inputs: [n] }))),
  ];
}
/** V4's 208 features. */
export const FEATURES: FeatureInfo[] = featuresOf(INPUT_NAMES);

/** A readable name, e.g. `ts_corr(close,turnover,10)`; `features` default V4's. */
export function featureName(f: number, d: number, features: FeatureInfo[] = FEATURES): string {
  const info = features[f];
  return `${info.operator}(${info.inputs.join(",")},${d})`;
}

/**
 * All F features of one stock for window d at every date t >= d - 1 with (t - (d - 1)) % stride
 * == 0. `x` holds the n inputs of the stock (V4's 13: F = 208), each of length D. Writes
 * out[t * F + f] and valid[t] (1 or 0); rows before d - 1 or off the stride are left as they are.
 */
export function extractStock(x: Float64Array[], D: number, d: number, out: Float32Array | Float64Array,
  valid: Uint8Array, stride = 1): void {
  if (d < 2) throw new RangeError(`window d must be at least 2, got ${d}`);
  const n = x.length;
  const F = featureCount(n);
  const c = new Float64Array(n * d); // centred window values
  const mean = new Float64Array(n);
  const sd = new Float64Array(n);
  const w = new Float64Array(d);
  for (let j = 0; j < d; j++) w[j] = (2 * (j + 1)) / (d * (d + 1));
  // Missing inputs in each window: a running count over all inputs.
  const bad = new Int32Array(D + 1);
  for (let t = 0; t < D; t++) {
    let b = 0;
    for (let i = 0; i < n; i++) if (!Number.isFinite(x[i][t])) b = 1;
    bad[t + 1] = bad[t] + b;
  }
  const inv = 1 / (d - 1);
  const P = pairCount(n);
  for (let t = d - 1; t < D; t += stride) {
    const row = t * F;
    if (bad[t + 1] - bad[t + 1 - d] > 0) {
      out.fill(0, row, row + F);
      valid[t] = 0;
      continue;
    }
    valid[t] = 1;
    const t0 = t - d + 1;
    for (let i = 0; i < n; i++) {
      const xi = x[i];
      let m = 0;
      for (let j = 0; j < d; j++) m += xi[t0 + j];
      m /= d;
      mean[i] = m;
      let v = 0;
      let dec = 0;
      const base = i * d;
      for (let j = 0; j < d; j++) {
        const e = xi[t0 + j] - m;
        c[base + j] = e;
        v += e * e;
        dec += w[j] * xi[t0 + j];
      }
      const s = Math.sqrt(v * inv);
      sd[i] = s;
      out[row + 2 * P + i] = s;
      out[row + 2 * P + n + i] = s > 0 ? m / s : 0;
      const first = xi[t0];
      out[row + 2 * P + 2 * n + i] = first !== 0 ? xi[t] / first - 1 : 0;
      out[row + 2 * P + 3 * n + i] = dec;
    }
    let p = 0;
    for (let i = 0; i < n; i++) {
      const bi = i * d;
      for (let k = i + 1; k < n; k++) {
        const bk = k * d;
        let s = 0;
        for (let j = 0; j < d; j++) s += c[bi + j] * c[bk + j];
        const cov = s * inv;
        const den = sd[i] * sd[k];
        out[row + p] = den > 0 ? Math.max(-1, Math.min(1, cov / den)) : 0;
        out[row + P + p] = cov;
        p++;
      }
    }
  }
}

/** Rolling mean, max and min of a series over the last d values (V1's pooling); NaN-free input. */
export function tsMean(x: ArrayLike<number>, d: number): Float64Array {
  const out = new Float64Array(x.length);
  let s = 0;
  for (let t = 0; t < x.length; t++) {
    s += x[t];
    if (t >= d) s -= x[t - d];
    out[t] = t >= d - 1 ? s / d : NaN;
  }
  return out;
}
export function tsMax(x: ArrayLike<number>, d: number): Float64Array {
  return Float64Array.from({ length: x.length }, (_, t) => (t >= d - 1 ? Math.max(...Array.from({ length: d }, (_, j) => x[t - j])) : NaN));
}
export function tsMin(x: ArrayLike<number>, d: number): Float64Array {
  return Float64Array.from({ length: x.length }, (_, t) => (t >= d - 1 ? Math.min(...Array.from({ length: d }, (_, j) => x[t - j])) : NaN));
}
