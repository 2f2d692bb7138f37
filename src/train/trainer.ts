/**
 * The paper's training protocol (DESIGN.md section 7): Adam with the learning rate decaying from
 * 1e-3 to 1e-7 over at most 90 epochs; the loss is the weighted MSE between the neutralised target
 * and the batch-neutralised prediction (formula 3-3) with long-sample weights (formula 3-8, in a
 * well-defined form; both in loss.ts); after every epoch the validation predictions are
 * backtested and training stops when the validation Sharpe ratio has not improved for `patience`
 * epochs, restoring the best weights ("sharp" early stopping). A checkpoint after every epoch
 * lets an interrupted run resume to the same final weights.
 */
import { join } from "node:path";
import { Tensor, cat, keep, loadSafetensors, manualSeed, noGrad, optim, scope, tensor } from "../engine/index.js";
import { type Grid, Rng } from "../data/index.js";
import { type FeaturePanel, type ImageSpec, type Sample, gatherImages } from "../features/index.js";
import type { AlphaNet } from "../models/index.js";
import { type Projection, residualOf } from "../risk/index.js";
import type { SampleSet } from "../dataset/index.js";
import { pearson } from "../evaluate/index.js";
import { type ProjectionTensors, batchLoss, projectionTensors } from "./loss.js";
import { DEFAULT_TRAIN, type EpochLog, type TrainOptions, dateStrideOf } from "./options.js";
import { type CheckpointState, checkpointMade, resumableCheckpoint, saveCheckpoint } from "./checkpoint.js";

export interface TrainData {
  specs: ImageSpec[];
  /** Feature panels by window d, with the model's columns. */
  panels: Map<number, FeaturePanel>;
  train: SampleSet;
  valid: SampleSet;
  /** The fitting target per (stock, date): the neutralised, standardised label. */
  target: Grid;
  /** The raw forward return, for the validation backtest. */
  forward: Grid;
  horizon: number;
  /** The neutralisation projection of a date's samples. */
  projection: (date: number, samples: Sample[]) => Projection;
}

export interface TrainResult {
  log: EpochLog[];
  bestEpoch: number;
  bestSharpe: number;
  seconds: number;
}

const gatherBuffers = new WeakMap<FeaturePanel, Float32Array<ArrayBuffer>>();

/** Builds the model's input tensors for samples. */
export function imagesFor(data: Pick<TrainData, "specs" | "panels">, samples: Sample[]): Tensor[] {
  return data.specs.map((sp) => {
    const p = data.panels.get(sp.d)!;
    // Gathered into a buffer kept per panel, then copied into torch: a fresh 4 MB array per image
    // and step cost more in page faults than the gather itself (a view of torch memory would pin
    // the tensor until the next garbage collection, the same cost).
    const n = samples.length * sp.T * p.columns.length;
    let buf = gatherBuffers.get(p);
    if (!buf || buf.length < n) gatherBuffers.set(p, (buf = new Float32Array(n)));
    return tensor(gatherImages(p, samples, sp.T, sp.step, buf.subarray(0, n)), [samples.length, sp.T, p.columns.length]);
  });
}

/** Predicts samples in eval mode, in chunks. */
export function predict(model: AlphaNet, data: Pick<TrainData, "specs" | "panels">, samples: Sample[], chunk = 2048): Float64Array {
  const out = new Float64Array(samples.length);
  const wasTraining = model.training;
  model.eval();
  noGrad(() => {
    for (let i = 0; i < samples.length; i += chunk) {
      scope(() => {
        const part = samples.slice(i, i + chunk);
        const y = model.forward(imagesFor(data, part));
        out.set(y.toList(), i);
      });
    }
  });
  model.train(wasTraining);
  return out;
}

/**
 * Predictions of a sample set neutralised date by date, in float64: p - left (right p), the
 * projection the loss applies to a batch (loss.ts's neutralizeTensor).
 */
export function neutralizeByDate(pred: Float64Array, set: SampleSet, projections: Projection[]): Float64Array {
  const out = new Float64Array(pred.length);
  set.dates.forEach((g, j) => out.set(residualOf(projections[j], pred.subarray(g.from, g.to)), g.from));
  return out;
}

