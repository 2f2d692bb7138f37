/**
 * The refit: after early stopping has chosen the epoch count on the validation tail, a fresh model
 * from the same seed trains on train + validation for that many epochs and predicts the test window.
 * Checked against a model trained here directly with trainModel, on a tiny synthetic market.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Config, merge, validateConfig } from "../../src/run/config.js";
import { type PreparedRun, prepareRun, rollingOptions } from "../../src/run/index.js";
import { buildSamples, labelEnd, windowDates } from "../../src/dataset/index.js";
import { type Tensor, keep, loadModel, manualSeed } from "../../src/engine/index.js";
import { createModel, imageSpecs } from "../../src/models/index.js";
import { projection as projectionOf } from "../../src/risk/index.js";
import { PanelCache, type RollingOptions, checkResume, checkpointMade, predict, trainModel, trainWindow } from "../../src/train/index.js";
import { alphanet } from "../helpers.js";

const DIR = mkdtempSync(join(tmpdir(), "alphanet-refit-"));

/** 40 synthetic stocks, one test window, V1 for up to three epochs (seconds). */
const BASE = {
  data: { synthetic: { stocks: 40, start: "2018-06-01", end: "2019-12-31", indexSize: 20, seed: 5 } },
  schedule: { trainStart: "2018-06-01", testStart: "2019-09-01", testEnd: "2019-12-31", retrainMonths: 6, validDays: 30 },
  models: ["v1"], sampleStep: 10, features: { windows: [5, 10, 20] }, train: { maxEpochs: 3, patience: 3 }, seed: 2,
};
const config = (over: Record<string, unknown>): Config => validateConfig(merge(BASE, over));

let prepared: Promise<PreparedRun> | undefined;
const data = (): Promise<PreparedRun> => (prepared ??= prepareRun(config({ out: join(DIR, "prepared") }), () => {}));

/** The model trained directly: same seed and settings, train + validation, exactly `epochs` epochs, the last weights. */
function directRefit(p: PreparedRun, cache: PanelCache, o: RollingOptions, epochs: number): Float64Array {
  const w = p.windows[0];
  const { panel } = p;
  const spec = { kind: "v1" as const };
  const specs = imageSpecs(spec);
  const seed = o.seed!;
  const cols = cache.selection(panel.calendar, w, seed, o.spearmanThreshold).kept;
  const panels = new Map(specs.map((sp) => [sp.d, cache.get(sp.d, cols)]));
  const mk = (from: number, to: number, step: number, requireLabel: boolean) =>
    buildSamples(panel, panels, specs, p.labels.standardized, { from, to }, { step, minListingDays: o.minListingDays, requireLabel });
  // Every date from the training start up to the validation tail's end, every sampleStep-th.
  const train = mk(w.train.from, w.valid.to, o.sampleStep, true);
  const test = mk(w.test.from, w.test.to, 1, false);
  const projection = (date: number, samples: { stock: number }[]) =>
    projectionOf(samples.map((s) => p.industries.index[s.stock]),
      p.styles.values.map((v) => samples.map((s) => { const x = v.at(s.stock, date); return Number.isFinite(x) ? x : 0; })),
      samples.map((s) => p.styles.cap.at(s.stock, date)));
  manualSeed(seed);
  const model = createModel(spec, cols.length);
  let last: Map<string, Tensor> | undefined;
  trainModel(model, {
    specs, panels, train, valid: { samples: [], dates: [], excluded: {} }, target: p.labels.standardized, forward: p.labels.raw,
    horizon: p.labels.horizon, projection,
  }, {
    ...o, maxEpochs: epochs, patience: 1000,
    // The last epoch's weights, taken before trainModel restores its "best" epoch.
    onEpoch: (e) => {
      if (e.epoch === epochs - 1) last = new Map([...model.stateDict()].map(([k, v]) => [k, keep(v.clone())]));
    },
  });
  model.loadStateDict(last!);
  return predict(model, { specs, panels }, test.samples);
}

