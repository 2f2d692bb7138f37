/**
 * Rolling retraining: for each test window, select features (Spearman dropout on the training
 * span), train on everything before the window with a validation tail and purge gaps, predict the
 * window out of sample, and stitch the windows into one prediction panel: the factor.
 */
import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { manualSeed, saveModel, scope } from "../engine/index.js";
import { type Grid, type Panel, grid } from "../data/index.js";
import { AlphaNetV4, type ModelSpec, createModel, firstLayers, imageSpecs, usesSpearman } from "../models/index.js";
import { type Projection, projectionAt } from "../risk/index.js";
import { INPUT_SETS, featuresOf, inputSetOf } from "../features/index.js";
import { type RollingWindow, type SampleSet, buildSamples, refitRange, windowDates } from "../dataset/index.js";
import type { TrainOptions } from "./options.js";
import { imagesFor, predict, trainModel } from "./trainer.js";
import { checkpointMade, resumableCheckpoint } from "./checkpoint.js";
import { ridgeWindow } from "./ridge.js";
import { type Significance, parameterSignificance } from "../evaluate/index.js";
import { type PanelCache, type PipelineData, type RollingOptions, type WindowOutcome, type WindowResult, type WindowTask, cellsOf, storeOf } from "./window.js";

export interface RollingResult {
  name: string;
  spec: ModelSpec;
  /** The factor: out-of-sample predictions [stocks x dates], NaN where not predicted. */
  factor: Grid;
  windows: WindowResult[];
  trainSeconds: number;
  /** The last window's selection, and its model's parameter significance (figure 5-2). */
  lastSelection: number[];
  significance: Significance | null;
  /**
   * With several seeds: each seed's own factor and windows (the result's factor is their mean, its
   * windows, selection and significance the first seed's).
   */
  seeds?: SeedResult[];
}

export interface SeedResult {
  seed: number;
  factor: Grid;
  windows: WindowResult[];
}

/** The seeds a model trains: the ridge row is a closed-form solve, the same for every seed. */
export const seedCount = (spec: ModelSpec, o: Pick<RollingOptions, "seeds">): number => (spec.kind === "ridge" ? 1 : o.seeds ?? 1);

/** Seed k's folder inside a window's (k = 0: the window's own, as with one seed). */
export const seedFolder = (dir: string, k: number): string => (k > 0 ? join(dir, `seed-${k}`) : dir);

/** The options of seed k: the training seed moved by k. */
const withSeed = (o: RollingOptions, k: number): RollingOptions => (k > 0 ? { ...o, seed: (o.seed ?? 0) + k } : o);

const dataHashes = new WeakMap<Panel, string>();

/**
 * A hash of everything in the panel (calendar, stocks, every field, flag, industry, listing date,
 * index weight and the universe): the data a checkpoint was made from. Computed once per panel.
 */
export function dataHash(p: Panel): string {
  let h = dataHashes.get(p);
  if (h) return h;
  const sha = createHash("sha256");
  sha.update(JSON.stringify({ calendar: p.calendar, stocks: p.stocks, industry: p.industry, listDate: p.listDate, priceBasis: p.priceBasis,
    market: p.market, fields: Object.keys(p.fields).sort(), flags: Object.keys(p.flags).sort(), indexes: Object.keys(p.indexWeights).sort() }));
  const arrays = [...Object.entries(p.fields), ...Object.entries(p.flags), ...Object.entries(p.indexWeights)]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, a]) => a!);
  if (p.universe) arrays.push(p.universe);
  for (const a of arrays) sha.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  dataHashes.set(p, (h = sha.digest("hex").slice(0, 16)));
  return h;
}

/**
 * What a window's checkpoint is made from, besides the trainer's own settings and the feature
 * selection (a function of these): the data, the model, its window's dates, the features, the samples.
 */
function checkpointRecord(name: string, spec: ModelSpec, data: PipelineData, w: RollingWindow, o: RollingOptions): Record<string, unknown> {
  return {
    data: dataHash(data.panel), model: name, spec, window: windowDates(data.panel.calendar, w),
    features: { settings: storeOf(data, spec).meta.settings, spearmanThreshold: usesSpearman(spec) ? o.spearmanThreshold : null },
    horizon: data.labels.horizon, sampleStep: o.sampleStep, rotateDates: o.rotateDates ?? false, minListingDays: o.minListingDays,
  };
}

/**
 * Before any training: with `resume`, every window's checkpoint of this model must have been made
 * from this run's data and settings (and be whole), or a DataError names it and says what changed.
 */