/**
 * The validation backtest: on every validation date, the top fifth of stocks by prediction, held
 * for the label horizon (vwap t + 1 to t + 1 + h), minus the equal-weighted average; the Sharpe
 * ratio of that excess return, annualised with sqrt(252 / h). Also the mean IC against the target.
 * With `projections` (one per date of `set`), the neutralised prediction is scored (factor: neutral).
 */
export function validationScore(pred: Float64Array, set: SampleSet, target: Grid, forward: Grid,
  horizon: number, projections?: Projection[]): { ic: number; sharpe: number } {
  if (projections) pred = neutralizeByDate(pred, set, projections);
  const ics: number[] = [];
  const ex: number[] = [];
  for (const g of set.dates) {
    const idx = Array.from({ length: g.to - g.from }, (_, i) => g.from + i);
    const p = idx.map((i) => pred[i]);
    const keys = idx.map((i) => target.index(set.samples[i].stock, set.samples[i].date));
    const ic = pearson(p, keys.map((k) => target.values[k]));
    ics.push(Number.isFinite(ic) ? ic : 0);
    const order = idx.map((_, j) => j).sort((a, b) => p[b] - p[a]);
    const top = order.slice(0, Math.max(1, Math.floor(order.length / 5)));
    const all = keys.map((k) => forward.values[k]);
    const mean = all.reduce((a, b) => a + b, 0) / all.length;
    ex.push(top.reduce((a, j) => a + all[j], 0) / top.length - mean);
  }
  const m = ex.reduce((a, b) => a + b, 0) / Math.max(1, ex.length);
  const sd = Math.sqrt(ex.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, ex.length - 1));
  return { ic: ics.reduce((a, b) => a + b, 0) / Math.max(1, ics.length), sharpe: sd > 0 ? (m / sd) * Math.sqrt(252 / horizon) : 0 };
}

/** The dates at positions offset, offset + n, ... of a sample set (the samples shared, not copied). */
function everyNthDate(set: SampleSet, n: number, offset: number): SampleSet {
  return { samples: set.samples, dates: set.dates.filter((_, i) => i % n === offset), excluded: set.excluded };
}

/** Whole dates per batch, until at least minBatch samples. */
function batchesOf(set: SampleSet, minBatch: number, rng: Rng): SampleSet["dates"][] {
  const order = set.dates.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const out: SampleSet["dates"][] = [];
  let cur: SampleSet["dates"] = [];
  let n = 0;
  for (const i of order) {
    cur.push(set.dates[i]);
    n += set.dates[i].to - set.dates[i].from;
    if (n >= minBatch) { out.push(cur); cur = []; n = 0; }
  }
  if (cur.length) out.push(cur);
  return out;
}