test("the refit predicts as a model trained directly on train + validation for bestEpoch + 1 epochs; not as the early-stopping model; same seed, same result", { timeout: 600_000 }, async () => {
  const p = await data();
  const cache = new PanelCache(p.store);
  const w = p.windows[0];
  const cfg = config({ out: join(DIR, "prepared") });
  const plain = trainWindow({ name: "v1", spec: { kind: "v1" }, data: p, cache, window: w, index: 0, options: rollingOptions(cfg) });
  const o = rollingOptions(config({ out: join(DIR, "prepared"), train: { ...BASE.train, refit: true } }));
  assert.equal(o.refit, true);
  const refit = trainWindow({ name: "v1", spec: { kind: "v1" }, data: p, cache, window: w, index: 0, options: { ...o, outDir: undefined } });
  const again = trainWindow({ name: "v1", spec: { kind: "v1" }, data: p, cache, window: w, index: 0, options: { ...o, outDir: undefined } });

  // The early-stopping run is the same with and without the refit, and both record it.
  const strip = (log: { seconds: number }[]) => log.map(({ seconds: _s, ...e }) => e);
  assert.deepEqual(strip(refit.result.log), strip(plain.result.log));
  assert.equal(refit.result.bestEpoch, plain.result.bestEpoch);
  assert.equal(plain.result.refit, undefined);
  const r = refit.result.refit!;
  assert.equal(r.epochs, refit.result.bestEpoch + 1);
  assert.ok(r.samples > refit.result.samples.train + refit.result.samples.valid * 0.05, `${r.samples} refit samples`);
  // Its last training date's label ends before the test window.
  const cal = p.panel.calendar;
  assert.ok(r.train[0] >= cal[w.train.from] && r.train[0] < windowDates(cal, w).train[1], `${r.train[0]}`);
  assert.ok(labelEnd(cal.indexOf(r.train[1]), p.labels.horizon) < w.test.from, `${r.train[1]}`);
  assert.ok(r.train[1] > windowDates(cal, w).valid[0], "the refit trains into the validation tail");

  const direct = directRefit(p, cache, o, r.epochs);
  assert.ok(refit.values.every(Number.isFinite) && refit.values.length > 100);
  assert.deepEqual(refit.values, direct, "the refit's predictions, exactly as the directly trained model's");
  assert.ok(refit.values.some((v, j) => v !== plain.values[j]), "the refit's predictions differ from the early-stopping model's");
  assert.deepEqual(again.values, refit.values, "same seed, same predictions");
  assert.deepEqual(refit.cells, plain.cells);
});