export function checkResume(name: string, spec: ModelSpec, data: PipelineData, windows: RollingWindow[], o: RollingOptions): void {
  if (!o.outDir || !o.resume) return;
  for (let k = 0; k < seedCount(spec, o); k++) {
    const ok = withSeed(o, k);
    windows.forEach((w, i) => {
      const dir = seedFolder(join(o.outDir!, "checkpoints", name, String(i)), k);
      const record = checkpointRecord(name, spec, data, w, ok);
      const made = checkpointMade({ ...ok, record });
      const st = resumableCheckpoint(dir, made);
      // A refit is continued only after its finished early-stopping run (trainWindow), which fixes its epochs.
      const finished = st && (st.done || st.epoch >= (made.train as TrainOptions).maxEpochs);
      if (ok.refit && st && finished) resumableCheckpoint(join(dir, "refit"), refitMade(ok, record, st.bestEpoch));
    });
  }
}

/** The refit's epochs: the early-stopping run's best epoch and all before it (at least one). */
const refitEpochs = (bestEpoch: number): number => Math.max(1, bestEpoch + 1);

/** The refit's training options: the early-stopping run's settings, its epoch count, the last epoch's weights kept. */
function refitOptions(o: RollingOptions, bestEpoch: number): Partial<TrainOptions> {
  return { ...o, maxEpochs: refitEpochs(bestEpoch), keepLast: true };
}

/** What a refit's checkpoint is made from: its window's record, marked as the refit, and its own settings. */
const refitMade = (o: RollingOptions, record: Record<string, unknown>, bestEpoch: number): Record<string, unknown> =>
  checkpointMade({ ...refitOptions(o, bestEpoch), record: { ...record, refit: true } });

const NO_SAMPLES: SampleSet = { samples: [], dates: [], excluded: {} };

/**
 * Trains one window with seed k (seed o.seed + k): Spearman selection on its training span,
 * samples, training from the seed, out-of-sample predictions; saves the model when `outDir` is set.
 * Windows and seeds share nothing but the read-only data and cache, so they may run in any order or
 * in separate processes.
 */
export function trainWindow({ name, spec, data, cache, window: w, index: i, seed: k = 0, options }: WindowTask): WindowOutcome {
  if (spec.kind === "ridge") return ridgeWindow(data, w, cache, options);
  const o = withSeed(options, k);
  const { panel } = data;
  const specs = imageSpecs(spec);
  const projection = (date: number, samples: { stock: number }[]): Projection =>
    projectionAt(data.styles, data.industries.index, date, samples.map((s) => s.stock));
  const store = storeOf(data, spec);
  const featureNames = store.meta.names["10"];
  const sel = usesSpearman(spec) ? cache.selection(panel.calendar, w, o.seed ?? 0, o.spearmanThreshold) : null;
  const cols = sel ? sel.kept : undefined;
  const panels = new Map(specs.map((sp) => [sp.d, cache.get(sp.d, cols, store)]));
  const K = panels.get(specs[0].d)!.columns.length;
  const mk = (range: RollingWindow["train"], step: number, requireLabel: boolean): SampleSet =>
    buildSamples(panel, panels, specs, data.labels.standardized, range, { step, minListingDays: o.minListingDays, requireLabel });
  // With rotating dates every date is a sample and each epoch takes every sampleStep-th of them.
  const rotate = o.rotateDates ?? false;
  const train = mk(w.train, rotate ? 1 : o.sampleStep, true);
  const valid = mk(w.valid, 1, true);
  const test = mk(w.test, 1, false);
  const trainData = {
    specs, panels, train, valid, target: data.labels.standardized, forward: data.labels.raw, horizon: data.labels.horizon,
    projection,
  };
  const checkpointDir = o.outDir ? seedFolder(join(o.outDir, "checkpoints", name, String(i)), k) : undefined;
  const record = o.outDir ? { ...checkpointRecord(name, spec, data, w, o), selection: cols ?? null } : undefined;
  manualSeed(o.seed ?? 0);
  let model = createModel(spec, K);
  let epochsRun = 0;
  const r = trainModel(model, trainData, {
    ...o, checkpointDir, record,
    onEpoch: (e) => (epochsRun++, o.onEpoch?.(e)),
  });
  let refit: WindowResult["refit"];
  if (o.refit) {
    // A fresh model from the same seed, trained on train + validation for the epochs early stopping
    // chose; it predicts with its last weights (the validation tail is inside its training data).
    model.dispose();
    const range = refitRange(w);
    const all = mk(range, rotate ? 1 : o.sampleStep, true);
    const dir = checkpointDir && join(checkpointDir, "refit");
    // Its checkpoint is continued only when the early-stopping run had finished before this call
    // (that run fixes the refit's epochs); after a fresh one, an old refit is another run's.
    const resume = (o.resume ?? false) && epochsRun === 0;
    if (dir && !resume) rmSync(dir, { recursive: true, force: true });
    manualSeed(o.seed ?? 0);
    model = createModel(spec, K);
    const rr = trainModel(model, { ...trainData, train: all, valid: NO_SAMPLES }, {
      ...refitOptions(o, r.bestEpoch), onEpoch: undefined, resume, checkpointDir: dir,
      record: record && { ...record, refit: true },
    });
    refit = { epochs: rr.log.length, samples: all.samples.length, seconds: rr.seconds,
      train: [panel.calendar[all.dates[0]?.date ?? range.from], panel.calendar[all.dates.at(-1)?.date ?? range.to - 1]] };
  }
  const values = predict(model, { specs, panels }, test.samples);
  const cells = cellsOf(test.samples, data.labels.raw);
  const columns = cols ?? Array.from({ length: K }, (_, f) => f);
  const names = columns.map((f) => featureNames[f]);
  if (o.outDir) {
    saveModel(seedFolder(join(o.outDir, "models", name, String(i)), k), model.stateDict(), {
      format: "alphanet-model", version: 1, model: name, spec, features: K, featureColumns: cols ?? null, featureNames: names,
      images: specs, window: { name: w.name, ...windowDates(panel.calendar, w) },
      // The input set named even when V4's (a V4 store's settings leave it out): predict rebuilds these features.
      featureSettings: { ...store.meta.settings, inputs: inputSetOf(store.meta.settings) }, dataKey: store.meta.key,
      bestEpoch: r.bestEpoch, log: r.log,
      // The weights: the refit's (trained on train + validation) or the early-stopping run's best epoch.
      weights: refit ? "refit" : "best-validation-epoch", refit: refit ?? null,
    });
  }
  const attention = model instanceof AlphaNetV4 && test.samples.length
    ? scope(() => model.attentionProfile(imagesFor({ specs, panels }, test.samples.slice(0, 2048)))) : undefined;
  const layers = firstLayers(model, specs);
  const set = inputSetOf(store.meta.settings);
  const significance = layers.length ? parameterSignificance(columns, layers, featuresOf(INPUT_SETS[set])) : null;
  model.dispose();
  cache.trim();
  return {
    result: {
      window: w.name,
      selection: sel ? { kept: sel.kept.length, names, dropped: sel.dropped.map((x) => ({
        name: featureNames[x.feature], by: featureNames[x.by], rho: x.rho })) } : null,
      samples: { train: train.samples.length, valid: valid.samples.length, test: test.samples.length, excluded: train.excluded },
      log: r.log, bestEpoch: r.bestEpoch, seconds: r.seconds + (refit?.seconds ?? 0), attention, ...(refit ? { refit } : {}),
    },
    cells, values, columns, significance,
  };
}

