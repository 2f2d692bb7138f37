/**
 * Rolling retraining: for each test window, select features (Spearman dropout on the training
 * span), train on everything before the window with a validation tail and purge gaps, predict the
 * window out of sample, and stitch the windows into one prediction panel: the factor.
 */
import { join } from "node:path";
import { manualSeed, saveModel } from "../engine/index.js";
import type { Panel } from "../data/index.js";
import {
  type FeaturePanel, type FeatureStore, type SpearmanSelection, readFeaturePanel, spearmanSelect,
} from "../features/index.js";
import { type ModelSpec, createModel, imageSpecs } from "../models/index.js";
import { type Projection, type StyleExposures, projection as projectionOf } from "../risk/index.js";
import { type Labels, type RollingWindow, type SampleSet, buildSamples, industryIndex, windowDates } from "../dataset/index.js";
import { type EpochLog, type TrainOptions, predict, trainModel } from "./trainer.js";
import { type Significance, firstLayers, parameterSignificance } from "../evaluate/index.js";

export interface PipelineData {
  panel: Panel;
  store: FeatureStore;
  styles: StyleExposures;
  labels: Labels;
}

export interface RollingOptions {
  sampleStep: number;
  /**
   * Training samples on every date, each epoch taking every sampleStep-th date from a different
   * offset (so successive epochs see different dates), instead of the same every-sampleStep-th dates.
   */
  rotateDates?: boolean;
  minListingDays: number;
  spearmanThreshold: number;
  train: Partial<TrainOptions>;
  /** Where each window's model is saved (weights, feature selection, settings). */
  outDir?: string;
  onWindow?: (w: RollingWindow, i: number, n: number) => void;
}

export interface WindowResult {
  window: string;
  selection: { kept: number; names: string[]; dropped: { name: string; by: string; rho: number }[] } | null;
  samples: { train: number; valid: number; test: number; excluded: Record<string, number> };
  log: EpochLog[];
  bestEpoch: number;
  seconds: number;
}

export interface RollingResult {
  name: string;
  spec: ModelSpec;
  /** The factor: out-of-sample predictions [stocks x dates], NaN where not predicted. */
  factor: Float64Array;
  windows: WindowResult[];
  trainSeconds: number;
  /** The last window's selection, and its model's parameter significance (figure 5-2). */
  lastSelection: number[];
  significance: Significance | null;
}

/** Feature panels are read once per (window d, columns) and shared across windows and models. */
export class PanelCache {
  readonly #cache = new Map<string, FeaturePanel>();
  constructor(readonly store: FeatureStore) {}
  get(d: number, columns?: number[]): FeaturePanel {
    const key = `${d}:${columns ? columns.join(",") : "all"}`;
    let p = this.#cache.get(key);
    if (!p) {
      p = readFeaturePanel(this.store, d, columns);
      this.#cache.set(key, p);
    }
    return p;
  }
  /** Drops cached panels with column subsets (the full ones stay). */
  trim(): void {
    for (const k of [...this.#cache.keys()]) if (!k.endsWith(":all")) this.#cache.delete(k);
  }
}

export function selectFeatures(cache: PanelCache, data: PipelineData, w: RollingWindow, seed: number, threshold: number): SpearmanSelection {
  const full = cache.get(10);
  return spearmanSelect(full, data.panel.calendar, { from: w.train.from, to: w.train.to, seed, threshold });
}

export function runRolling(name: string, spec: ModelSpec, data: PipelineData, windows: RollingWindow[], cache: PanelCache,
  o: RollingOptions): RollingResult {
  const { panel } = data;
  const S = panel.stocks.length, D = panel.calendar.length;
  const factor = new Float64Array(S * D).fill(NaN);
  const specs = imageSpecs(spec);
  const { index: indOf, names: indNames } = industryIndex(panel);
  const projection = (date: number, samples: { stock: number }[]): Projection =>
    projectionOf(samples.map((s) => indOf[s.stock]), indNames.length,
      data.styles.values.map((v) => samples.map((s) => { const x = v[s.stock * D + date]; return Number.isFinite(x) ? x : 0; })),
      samples.map((s) => data.styles.cap[s.stock * D + date]));
  const featureNames = data.store.meta.names["10"];
  const results: WindowResult[] = [];
  let trainSeconds = 0;
  let lastSelection: number[] = [];
  let significance: Significance | null = null;
  windows.forEach((w, i) => {
    o.onWindow?.(w, i, windows.length);
    const useSpearman = spec.v4?.useSpearman ?? true;
    const sel = useSpearman ? selectFeatures(cache, data, w, o.train.seed ?? 0, o.spearmanThreshold) : null;
    const cols = sel ? sel.kept : undefined;
    const panels = new Map(specs.map((sp) => [sp.d, cache.get(sp.d, cols)]));
    const K = panels.get(specs[0].d)!.columns.length;
    const mk = (range: RollingWindow["train"], step: number, requireLabel: boolean): SampleSet =>
      buildSamples(panel, panels, specs, data.labels.standardized, range, { step, minListingDays: o.minListingDays, requireLabel });
    // With rotating dates every date is a sample and each epoch takes every sampleStep-th of them.
    const rotate = o.rotateDates ?? false;
    const train = mk(w.train, rotate ? 1 : o.sampleStep, true);
    const valid = mk(w.valid, 1, true);
    const test = mk(w.test, 1, false);
    manualSeed(o.train.seed ?? 0);
    const model = createModel(spec, K);
    const r = trainModel(model, {
      specs, panels, train, valid, target: data.labels.standardized, forward: data.labels.raw, horizon: data.labels.horizon, D,
      projection,
    }, { ...o.train, dateStride: rotate ? o.sampleStep : 1, checkpointDir: o.outDir ? join(o.outDir, "checkpoints", name, String(i)) : undefined });
    trainSeconds += r.seconds;
    const pred = predict(model, { specs, panels }, test.samples);
    test.samples.forEach((s, j) => (factor[s.stock * D + s.date] = pred[j]));
    const columns = cols ?? Array.from({ length: K }, (_, f) => f);
    const names = columns.map((f) => featureNames[f]);
    if (o.outDir) {
      saveModel(join(o.outDir, "models", name, String(i)), model.stateDict(), {
        format: "alphanet-model", version: 1, model: name, spec, features: K, featureColumns: cols ?? null, featureNames: names,
        images: specs, window: { name: w.name, ...windowDates(panel.calendar, w) },
        featureSettings: data.store.meta.settings, dataKey: data.store.meta.key, bestEpoch: r.bestEpoch, log: r.log,
      });
    }
    lastSelection = columns;
    const layers = firstLayers(spec.kind, specs.slice(1).map((sp) => sp.d));
    if (layers.length) significance = parameterSignificance(model, lastSelection, layers);
    results.push({
      window: w.name,
      selection: sel ? { kept: sel.kept.length, names, dropped: sel.dropped.map((x) => ({
        name: featureNames[x.feature], by: featureNames[x.by], rho: x.rho })) } : null,
      samples: { train: train.samples.length, valid: valid.samples.length, test: test.samples.length, excluded: train.excluded },
      log: r.log, bestEpoch: r.bestEpoch, seconds: r.seconds,
    });
    model.dispose();
    cache.trim();
  });
  return { name, spec, factor, windows: results, trainSeconds, lastSelection, significance };
}
