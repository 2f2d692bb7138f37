/**
 * The linear reference row of table 1-1: ridge regression on the same K features at the last step
 * (the d = 10 panel on the prediction date, Spearman-selected as the networks' are), the same
 * samples, the same target and the same neutralisation as formula 3-3 — the loss compares the
 * neutralised prediction with the neutralised target, so the ridge regresses the neutralised
 * target on the neutralised features, date by date. The penalty is chosen on the validation tail
 * by the networks' own early-stopping score (the validation Sharpe). Closed form, float64.
 */
import { type RollingWindow, type SampleSet, buildSamples } from "../dataset/index.js";
import { imageSpecs } from "../models/index.js";
import { projectionAt, residualOf } from "../risk/index.js";
import type { Grid } from "../data/index.js";
import { type PanelCache, type PipelineData, type RollingOptions, type WindowOutcome, cellsOf } from "./window.js";
import type { EpochLog } from "./options.js";
import { validationScore } from "./trainer.js";

/** Penalties tried, as multiples of the mean diagonal of X'X / n (features are standardised: about 1). */
export const RIDGE_PENALTIES = [0.01, 0.1, 1, 10, 100];

/** The normal equations' parts X'X (K x K) and X'y of rows X (n x K, row-major). */
export function gram(X: Float64Array, y: Float64Array, n: number, K: number): { XtX: Float64Array; Xty: Float64Array } {
  const XtX = new Float64Array(K * K);
  const Xty = new Float64Array(K);
  for (let i = 0; i < n; i++) {
    const row = i * K;
    const yi = y[i];
    for (let a = 0; a < K; a++) {
      const xa = X[row + a];
      if (xa === 0) continue;
      Xty[a] += xa * yi;
      for (let c = a; c < K; c++) XtX[a * K + c] += xa * X[row + c];
    }
  }
  for (let a = 0; a < K; a++) for (let c = 0; c < a; c++) XtX[a * K + c] = XtX[c * K + a];
  return { XtX, Xty };
}

/**
 * The ridge coefficients minimising ||y - X b||^2 + lambda * n * ||b||^2, from X'X and X'y, by
 * Cholesky on X'X + lambda n I (positive definite for lambda > 0).
 */
export function ridgeSolve(XtX: Float64Array, Xty: Float64Array, n: number, K: number, lambda: number): Float64Array {
  const L = new Float64Array(K * K);
  for (let i = 0; i < K; i++) {
    for (let j = 0; j <= i; j++) {
      let s = XtX[i * K + j] + (i === j ? lambda * n : 0);
      for (let k = 0; k < j; k++) s -= L[i * K + k] * L[j * K + k];
      L[i * K + j] = i === j ? Math.sqrt(Math.max(s, 1e-300)) : s / L[j * K + j];
    }
  }
  const z = new Float64Array(K);
  for (let i = 0; i < K; i++) {
    let s = Xty[i];
    for (let k = 0; k < i; k++) s -= L[i * K + k] * z[k];
    z[i] = s / L[i * K + i];
  }
  const beta = new Float64Array(K);
  for (let i = K - 1; i >= 0; i--) {
    let s = z[i];
    for (let k = i + 1; k < K; k++) s -= L[k * K + i] * beta[k];
    beta[i] = s / L[i * K + i];
  }
  return beta;
}

/**
 * X (the features at the samples' dates) and y (the target), each column neutralised per date with
 * the loss's projection when `data` is given.
 */
function design(set: SampleSet, values: Float32Array, K: number, target: Grid,
  data: PipelineData | null): { X: Float64Array; y: Float64Array } {
  const n = set.samples.length;
  const X = new Float64Array(n * K);
  const y = new Float64Array(n);
  for (const g of set.dates) {
    const m = g.to - g.from;
    const samples = set.samples.slice(g.from, g.to);
    let cols: Float64Array[] = Array.from({ length: K + 1 }, () => new Float64Array(m));
    samples.forEach((s, i) => {
      const k = target.index(s.stock, s.date);
      for (let j = 0; j < K; j++) cols[j][i] = values[k * K + j];
      cols[K][i] = target.values[k];
    });
    if (data) {
      const P = projectionAt(data.styles, data.industries.index, g.date, samples.map((s) => s.stock));
      cols = cols.map((c) => residualOf(P, c));
    }
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < K; j++) X[(g.from + i) * K + j] = cols[j][i];
      y[g.from + i] = cols[K][i];
    }
  }
  return { X, y };
}

/** The prediction X beta for every row of X. */
function predictRows(X: Float64Array, beta: Float64Array, n: number, K: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < K; j++) s += X[i * K + j] * beta[j];
    out[i] = s;
  }
  return out;
}

/** One window of the ridge row, shaped as a network's window (so the run stitches and evaluates it alike). */
export function ridgeWindow(data: PipelineData, w: RollingWindow, cache: PanelCache, o: RollingOptions): WindowOutcome {
  const t0 = process.hrtime.bigint();
  const { panel } = data;
  const specs = imageSpecs({ kind: "v4" }); // the samples V4 may take
  const sel = cache.selection(panel.calendar, w, o.seed ?? 0, o.spearmanThreshold);
  const panels = new Map(specs.map((sp) => [sp.d, cache.get(sp.d, sel.kept)]));
  const p10 = panels.get(10)!;
  const K = p10.columns.length;
  const mk = (range: RollingWindow["train"], step: number, requireLabel: boolean): SampleSet =>
    buildSamples(panel, panels, specs, data.labels.standardized, range, { step, minListingDays: o.minListingDays, requireLabel });
  const train = mk(w.train, o.sampleStep, true);
  const valid = mk(w.valid, 1, true);
  const test = mk(w.test, 1, false);
  const tr = design(train, p10.values, K, data.labels.standardized, data);
  const va = design(valid, p10.values, K, data.labels.standardized, null);
  const { XtX, Xty } = gram(tr.X, tr.y, train.samples.length, K);
  let best: { lambda: number; sharpe: number; beta: Float64Array } = { lambda: RIDGE_PENALTIES[0], sharpe: -Infinity, beta: new Float64Array(K) };
  const log: EpochLog[] = []; // one entry per penalty tried: no training loss, no learning rate
  for (const lambda of RIDGE_PENALTIES) {
    const beta = ridgeSolve(XtX, Xty, train.samples.length, K, lambda);
    const score = validationScore(predictRows(va.X, beta, valid.samples.length, K), valid, data.labels.standardized,
      data.labels.raw, data.labels.horizon);
    log.push({ epoch: log.length, loss: NaN, validIc: score.ic, validSharpe: score.sharpe, lr: 0, seconds: 0 });
    if (score.sharpe > best.sharpe) best = { lambda, sharpe: score.sharpe, beta };
  }
  const te = design(test, p10.values, K, data.labels.standardized, null);
  const values = predictRows(te.X, best.beta, test.samples.length, K);
  const featureNames = data.store.meta.names["10"];
  return {
    result: {
      window: w.name,
      selection: { kept: K, names: sel.kept.map((f) => featureNames[f]), dropped: [] },
      samples: { train: train.samples.length, valid: valid.samples.length, test: test.samples.length, excluded: train.excluded },
      log, bestEpoch: RIDGE_PENALTIES.indexOf(best.lambda), penalty: best.lambda, seconds: Number(process.hrtime.bigint() - t0) / 1e9,
    },
    cells: cellsOf(test.samples, data.labels.raw), values, columns: sel.kept, significance: null,
  };
}