/** The factor's shape: the panel's stocks x its dates. */
export interface FactorShape {
  stocks: number;
  dates: number;
}

/** Stitches windows' outcomes (in window order) into the factor. */
export function assembleRolling(name: string, spec: ModelSpec, shape: FactorShape, outcomes: WindowOutcome[]): RollingResult {
  const factor = grid(shape.stocks, shape.dates);
  for (const w of outcomes) w.cells.forEach((c, j) => (factor.values[c] = w.values[j]));
  const last = outcomes.at(-1);
  return {
    name, spec, factor, windows: outcomes.map((w) => w.result), trainSeconds: outcomes.reduce((a, w) => a + w.result.seconds, 0),
    lastSelection: last?.columns ?? [], significance: last?.significance ?? null,
  };
}

/**
 * Seeds' outcomes (outcomes[k][window]) into the model's result. One seed: its factor. Several: each
 * seed's factor, and the model's factor their mean on each cell over the seeds that predicted it
 * (every seed predicts the same test samples unless a seed's feature selection changes which
 * samples are whole; a cell is never filled with a partial sum).
 */
export function assembleSeeds(name: string, spec: ModelSpec, shape: FactorShape, outcomes: WindowOutcome[][], baseSeed: number): RollingResult {
  const perSeed = outcomes.map((o) => assembleRolling(name, spec, shape, o));
  if (perSeed.length === 1) return perSeed[0];
  const factor = grid(shape.stocks, shape.dates);
  for (let c = 0; c < factor.values.length; c++) {
    let sum = 0, n = 0;
    for (const r of perSeed) if (Number.isFinite(r.factor.values[c])) (sum += r.factor.values[c], n++);
    if (n) factor.values[c] = sum / n;
  }
  return {
    ...perSeed[0], factor, trainSeconds: perSeed.reduce((a, r) => a + r.trainSeconds, 0),
    seeds: perSeed.map((r, k) => ({ seed: baseSeed + k, factor: r.factor, windows: r.windows })),
  };
}

/** Rolling retraining in this process: every window of every seed in turn, stitched into the factor. */
export function runRolling(name: string, spec: ModelSpec, data: PipelineData, windows: RollingWindow[], cache: PanelCache,
  o: RollingOptions): RollingResult {
  const outcomes = Array.from({ length: seedCount(spec, o) }, (_, k) => windows.map((w, i) => {
    o.onWindow?.(w, i, windows.length, k);
    return trainWindow({ name, spec, data, cache, window: w, index: i, seed: k, options: o });
  }));
  return assembleSeeds(name, spec, { stocks: data.panel.stocks.length, dates: data.panel.calendar.length }, outcomes, o.seed ?? 0);
}
