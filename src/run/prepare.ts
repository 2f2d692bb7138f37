/**
 * A run's preparation: the data, its schedule, the feature store, the style exposures, the labels
 * and the models to train. The same in the run and in each training worker.
 */
import { join } from "node:path";
import { type Grid, type Panel, type QualityReport, industryIndex } from "../data/index.js";
import { type FeatureStore, type InputSet, buildFeatureStore, storeFeatureCount } from "../features/index.js";
import { styleExposures } from "../risk/index.js";
import { type RollingWindow, makeLabels, rollingWindows } from "../dataset/index.js";
import { type ModelSpec, OWN_INPUTS, inputSetOfSpec } from "../models/index.js";
import type { PipelineData } from "../train/index.js";
import { type Config, UsageError, featureSettingsOf } from "./config.js";
import { loadData } from "./data.js";
import type { Progress } from "./progress.js";

/** What every stage after loading reads: the data, its schedule, features, risk model and labels. */
export interface PreparedRun extends PipelineData {
  quality: QualityReport;
  oracle?: Grid;
  windows: RollingWindow[];
  /** The models to train, by name (modelSpecs of the configuration). */
  specs: [string, ModelSpec][];
}

/** Where a run's feature stores are cached: one folder per data and settings under it. */
export const featureCacheDir = (cfg: Config): string => join(cfg.out, "cache", "features");

/**
 * The feature store a configuration asks for, of V4's inputs or another input set (the baselines'
 * own), built once per data and settings, then read from the cache.
 */
export function featureStoreOf(cfg: Config, panel: Panel, progress?: Progress, inputs: InputSet = "v4"): FeatureStore {
  // V4's settings leave `inputs` out, so that its cache key is the one it had before input sets.
  const settings = inputs === "v4" ? featureSettingsOf(cfg) : { ...featureSettingsOf(cfg), inputs };
  const store = buildFeatureStore(panel, featureCacheDir(cfg), settings, (done, total) => progress?.update(done, total));
  progress?.done();
  return store;
}

/**
 * Loads the data and derives the schedule, the feature store (built once, then read from its
 * cache), the style exposures and the labels.
 */
export async function prepareRun(cfg: Config, log: (s: string) => void, progress?: Progress): Promise<PreparedRun> {
  const { panel, quality, oracle } = await loadData(cfg, log);
  log(`data: ${panel.stocks.length} stocks x ${panel.calendar.length} dates, ${quality.rowsKept} of ${quality.rowsIn} rows kept`);
  const windows = (() => {
    try {
      return rollingWindows(panel.calendar, { ...cfg.schedule, horizon: cfg.horizon });
    } catch (e) {
      throw new UsageError(`schedule: ${(e as Error).message}`);
    }
  })();
  log(`schedule: ${windows.length} test windows: ${windows.map((w) => w.name).join(", ")}`);
  const store = featureStoreOf(cfg, panel, progress);
  log(`features: ${store.meta.settings.windows.map((d) => `d=${d}`).join(", ")} in ${store.dir} (${store.meta.seconds.toFixed(1)} s to build)`);
  // The baselines' own inputs (baselineInputs: own): a store per input set, the same windows and scaling.
  const inputStores: PreparedRun["inputStores"] = {};
  const specs = modelSpecs(cfg);
  for (const set of new Set(specs.map(([, spec]) => inputSetOfSpec(spec)))) {
    if (set === "v4") continue;
    const s = (inputStores[set] = featureStoreOf(cfg, panel, undefined, set));
    log(`features of the ${set} inputs: ${storeFeatureCount(s)} per window in ${s.dir} (${s.meta.seconds.toFixed(1)} s to build)`);
  }
  const styles = styleExposures(panel);
  const labels = makeLabels(panel, styles, cfg.horizon);
  return { panel, quality, oracle, windows, specs, store, inputStores, styles, labels, industries: industryIndex(panel) };
}

/** The ablations of the paper's chapter 4, as V4 switches. */
export const ABLATIONS: Record<string, ModelSpec> = {
  "v4-no-transformer": { kind: "v4", v4: { auxImages: 0 } },
  "v4-no-attention": { kind: "v4", v4: { attention: "mean" } },
  "v4-lstm": { kind: "v4", v4: { bidirectional: false } },
  "v4-no-spearman": { kind: "v4", v4: { useSpearman: false } },
  "v4-seq10": { kind: "v4", v4: { seqLen: 10 } },
};

/**
 * The models a run trains, by name: the configured ones, then the ablations; V4's settings applied,
 * and with baselineInputs "own" each baseline's own inputs.
 */
export function modelSpecs(cfg: Config): [string, ModelSpec][] {
  const withV4 = (spec: ModelSpec): ModelSpec => (spec.kind === "v4" ? { kind: "v4", v4: { ...cfg.v4, ...spec.v4 } } : spec);
  const own = (kind: ModelSpec["kind"]): ModelSpec["inputs"] =>
    (cfg.baselineInputs === "own" && kind !== "ridge" ? OWN_INPUTS[kind] : undefined);
  return [
    ...cfg.models.map((m) => [m, { kind: m, ...(own(m) ? { inputs: own(m) } : {}) }] as [string, ModelSpec]),
    ...(cfg.ablations ? Object.entries(ABLATIONS) : []),
    ...(cfg.references ? [["ridge", { kind: "ridge" }] as [string, ModelSpec]] : []),
  ].map(([name, spec]) => [name, withV4(spec)]);
}
