/**
 * One rolling window's inputs and outcome: the data and options every window shares, the cache of
 * feature panels and selections, and what a window's training returns. Apart from rolling.ts so
 * that the ridge row (ridge.ts), a window trainer of its own, shares them without importing rolling.
 */
import type { Grid, Panel } from "../data/index.js";
import {
  type FeaturePanel, type FeatureStore, type SpearmanSelection, readFeaturePanel, spearmanSelect,
} from "../features/index.js";
import { type ModelSpec, inputSetOfSpec } from "../models/index.js";
import type { StyleExposures } from "../risk/index.js";
import type { Labels, RollingWindow } from "../dataset/index.js";
import type { Significance } from "../evaluate/index.js";
import type { EpochLog, TrainOptions } from "./options.js";

export interface PipelineData {
  panel: Panel;
  /** V4's features (13 inputs): every model's unless its spec names other inputs. */
  store: FeatureStore;
  /** The stores of the other input sets the run's models read (the baselines' own inputs). */
  inputStores?: Partial<Record<"v1" | "v2", FeatureStore>>;
  styles: StyleExposures;
  labels: Labels;
  /** Each stock's industry as an index into `names` (data's industryIndex of the panel). */
  industries: { index: Int32Array; names: string[] };
}

/** The feature store a model reads: its spec's input set's. */
export function storeOf(data: PipelineData, spec: ModelSpec): FeatureStore {
  const set = inputSetOfSpec(spec);
  const store = set === "v4" ? data.store : data.inputStores?.[set];
  if (!store) throw new Error(`no feature store of the ${set} inputs was built for this run`);
  return store;
}

/**
 * The one value the rolling trainer takes: the trainer's settings (each window's trainModel reads
 * them as they are) and the rolling loop's own. With rotateDates the samples are built on every
 * date and each epoch takes every sampleStep-th date from a different offset; without, the samples
 * are built every sampleStep-th date and each epoch sees them all.
 */
export interface RollingOptions extends Partial<TrainOptions> {
  sampleStep: number;
  minListingDays: number;
  spearmanThreshold: number;
  /**
   * After early stopping has chosen the epoch count on the validation tail, train a fresh model
   * (same seed and settings) on train + validation for that many epochs and predict with it: the
   * model then has seen the data up to the purge gap before the test window.
   */
  refit?: boolean;
  /** Where each window's model is saved (weights, feature selection, settings). */
  outDir?: string;
  /**
   * Seeds per window (default 1): seed k (0-based) trains exactly as a run with seed seed + k,
   * its model and checkpoint in a `seed-<k>` folder inside the window's (k = 0: the window's own).
   */
  seeds?: number;
  onWindow?: (w: RollingWindow, i: number, n: number, seed: number) => void;
}

export interface WindowResult {
  window: string;
  selection: { kept: number; names: string[]; dropped: { name: string; by: string; rho: number }[] } | null;
  samples: { train: number; valid: number; test: number; excluded: Record<string, number> };
  /** The early-stopping run: its epochs and the epoch it chose (best validation Sharpe). */
  log: EpochLog[];
  bestEpoch: number;
  /** Training time, the refit's included. */
  seconds: number;
  /**
   * With refit: the model that predicted the test window, trained on `train` (first and last
   * sample date) for bestEpoch + 1 epochs on `samples` samples, in `seconds`.
   */
  refit?: { epochs: number; samples: number; seconds: number; train: [string, string] };
  /** The ridge row: the penalty chosen on the validation tail (its log has one entry per penalty tried). */
  penalty?: number;
  /** V4: the attention weights over the T steps (oldest first), averaged over test samples. */
  attention?: number[];
}

/**
 * Feature panels are read once per (store, window d, columns) and shared across windows and models;
 * so is each window's Spearman selection (on V4's store), which depends on the window and not on the model.
 */
export class PanelCache {
  readonly #cache = new Map<string, FeaturePanel>();
  readonly #selections = new Map<string, SpearmanSelection>();
  constructor(readonly store: FeatureStore) {}
  /** Window d's panel of `store` (default the cache's own, V4's), with `columns` (default all). */
  get(d: number, columns?: number[], store = this.store): FeaturePanel {
    const key = `${store === this.store ? "" : store.dir}:${d}:${columns ? columns.join(",") : "all"}`;
    let p = this.#cache.get(key);
    if (!p) {
      p = readFeaturePanel(store, d, columns);
      this.#cache.set(key, p);
    }
    return p;
  }
  /** Drops cached panels with column subsets (the full ones stay). */
  trim(): void {
    for (const k of [...this.#cache.keys()]) if (!k.endsWith(":all")) this.#cache.delete(k);
  }
  /** Spearman dropout on a window's training span, over the d = 10 panel. */
  selection(calendar: string[], w: RollingWindow, seed: number, threshold: number): SpearmanSelection {
    const key = `${w.train.from}:${w.train.to}:${seed}:${threshold}`;
    let sel = this.#selections.get(key);
    if (!sel) this.#selections.set(key, (sel = spearmanSelect(this.get(10), calendar, { from: w.train.from, to: w.train.to, seed, threshold })));
    return sel;
  }
}

/** The cells (flat indices into `factor`'s values) of samples: where their predictions go in the factor. */
export function cellsOf(samples: { stock: number; date: number }[], factor: Grid): Int32Array {
  return Int32Array.from(samples, (s) => factor.index(s.stock, s.date));
}

/** One window's training, as the rolling loop (or a worker process) returns it. */
export interface WindowOutcome {
  result: WindowResult;
  /** The window's out-of-sample predictions: factor cells (see cellsOf) and their values. */
  cells: Int32Array;
  values: Float64Array;
  /** The feature columns the model read. */
  columns: number[];
  /** Parameter significance of the window's model (figure 5-2), where the model has first layers to read. */
  significance: Significance | null;
}

/** One (model, window, seed) to train: what trainWindow reads. */
export interface WindowTask {
  /** The model's name (its folders under checkpoints/ and models/). */
  name: string;
  spec: ModelSpec;
  data: PipelineData;
  cache: PanelCache;
  window: RollingWindow;
  /** The window's index in the schedule (its folder). */
  index: number;
  /** The seed's index k (seed o.seed + k; default 0). */
  seed?: number;
  options: RollingOptions;
}