test("with refit, the saved model is the refit's and says so; a resume continues the refit's own checkpoint and refuses one made otherwise", { timeout: 600_000 }, async () => {
  const p = await data();
  const cache = new PanelCache(p.store);
  const out = join(DIR, "saved");
  const cfg = config({ out, train: { ...BASE.train, refit: true } });
  const o = rollingOptions(cfg);
  const first = trainWindow({ name: "v1", spec: { kind: "v1" }, data: p, cache, window: p.windows[0], index: 0, options: o });
  const ckpt = join(out, "checkpoints", "v1", "0");
  assert.ok(existsSync(join(ckpt, "refit", "state.json")), "the refit has its own checkpoint folder");

  const saved = loadModel<{ weights: string; bestEpoch: number; refit: { epochs: number }; log: unknown[] }>(join(out, "models", "v1", "0"));
  assert.equal(saved.manifest.weights, "refit");
  assert.equal(saved.manifest.refit.epochs, saved.manifest.bestEpoch + 1);
  assert.equal(saved.manifest.log.length, first.result.log.length, "the early-stopping run's log");
  // The saved weights predict the window as the run did.
  const specs = imageSpecs({ kind: "v1" });
  const panels = new Map(specs.map((sp) => [sp.d, cache.get(sp.d, first.columns)]));
  const model = createModel({ kind: "v1" }, first.columns.length);
  model.loadStateDict(saved.stateDict);
  const D = p.panel.calendar.length;
  const samples = Array.from(first.cells, (c) => ({ stock: Math.floor(c / D), date: c % D }));
  assert.deepEqual(predict(model, { specs, panels }, samples), first.values);

  // Resumed with nothing left to train: both checkpoints are continued, the same predictions.
  const resumed = trainWindow({ name: "v1", spec: { kind: "v1" }, data: p, cache, window: p.windows[0], index: 0, options: rollingOptions(config({ out, resume: true, train: { ...BASE.train, refit: true } })) });
  assert.deepEqual(resumed.values, first.values);
  assert.deepEqual(resumed.result.refit!.epochs, first.result.refit!.epochs);

  // The pre-flight check reads the refit's checkpoint too: one made with other settings stops the run before training.
  const statePath = join(ckpt, "refit", "state.json");
  const state = JSON.parse(readFileSync(statePath, "utf8"));
  writeFileSync(statePath, JSON.stringify({ ...state, made: { ...state.made, train: { ...state.made.train, maxEpochs: state.made.train.maxEpochs + 1 } } }));
  const resume = rollingOptions(config({ out, resume: true, train: { ...BASE.train, refit: true } }));
  assert.throws(() => checkResume("v1", { kind: "v1" }, p, p.windows, resume), (e: Error) => {
    assert.equal(e.name, "DataError");
    assert.ok(e.message.startsWith(`${join(ckpt, "refit")}: `), e.message);
    assert.match(e.message, /made with train\.maxEpochs \d+, this run has train\.maxEpochs \d+/);
    return true;
  });
  // A fresh early-stopping run sets another run's refit checkpoint aside: interrupted in the refit's
  // first epoch (before its first checkpoint), it leaves none, and --resume then trains the refit afresh.
  let epochs = 0;
  const interrupted = rollingOptions(cfg, {
    onEpoch: () => void epochs++,
    onProgress: () => {
      if (epochs === first.result.log.length) throw new Error("interrupted");
    },
  });
  assert.throws(() => trainWindow({ name: "v1", spec: { kind: "v1" }, data: p, cache, window: p.windows[0], index: 0, options: interrupted }), /interrupted/);
  assert.ok(!existsSync(join(ckpt, "refit")), "the other run's refit checkpoint is gone");
  const after = trainWindow({ name: "v1", spec: { kind: "v1" }, data: p, cache, window: p.windows[0], index: 0, options: resume });
  assert.deepEqual(after.values, first.values);
  // Without refit the refit's folder is not this run's concern.
  checkResume("v1", { kind: "v1" }, p, p.windows, rollingOptions(config({ out, resume: true })));
  // Another validation tail is another early-stopping run: its checkpoint is refused.
  const other = await prepareRun(config({ out: join(DIR, "prepared"), schedule: { ...BASE.schedule, validDays: 40 } }), () => {});
  assert.throws(() => checkResume("v1", { kind: "v1" }, other, other.windows,
    rollingOptions(config({ out, resume: true, schedule: { ...BASE.schedule, validDays: 40 }, train: { ...BASE.train, refit: true } }))),
  /made for the window that tests .* \(validated on [-.\d]+\), this run's tests/);
});

test("--valid-days and --refit reach the configuration: bad values stop with the key; a run records the refit in metrics.json", { timeout: 600_000 }, async () => {
  const cfg = validateConfig(merge(BASE, { train: { refit: true } }));
  assert.equal(cfg.schedule.validDays, 30);
  // A rolling setting: not one of the trainer's that a checkpoint records.
  assert.deepEqual([rollingOptions(cfg).refit, "refit" in (checkpointMade(rollingOptions(cfg)).train as object)], [true, false]);
  assert.equal(validateConfig({}).train.refit, false);
  assert.equal(validateConfig({}).schedule.validDays, undefined, "the default tail: 20% of the training span, at least 40");
  for (const [args, want] of [
    [["run", "--valid-days", "5"], /schedule\.validDays: Number must be greater than or equal to 10/],
    [["run", "--valid-days", "many"], /--valid-days many: expected a number/],
    [["run", "--refit=yes"], /--refit/],
  ] as [string[], RegExp][]) {
    const r = alphanet(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.err}`);
    assert.match(r.err.trim().split("\n").at(-1)!, want);
  }
  const help = alphanet(["run", "--help"]).out;
  assert.match(help, /--valid-days N/);
  assert.match(help, /--refit/);

  const out = join(DIR, "cli");
  const { schedule: _s, ...rest } = BASE;
  const file = join(DIR, "config.json");
  writeFileSync(file, JSON.stringify({ ...rest, schedule: { ...BASE.schedule, validDays: undefined }, references: false }));
  const r = alphanet(["run", "--config", file, "--valid-days", "25", "--refit", "--out", out]);
  assert.equal(r.code, 0, r.err);
  const metrics = JSON.parse(readFileSync(join(out, "metrics.json"), "utf8"));
  const [win] = metrics.models.v1.windows;
  assert.equal(win.refit.epochs, win.best_epoch + 1);
  assert.ok(win.refit.samples > win.samples.train);
  // The validation tail is 25 trading days: the manifest's dates, counted on the data's calendar.
  const manifest = JSON.parse(readFileSync(join(out, "models", "v1", "0", "manifest.json"), "utf8"));
  assert.equal(manifest.weights, "refit");
  const [a, b] = metrics.schedule[0].valid as [string, string];
  assert.deepEqual(manifest.window.valid, [a, b]);
  const { calendar } = (await data()).panel;
  assert.equal(calendar.indexOf(b) - calendar.indexOf(a) + 1, 25);
});
