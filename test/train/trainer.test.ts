import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng, gridOf } from "../../src/data/index.js";
import { manualSeed } from "../../src/engine/index.js";
import type { FeaturePanel, ImageSpec, Sample } from "../../src/features/index.js";
import { type AlphaNetV4, type ModelKind, createModel, imageSpecs } from "../../src/models/index.js";
import type { SampleSet } from "../../src/dataset/index.js";
import { type TrainData, type TrainResult, checkpointMade, trainModel } from "../../src/train/index.js";

/** A tiny dataset: S stocks x D dates of K random features, the target a function of the last row. */
function tinyData(kind: ModelKind, S = 24, D = 60, K = 6, seed = 1): TrainData {
  const rng = new Rng(seed);
  const specs: ImageSpec[] = imageSpecs({ kind, v4: { seqLen: 8 } });
  const panels = new Map<number, FeaturePanel>();
  for (const sp of specs) {
    const values = Float32Array.from({ length: S * D * K }, () => rng.normal());
    panels.set(sp.d, { d: sp.d, S, D, columns: Array.from({ length: K }, (_, i) => i), values, valid: new Uint8Array(S * D).fill(1) });
  }
  const primary = panels.get(specs[0].d)!;
  const target = new Float64Array(S * D);
  for (let s = 0; s < S; s++) for (let t = 0; t < D; t++) {
    const row = (s * D + t) * K;
    target[s * D + t] = primary.values[row] - 0.5 * primary.values[row + 1];
  }
  for (let t = 0; t < D; t++) {
    let m = 0;
    for (let s = 0; s < S; s++) m += target[s * D + t] / S;
    for (let s = 0; s < S; s++) target[s * D + t] -= m;
  }
  const set = (from: number, to: number): SampleSet => {
    const samples: Sample[] = [];
    const dates: SampleSet["dates"] = [];
    for (let t = from; t < to; t++) {
      const a = samples.length;
      for (let s = 0; s < S; s++) samples.push({ stock: s, date: t });
      dates.push({ date: t, from: a, to: samples.length });
    }
    return { samples, dates, excluded: {} };
  };
  return {
    specs, panels, train: set(40, 50), valid: set(52, 58), target: gridOf(target, S, D), forward: gridOf(target, S, D), horizon: 1,
    // Neutralisation against the constant only (the real one includes it through the industries):
    // the loss sees demeaned predictions, so V4's Leaky ReLU output can sit on its linear side.
    projection: (_d, samples) => ({ n: samples.length, p: 1, left: new Float64Array(samples.length).fill(1),
      right: new Float64Array(samples.length).fill(1 / samples.length) }),
  };
}

test("a tiny dataset is overfitted to near-zero loss", () => {
  for (const kind of ["v1", "v4"] as ModelKind[]) {
    const data = tinyData(kind);
    data.train = { ...data.train, samples: data.train.samples.slice(0, 48), dates: data.train.dates.slice(0, 2) };
    manualSeed(0);
    const model = createModel(kind === "v4" ? { kind, v4: { seqLen: 8, lstmDropout: 0, transformerDropout: 0 } } : { kind }, 6);
    if (kind === "v1") (model as unknown as { drop: { p: number } }).drop.p = 0;
    const r = trainModel(model, data, { maxEpochs: 800, patience: 1000, lrStart: 3e-3, lrEnd: 3e-3, minBatch: 48, longWeight: 0, seed: 0 });
    const last = r.log.at(-1)!.loss;
    assert.ok(last < 0.02 * r.log[0].loss, `${kind}: loss ${r.log[0].loss} -> ${last}`);
  }
});

test("every parameter of every model receives a gradient", () => {
  for (const kind of ["v1", "v2", "v3", "v4"] as ModelKind[]) {
    const data = tinyData(kind);
    manualSeed(0);
    const model = createModel({ kind, v4: { seqLen: 8 } }, 6);
    trainModel(model, data, { maxEpochs: 1, minBatch: 48, seed: 0 });
    // one more backward pass, then inspect
    const { imagesFor } = tinyImports;
    model.train();
    const y = model.forward(imagesFor(data, data.train.samples.slice(0, 48)));
    y.square().mean().backward();
    for (const [name, p] of model.namedParameters()) {
      const g = p.grad;
      assert.ok(g && g.abs().sum().item() > 0, `${kind}: ${name} has no gradient`);
    }
  }
});