export function trainModel(model: AlphaNet, data: TrainData, options: Partial<TrainOptions> = {}): TrainResult {
  const o = { ...DEFAULT_TRAIN, ...options };
  const t0 = process.hrtime.bigint();
  const opt = new optim.Adam(model.parameters(), { lr: o.lrStart, weightDecay: o.weightDecay });
  const schedule = new optim.ExponentialDecay(o.lrStart, o.lrEnd, o.lrEpochs);
  let best = new Map<string, Tensor>([...model.stateDict()].map(([k, v]) => [k, keep(v.clone())]));
  const made = checkpointMade(o);
  let st: CheckpointState = { epoch: 0, bestEpoch: -1, bestSharpe: -Infinity, log: [], step: 0, lr: o.lrStart, stale: 0, done: false, made };
  const saved = o.checkpointDir && o.resume ? resumableCheckpoint(o.checkpointDir, made) : null;
  if (o.checkpointDir && saved) {
    st = { ...saved, made };
    model.loadStateDict(loadSafetensors(join(o.checkpointDir, "model.safetensors")).tensors);
    for (const t of best.values()) t.dispose();
    best = loadSafetensors(join(o.checkpointDir, "best.safetensors")).tensors;
    opt.loadStateDict({ step: st.step, lr: st.lr, tensors: loadSafetensors(join(o.checkpointDir, "optimizer.safetensors")).tensors });
  }
  // Neutralisation projections, one per training date of an epoch (kept for all epochs when every
  // epoch has the same dates).
  const H = new Map<number, ProjectionTensors>();
  const dropProjections = (): void => {
    for (const P of H.values()) (P.left.dispose(), P.right.dispose());
    H.clear();
  };
  const projectionsFor = (set: SampleSet): void => {
    dropProjections();
    for (const g of set.dates) {
      const P = projectionTensors(data.projection(g.date, set.samples.slice(g.from, g.to)));
      H.set(g.date, { left: keep(P.left), right: keep(P.right) });
    }
  };
  const stride = dateStrideOf(o);
  if (stride === 1) projectionsFor(data.train);
  // Early stopping on the neutralised factor: the validation dates' projections, made once.
  const validProjections = o.factor === "neutral"
    ? data.valid.dates.map((g) => data.projection(g.date, data.valid.samples.slice(g.from, g.to))) : undefined;
  let batchesDone = 0;
  for (let epoch = st.epoch; epoch < o.maxEpochs && !st.done; epoch++) {
    const e0 = process.hrtime.bigint();
    // Every epoch's randomness follows from (seed, epoch): a resumed run replays it exactly.
    manualSeed(o.seed * 1000 + epoch + 1);
    const rng = new Rng(o.seed * 1000 + epoch + 1);
    opt.lr = schedule.lr(epoch);
    model.train();
    const trainSet = stride === 1 ? data.train : everyNthDate(data.train, stride, epoch % stride);
    if (stride > 1) projectionsFor(trainSet);
    const batches = batchesOf(trainSet, o.minBatch, rng);
    let lossSum = 0;
    let samplesSeen = 0;
    batches.forEach((groups, b) => {
      scope(() => {
        const samples = groups.flatMap((g) => trainSet.samples.slice(g.from, g.to));
        const y = samples.map((s) => data.target.at(s.stock, s.date));
        opt.zeroGrad();
        const pred = model.forward(imagesFor(data, samples));
        const loss = batchLoss(pred, y, groups.map((g) => ({ n: g.to - g.from, projection: H.get(g.date)! })), o.longWeight);
        loss.backward();
        opt.step();
        lossSum += loss.item() * samples.length;
        samplesSeen += samples.length;
      });
      batchesDone++;
      o.onProgress?.(b + 1, batches.length);
      if (o.crashAfterBatches !== undefined && batchesDone >= o.crashAfterBatches) throw new Error("simulated crash");
    });
    const score = o.keepLast && !data.valid.dates.length
      ? { ic: NaN, sharpe: NaN }
      : validationScore(predict(model, data, data.valid.samples), data.valid, data.target, data.forward, data.horizon, validProjections);
    const entry: EpochLog = {
      epoch, loss: lossSum / Math.max(1, samplesSeen), validIc: score.ic, validSharpe: score.sharpe,
      lr: opt.lr, seconds: Number(process.hrtime.bigint() - e0) / 1e9,
    };
    st.log.push(entry);
    if (o.keepLast) {
      st.bestEpoch = epoch;
    } else if (score.sharpe > st.bestSharpe) {
      st.bestSharpe = score.sharpe;
      st.bestEpoch = epoch;
      st.stale = 0;
      for (const [k, v] of model.stateDict()) best.get(k)!.copy_(v);
    } else if (++st.stale >= o.patience) {
      st.done = true;
    }
    st.epoch = epoch + 1;
    o.onEpoch?.(entry);
    if (o.checkpointDir) saveCheckpoint(o.checkpointDir, model, opt, best, st);
  }
  if (!o.keepLast) model.loadStateDict(best);
  for (const t of best.values()) t.dispose();
  dropProjections();
  opt.dispose();
  return { log: st.log, bestEpoch: st.bestEpoch, bestSharpe: st.bestSharpe, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