test("the same seed gives the same weights; a crash mid-epoch resumed from the checkpoint ends where an uninterrupted run does", () => {
  const run = (opts: object): number[] => {
    const data = tinyData("v3");
    manualSeed(0);
    const model = createModel({ kind: "v3" }, 6);
    trainModel(model, data, { maxEpochs: 4, patience: 100, minBatch: 48, seed: 3, ...opts });
    return model.parameters().flatMap((p) => p.toList());
  };
  const a = run({});
  const b = run({});
  assert.deepEqual(a, b, "same seed, same weights");
  const dir = mkdtempSync(join(tmpdir(), "alphanet-ckpt-"));
  // 10 dates x 24 stocks in batches of 48: 5 batches an epoch; crash in the middle of epoch 2.
  assert.throws(() => run({ checkpointDir: dir, crashAfterBatches: 12 }), /simulated crash/);
  const resumed = run({ checkpointDir: dir, resume: true });
  assert.deepEqual(resumed, a);
});

test("a checkpoint made with other settings or another record is not continued: the error says what changed", () => {
  const dir = mkdtempSync(join(tmpdir(), "alphanet-ckpt-"));
  const train = (opts: object): TrainResult => {
    manualSeed(0);
    return trainModel(createModel({ kind: "v1" }, 6), tinyData("v1"), { maxEpochs: 2, patience: 100, minBatch: 48, seed: 3, checkpointDir: dir,
      record: { data: "a1", window: { train: ["2019-01-02", "2019-06-28"], valid: ["2019-05-01", "2019-06-28"], test: ["2019-07-01", "2019-12-31"] } }, ...opts });
  };
  const first = train({});
  const state = readFileSync(join(dir, "state.json"), "utf8");
  const stopped = (opts: object, want: RegExp): void => assert.throws(() => train({ resume: true, ...opts }), (e: Error) => {
    assert.equal(e.name, "DataError");
    assert.match(e.message, want);
    return true;
  });
  stopped({ seed: 4 }, new RegExp(`^${dir}: made with seed 3, this run has seed 4; remove --resume`));
  stopped({ maxEpochs: 3, lrEnd: 1e-5 }, /: made with train\.maxEpochs 2, this run has train\.maxEpochs 3; made with train\.lrEnd 1e-7, this run has train\.lrEnd 0\.00001;/);
  stopped({ record: { data: "b2", window: { train: ["2019-01-02", "2019-06-28"], valid: ["2019-05-01", "2019-06-28"], test: ["2019-07-01", "2019-12-31"] } } },
    /: made with other data \(data hash a1, this run's b2\);/);
  stopped({ record: { data: "a1", window: { train: ["2019-01-02", "2019-07-31"], valid: ["2019-06-01", "2019-07-31"], test: ["2019-08-01", "2019-12-31"] } } },
    new RegExp(": made for the window that tests 2019-07-01..2019-12-31 after training on 2019-01-02..2019-06-28 \\(validated on 2019-05-01..2019-06-28\\), " +
      "this run's tests 2019-08-01..2019-12-31 after training on 2019-01-02..2019-07-31 \\(validated on 2019-06-01..2019-07-31\\);"));
  stopped({ record: { data: "a1", window: { train: ["2019-01-02", "2019-06-28"], valid: ["2019-05-01", "2019-06-28"], test: ["2019-07-01", "2019-12-31"] }, selection: [1, 2] } },
    /: made with selection unset, this run has selection \[1,2\];/);
  assert.equal(readFileSync(join(dir, "state.json"), "utf8"), state, "a refused checkpoint is left as it was");
  // Unchanged: the finished checkpoint is continued (nothing left to train) and gives the same log.
  assert.deepEqual(train({ resume: true }).log, first.log);
  // The saved names stay: the epochs' date stride is train.dateStride (sampleStep with rotateDates, else 1), and a
  // checkpoint written before the log's fields were camelCase (valid_ic, valid_sharpe) resumes to the same log.
  const saved = JSON.parse(state) as { made: { train: Record<string, unknown> }; log: Record<string, number>[] };
  assert.equal(saved.made.train.dateStride, 1);
  assert.equal((checkpointMade({ sampleStep: 3, rotateDates: true }).train as { dateStride: number }).dateStride, 3);
  writeFileSync(join(dir, "state.json"), JSON.stringify({ ...saved, log: saved.log.map(({ validIc, validSharpe, ...e }) => ({ ...e, valid_ic: validIc, valid_sharpe: validSharpe })) }));
  assert.deepEqual(train({ resume: true }).log, first.log);
  writeFileSync(join(dir, "state.json"), state.slice(0, 40));
  stopped({}, new RegExp(`^${join(dir, "state.json")}: a damaged checkpoint \\(`));
  writeFileSync(join(dir, "state.json"), JSON.stringify({ ...JSON.parse(state), made: undefined }));
  stopped({}, /: a checkpoint that does not record the data and settings it was made from/);
});

test("rotateDates: epoch e trains on the dates at positions e, e + n, ... (mod n = sampleStep): n epochs cover every date once", () => {
  const data = tinyData("v1");
  const dates = data.train.dates.map((g) => g.date);
  const seen: number[][] = [];
  let current: number[] = [];
  const projection = data.projection;
  data.projection = (d, samples) => (current.push(d), projection(d, samples));
  manualSeed(0);
  const r = trainModel(createModel({ kind: "v1" }, 6), data, {
    maxEpochs: 3, patience: 100, minBatch: 24, seed: 0, sampleStep: 3, rotateDates: true, onEpoch: () => (seen.push(current), (current = [])),
  });
  assert.equal(r.log.length, 3);
  seen.forEach((used, e) => assert.deepEqual(used, dates.filter((_, i) => i % 3 === e), `epoch ${e}`));
  assert.deepEqual(seen.flat().sort((x, y) => x - y), dates);
});

import { imagesFor } from "../../src/train/index.js";
const tinyImports = { imagesFor };

test("V4's attention profile: weights over the T steps that sum to 1; zero scores pool as the mean, exactly as V4 without attention", () => {
  const data = tinyData("v4");
  const images = tinyImports.imagesFor(data, data.train.samples.slice(0, 48));
  manualSeed(3);
  const model = createModel({ kind: "v4", v4: { seqLen: 8 } }, 6) as AlphaNetV4;
  const a = model.attentionProfile(images);
  assert.equal(a.length, 8);
  assert.ok(Math.abs(a.reduce((x, y) => x + y, 0) - 1) < 1e-6 && a.every((x) => x > 0 && x < 1), `${a}`);
  assert.ok(a.some((x) => Math.abs(x - 1 / 8) > 1e-4), "a random model's attention is not uniform");
  assert.ok(model.training, "the profile leaves the model's mode as it was");
  // v = 0: every score is 0, the softmax is 1/T, and the pooled state is the mean over steps.
  model.attV!.weight.detach().mul_(0);
  assert.ok(model.attentionProfile(images).every((x) => Math.abs(x - 1 / 8) < 1e-7));
  manualSeed(3);
  const plain = createModel({ kind: "v4", v4: { seqLen: 8, attention: "mean" } }, 6) as AlphaNetV4;
  plain.loadStateDict(model.stateDict(), { strict: false }); // without attention: no att_w, att_v
  model.eval();
  plain.eval();
  const [p, q] = [model.forward(images).toList(), plain.forward(images).toList()];
  for (let i = 0; i < p.length; i++) assert.ok(Math.abs(p[i] - q[i]) < 1e-5, `sample ${i}: ${p[i]} vs ${q[i]}`);
});

// ---- early stopping reads the configured factor (raw or neutral) ----

import { predict, validationScore } from "../../src/train/index.js";
import { projection as projectionOf } from "../../src/risk/index.js";

/** A naive per-date weighted least squares (industry dummies and styles, weights sqrt(cap)) in float64: the residual. */
function naiveResidual(y: number[], industry: number[], styles: number[][], cap: number[]): number[] {
  const inds = [...new Set(industry)].sort((a, b) => a - b);
  const X = y.map((_, i) => [...inds.map((g) => (industry[i] === g ? 1 : 0)), ...styles.map((st) => st[i])]);
  const p = X[0].length;
  const w = cap.map(Math.sqrt);
  // normal equations (X'WX) b = X'Wy, solved by Gaussian elimination with partial pivoting
  const A = Array.from({ length: p }, (_, a) => [...Array.from({ length: p }, (_, b) => y.reduce((s, _v, i) => s + w[i] * X[i][a] * X[i][b], 0)),
    y.reduce((s, v, i) => s + w[i] * X[i][a] * v, 0)]);
  for (let c = 0; c < p; c++) {
    const piv = A.slice(c).reduce((best, r, j) => (Math.abs(r[c]) > Math.abs(A[best][c]) ? c + j : best), c);
    [A[c], A[piv]] = [A[piv], A[c]];
    for (let r = 0; r < p; r++) if (r !== c) {
      const f = A[r][c] / A[c][c];
      for (let k = c; k <= p; k++) A[r][k] -= f * A[c][k];
    }
  }
  const beta = A.map((r, a) => r[p] / r[a]);
  return y.map((v, i) => v - X[i].reduce((s, x, a) => s + x * beta[a], 0));
}

/** The validation Sharpe of the top fifth, naively: per date, the top fifth's mean forward return minus the mean. */
function naiveSharpe(byDate: { pred: number[]; fwd: number[] }[], horizon: number): number {
  const ex = byDate.map(({ pred, fwd }) => {
    const order = pred.map((_, i) => i).sort((a, b) => pred[b] - pred[a]);
    const top = order.slice(0, Math.max(1, Math.floor(pred.length / 5)));
    return top.reduce((s, i) => s + fwd[i], 0) / top.length - fwd.reduce((s, v) => s + v, 0) / fwd.length;
  });
  const m = ex.reduce((a, b) => a + b, 0) / ex.length;
  const sd = Math.sqrt(ex.reduce((a, b) => a + (b - m) ** 2, 0) / (ex.length - 1));
  return (m / sd) * Math.sqrt(252 / horizon);
}

/** Per-stock industry, and per-(stock, date) style and capitalisation, for a market of S stocks and D dates. */
function riskOf(S: number, D: number, seed: number): { industry: number[]; style: Float64Array; cap: Float64Array } {
  const rng = new Rng(seed);
  return {
    industry: Array.from({ length: S }, (_, s) => s % 3),
    style: Float64Array.from({ length: S * D }, () => rng.normal()),
    cap: Float64Array.from({ length: S * D }, () => Math.exp(rng.normal())),
  };
}

test("validationScore with the loss's projections scores the neutralised prediction (a float64 per-date regression), not the raw one", () => {
  const S = 30, D = 12, rng = new Rng(7);
  const { industry, style, cap } = riskOf(S, D, 8);
  const signal = Float64Array.from({ length: S * D }, () => rng.normal());
  const forward = Float64Array.from(signal, (x) => 0.02 * x + 0.01 * rng.normal());
  const samples: Sample[] = [];
  const dates: SampleSet["dates"] = [];
  for (let d = 0; d < D; d++) {
    dates.push({ date: d, from: samples.length, to: samples.length + S });
    for (let s = 0; s < S; s++) samples.push({ stock: s, date: d });
  }
  const set: SampleSet = { samples, dates, excluded: {} };
  // A large style tilt: the raw prediction ranks by the style, its residual by the signal.
  const pred = Float64Array.from(samples, (x) => 5 * style[x.stock * D + x.date] + 0.3 * signal[x.stock * D + x.date] + industry[x.stock]);
  const projections = dates.map((g) => projectionOf(industry, [Array.from({ length: S }, (_, s) => style[s * D + g.date])],
    Array.from({ length: S }, (_, s) => cap[s * D + g.date])));
  const byDate = (neutral: boolean): { pred: number[]; fwd: number[] }[] => dates.map((g) => {
    const p = Array.from(pred.subarray(g.from, g.to));
    return {
      pred: neutral ? naiveResidual(p, industry, [Array.from({ length: S }, (_, s) => style[s * D + g.date])], Array.from({ length: S }, (_, s) => cap[s * D + g.date])) : p,
      fwd: Array.from({ length: S }, (_, s) => forward[s * D + g.date]),
    };
  });
  const rawRef = naiveSharpe(byDate(false), 1), neutralRef = naiveSharpe(byDate(true), 1);
  const topFifth = (p: number[]): string => p.map((_, i) => i).sort((a, b) => p[b] - p[a]).slice(0, 6).sort((a, b) => a - b).join(",");
  assert.ok(byDate(true).some((x, j) => topFifth(x.pred) !== topFifth(byDate(false)[j].pred)), "the raw and neutralised predictions pick different top fifths");
  assert.ok(neutralRef > rawRef + 1, `the neutralised prediction scores ${neutralRef}, the raw one ${rawRef}`);
  const fwd = gridOf(forward, S, D);
  const raw = validationScore(pred, set, fwd, fwd, 1);
  const neutral = validationScore(pred, set, fwd, fwd, 1, projections);
  assert.ok(Math.abs(raw.sharpe - rawRef) < 1e-9, `raw: ${raw.sharpe} vs ${rawRef}`);
  assert.ok(Math.abs(neutral.sharpe - neutralRef) < 1e-9, `neutral: ${neutral.sharpe} vs ${neutralRef}`);
});

test("training with factor: neutral stops early on the neutralised validation prediction (bestEpoch follows it); raw on the raw one", () => {
  const { industry, style, cap } = riskOf(24, 60, 11);
  const tilted = (): TrainData => {
    const data = tinyData("v1");
    data.projection = (date, samples) => projectionOf(samples.map((s) => industry[s.stock]), [samples.map((s) => style[s.stock * 60 + date])],
      samples.map((s) => cap[s.stock * 60 + date]));
    return data;
  };
  const run = (factor: "raw" | "neutral"): { r: TrainResult; raw: number[]; neutral: number[] } => {
    const data = tilted();
    manualSeed(0);
    const model = createModel({ kind: "v1" }, 6);
    const raw: number[] = [], neutral: number[] = [];
    const r = trainModel(model, data, {
      maxEpochs: 6, patience: 100, minBatch: 48, seed: 1, lrStart: 3e-3, factor,
      onEpoch: () => {
        // The model holds this epoch's weights: score its validation predictions independently.
        const pv = predict(model, data, data.valid.samples);
        const days = data.valid.dates.map((g) => ({ g, p: Array.from(pv.subarray(g.from, g.to)), fwd: data.valid.samples.slice(g.from, g.to).map((s) => data.forward.at(s.stock, s.date)) }));
        raw.push(naiveSharpe(days.map((x) => ({ pred: x.p, fwd: x.fwd })), data.horizon));
        neutral.push(naiveSharpe(days.map((x) => ({
          pred: naiveResidual(x.p, data.valid.samples.slice(x.g.from, x.g.to).map((s) => industry[s.stock]),
            [data.valid.samples.slice(x.g.from, x.g.to).map((s) => style[s.stock * 60 + x.g.date])],
            data.valid.samples.slice(x.g.from, x.g.to).map((s) => cap[s.stock * 60 + x.g.date])),
          fwd: x.fwd,
        })), data.horizon));
      },
    });
    return { r, raw, neutral };
  };
  const argmax = (x: number[]): number => x.reduce((b, v, i) => (v > x[b] ? i : b), 0);
  const best: number[] = [];
  for (const factor of ["raw", "neutral"] as const) {
    const { r, raw, neutral } = run(factor);
    best.push(r.bestEpoch);
    const want = factor === "neutral" ? neutral : raw;
    r.log.forEach((e, i) => assert.ok(Math.abs(e.validSharpe - want[i]) < 1e-6, `${factor}, epoch ${i}: ${e.validSharpe} vs ${want[i]}`));
    assert.ok(raw.some((v, i) => Math.abs(v - neutral[i]) > 1e-3), `the two factors score differently: ${raw} / ${neutral}`);
    assert.equal(r.bestEpoch, argmax(want), `${factor}: raw ${raw.map((v) => v.toFixed(3))}, neutral ${neutral.map((v) => v.toFixed(3))}`);
  }
  // Patience longer than the run: both train the same weights, and only the epoch kept differs.
  assert.notEqual(best[0], best[1], "on this market the raw and the neutralised validation Sharpe peak at different epochs");
});

test("a checkpoint records the factor early stopping read: a resume with the other one is refused, saying so", () => {
  const dir = mkdtempSync(join(tmpdir(), "alphanet-ckpt-"));
  const train = (opts: object): TrainResult => {
    manualSeed(0);
    return trainModel(createModel({ kind: "v1" }, 6), tinyData("v1"), { maxEpochs: 1, patience: 100, minBatch: 48, seed: 3, checkpointDir: dir, ...opts });
  };
  train({ factor: "neutral" });
  assert.throws(() => train({ resume: true }), /made with factor "neutral", this run has factor "raw"; remove --resume/);
  assert.throws(() => train({ resume: true, factor: "raw" }), /made with factor "neutral", this run has factor "raw"/);
  train({ resume: true, factor: "neutral" });
  // A raw run's record is as before (no factor key), so its checkpoints read as ever.
  train({ factor: "raw" });
  assert.throws(() => train({ resume: true, factor: "neutral" }), /made with factor "raw", this run has factor "neutral"/);
  assert.equal(JSON.parse(readFileSync(join(dir, "state.json"), "utf8")).made.train.factor, undefined);
});

test("keepLast (the refit): exactly maxEpochs epochs, no early stopping, the last epoch's weights; a crash resumed ends at the same weights", () => {
  const weights = (m: { parameters(): { toList(): number[] }[] }): number[] => m.parameters().flatMap((p) => p.toList());
  const run = (opts: object): { w: number[]; perEpoch: number[][]; r: TrainResult } => {
    const data = tinyData("v1");
    manualSeed(0);
    const model = createModel({ kind: "v1" }, 6);
    const perEpoch: number[][] = [];
    // patience 1: without keepLast, early stopping would end the run at the first epoch that does not improve.
    const r = trainModel(model, data, { maxEpochs: 5, patience: 1, minBatch: 48, seed: 3, onEpoch: () => perEpoch.push(weights(model)), ...opts });
    return { w: weights(model), perEpoch, r };
  };
  const last = run({ keepLast: true });
  assert.equal(last.r.log.length, 5, "every epoch trained");
  assert.deepEqual(last.w, last.perEpoch[4], "the last epoch's weights");
  assert.equal(last.r.bestEpoch, 4);
  // The early-stopping run over the same epochs: same training, then the best epoch's weights restored.
  const es = run({ patience: 100 });
  assert.deepEqual(es.perEpoch, last.perEpoch, "keepLast trains the very same epochs");
  assert.deepEqual(es.w, es.perEpoch[es.r.bestEpoch]);
  // No validation set: the log's validation scores are NaN, and nothing is restored.
  const empty = run({ keepLast: true, maxEpochs: 3 });
  const noValid = (() => {
    const data = tinyData("v1");
    data.valid = { samples: [], dates: [], excluded: {} };
    manualSeed(0);
    const model = createModel({ kind: "v1" }, 6);
    const r = trainModel(model, data, { maxEpochs: 3, patience: 1, minBatch: 48, seed: 3, keepLast: true });
    return { w: weights(model), r };
  })();
  assert.deepEqual(noValid.w, empty.w, "validation does not touch training");
  assert.ok(noValid.r.log.every((e) => Number.isNaN(e.validIc) && Number.isNaN(e.validSharpe)));
  const dir = mkdtempSync(join(tmpdir(), "alphanet-ckpt-"));
  // 5 batches an epoch: crash in the middle of epoch 3.
  assert.throws(() => run({ keepLast: true, checkpointDir: dir, crashAfterBatches: 13 }), /simulated crash/);
  assert.deepEqual(run({ keepLast: true, checkpointDir: dir, resume: true }).w, last.w);
  // A checkpoint that kept the best epoch is not continued as one that keeps the last, nor the reverse.
  assert.throws(() => run({ checkpointDir: dir, resume: true }), /made with train\.keepLast true, this run has train\.keepLast unset/);
});
