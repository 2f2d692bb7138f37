/**
 * The run configuration: one object drives a run (a YAML or JSON file, then command-line flags on
 * top). Validated with zod in strict mode, so that a typo in a key is an error that names it. Each
 * default is the owning stage's own constant (DEFAULT_TRAIN, DEFAULT_ENHANCE, PAPER_SCHEDULE,
 * ALPHANET_V4_DEFAULTS, DEFAULT_FEATURE_SETTINGS), written once, there.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { PAPER_SCHEDULE } from "../dataset/index.js";
import { DEFAULT_FEATURE_SETTINGS } from "../features/index.js";
import { ALPHANET_V4_DEFAULTS } from "../models/index.js";
import { DEFAULT_TRAIN, type RollingOptions, type TrainOptions } from "../train/index.js";
import { DEFAULT_ENHANCE, PAPER_COSTS, REALISTIC_COSTS, type Costs } from "../evaluate/index.js";

const T = DEFAULT_TRAIN;
const E = DEFAULT_ENHANCE;

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "a date YYYY-MM-DD");
const costs = z.union([z.enum(["paper", "realistic"]), z.object({ commission: z.number().min(0), stampDuty: z.number().min(0) }).strict()]);

export const ConfigSchema = z.object({
  data: z.object({
    /** A bar file (CSV/Parquet) or a Qlib directory; absent: the synthetic market. */
    path: z.string().optional(),
    preset: z.string().optional(),
    map: z.record(z.string()).optional(),
    universeColumn: z.string().optional(),
    priceBasis: z.string().optional(),
    market: z.enum(["auto", "cn", "us", "other"]).default("auto"),
    /** The text encoding of a CSV (Excel and AKShare exports on Chinese Windows are GBK). */
    encoding: z.enum(["utf8", "gbk"]).default("utf8"),
    /** Pad A-share codes that lost their leading zeros (1 -> 000001) instead of stopping. */
    padCodes: z.boolean().default(false),
    instruments: z.object({ path: z.string(), map: z.record(z.string()).optional(), scale: z.record(z.number()).optional() }).strict().optional(),
    synthetic: z.object({
      stocks: z.number().int().min(20), start: z.string(), end: z.string(), industries: z.number().int().min(2),
      indexSize: z.number().int().min(10), targetIC: z.number().min(0).max(0.5), seed: z.number().int(),
    }).strict().partial().default({}),
  }).strict().default({}),
  models: z.array(z.enum(["v1", "v2", "v3", "v4"])).min(1).default(["v1", "v3", "v4"]),
  /** Also train the chapter-4 ablations of V4. */
  ablations: z.boolean().default(false),
  /**
   * Reference rows of table 1-1 on the same dates: a ridge regression on the same features, target
   * and neutralisation (trained per window like the networks), and classic one-line factors.
   */
  references: z.boolean().default(true),
  /**
   * The baselines' inputs: "v4", V4's 13 inputs and Spearman-selected features for every model (the
   * inputs fixed); "own", as the paper compares them: V1 on its own 9 inputs, V2 and V3 on their 15
   * (Huatai's reports), all of their set's features, no Spearman dropout (V4's). V4, the ridge row
   * and the classic factors read V4's inputs either way. On the quick market (seed 0) V1's IC read
   * 0.078 on V4's inputs and 0.053 on its own, V3's 0.054 and 0.076: no side yet, within the noise
   * of 24 test dates; "v4" kept, as before the key existed.
   */
  baselineInputs: z.enum(["own", "v4"]).default("v4"),
  /**
   * V4's regularisation, which the paper leaves open (DESIGN.md fixes the architecture and the
   * Bi-LSTM's dropout of 0.2); applies to V4 and its ablations.
   */
  v4: z.object({
    lstmDropout: z.number().min(0).lt(1),
    transformerDropout: z.number().min(0).lt(1),
    /** Width of the Transformers' feed-forward layer; 0: 4K. */
    transformerFeedforward: z.number().int().min(0),
  }).strict().partial().extend({
    // Written into every V4 spec (and so into each saved model's manifest), the defaults the
    // model's (ALPHANET_V4_DEFAULTS): a saved model says how it was built.
    /** Attention scores: the paper's (each step against the final state, figure 2-9) or from h_t alone. */
    attention: z.enum(["paper", "self"]).default(ALPHANET_V4_DEFAULTS.attention as "paper" | "self"),
    /**
     * Positional information in the Transformer branches. Sinusoidal by evidence on the quick market
     * (V4's IC, seeds 0-2, paper attention): none 0.088/0.033/-0.012, sinusoidal 0.100/0.045/-0.007,
     * learned 0.082/0.044/0.007; sinusoidal beat none on 5 of 6 (seed, attention) pairs, learned
     * moved with the seed either way. All within the seeds' spread: measure again at larger sizes.
     */
    positional: z.enum(["none", "sinusoidal", "learned"]).default(ALPHANET_V4_DEFAULTS.positional),
  }).default({}),
  schedule: z.object({
    trainStart: isoDate,
    testStart: isoDate,
    testEnd: isoDate,
    retrainMonths: z.number().int().min(1).max(60).default(PAPER_SCHEDULE.retrainMonths),
    /** The validation tail in trading days (default: 20% of the training span, at least 40). */
    validDays: z.number().int().min(10).optional(),
  }).strict().default(PAPER_SCHEDULE),
  horizon: z.number().int().min(1).max(60).default(10),
  sampleStep: z.number().int().min(1).max(60).default(T.sampleStep),
  /**
   * Each epoch trains on every sampleStep-th date from the next offset, so successive epochs see
   * different dates at the cost of one (false: the same dates every epoch). On the default demo
   * market V4's 2019 IC rose from 0.045 to 0.063 at equal cost (with fixed dates it memorised them);
   * on the quick market it read 0.077 against 0.098, within the noise of its 24 test dates.
   */
  rotateDates: z.boolean().default(T.rotateDates),
  minListingDays: z.number().int().min(0).default(60),
  features: z.object({
    windows: z.array(z.number().int().min(2).max(60)).default(DEFAULT_FEATURE_SETTINGS.windows),
    standardize: z.boolean().default(DEFAULT_FEATURE_SETTINGS.standardize),
    /** Clip each date's cross-section to median +- k MAD before the z-score (0: plain z-score). */
    winsorize: z.number().min(0).default(DEFAULT_FEATURE_SETTINGS.winsorize),
    spearmanThreshold: z.number().gt(0).max(1).default(0.8),
  }).strict().default({}),
  train: z.object({
    maxEpochs: z.number().int().min(1).max(1000).default(T.maxEpochs),
    patience: z.number().int().min(1).default(T.patience),
    lrStart: z.number().positive().default(T.lrStart),
    lrEnd: z.number().positive().default(T.lrEnd),
    lrEpochs: z.number().int().min(1).default(T.lrEpochs),
    minBatch: z.number().int().min(8).default(T.minBatch),
    longWeight: z.number().min(0).lt(1).default(T.longWeight),
    weightDecay: z.number().min(0).default(T.weightDecay),
    /**
     * After early stopping has chosen the epoch count on the validation tail, retrain a fresh model
     * (same seed and settings) on train + validation for that many epochs and predict with it.
     */
    refit: z.boolean().default(false),
  }).strict().default({}),
  evaluate: z.object({
    every: z.number().int().min(1).default(E.every),
    groups: z.number().int().min(2).max(20).default(5),
    costs: costs.default("paper"),
    index: z.string().default(E.index),
    maxWeight: z.number().gt(0).max(1).default(E.maxWeight),
    industryTolerance: z.number().min(0).default(E.industryTolerance),
    sizeTolerance: z.number().min(0).default(E.sizeTolerance),
    maxTurnover: z.number().gt(0).max(1).default(E.maxTurnover),
  }).strict().default({}),
  seed: z.number().int().default(T.seed),
  /**
   * Seeds per (model, window): seeds seed, seed + 1, ..., seed + N - 1, each trained exactly as a run
   * with that seed would be; the model's factor is the mean of their predictions (on each cell, over
   * the seeds that predicted it), and metrics.json reports every seed's IC and the spread.
   */
  seeds: z.number().int().min(1).max(100).default(1),
  /**
   * Which prediction is "the factor" (tables 1-1, 5-2, 5-3, the model's row in metrics.json) and what
   * early stopping reads: raw, the network's output; neutral, its residual after the per-date
   * industry and style regression that the loss (formula 3-3) applies. The other is reported beside it.
   */
  factor: z.enum(["raw", "neutral"]).default("raw"),
  /** Intra-op threads of each process. */
  threads: z.number().int().min(1).max(64).default(1),
  /** Processes that train rolling windows side by side (each with `threads` threads). */
  jobs: z.number().int().min(1).max(64).default(1),
  out: z.string().default("out"),
  resume: z.boolean().default(false),
}).strict();

export type Config = z.infer<typeof ConfigSchema>;

/** A configuration problem: the CLI prints it on one line and exits with code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export function validateConfig(raw: unknown, source = "configuration"): Config {
  const r = ConfigSchema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue.path.join(".") || "(top level)";
  const what = issue.code === "unrecognized_keys" ? `unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(", ")}` : issue.message;
  throw new UsageError(`${source}: ${where}: ${what}`);
}

/**
 * The outputs go into the folder `out` (made when missing): an existing file there, or a file where a
 * folder above it would be, stops the command before any work, with the reason.
 */
export function checkOutFolder(out: string): void {
  const target = resolve(out);
  for (let p = target; ; p = dirname(p)) {
    if (existsSync(p)) {
      if (statSync(p).isDirectory()) return;
      throw new UsageError(p === target
        ? `--out ${out}: an existing file, not a folder; the outputs go into a folder (made when missing): name another, or move the file`
        : `--out ${out}: ${p} is a file, so no folder can be made under it; name another folder`);
    }
    if (dirname(p) === p) return;
  }
}

export function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new UsageError(`${path}: cannot read the configuration file`);
  }
  try {
    return path.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new UsageError(`${path}: not valid ${path.endsWith(".json") ? "JSON" : "YAML"}: ${(e as Error).message.split("\n")[0]}`);
  }
}

/** Deep merge of plain objects: `over` wins. */
export function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const b = out[k];
    out[k] = v && typeof v === "object" && !Array.isArray(v) && b && typeof b === "object" && !Array.isArray(b)
      ? merge(b as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

/**
 * The configuration from its layers (a demo preset, a file, the flags; later layers win), validated;
 * a schedule given in part completes the paper's. `source` names the file in error messages.
 */
export function resolveConfig(layers: Record<string, unknown>[], source = "configuration"): Config {
  const merged = layers.reduce((a, b) => merge(a, b), {});
  if (merged.schedule && typeof merged.schedule === "object") merged.schedule = { ...PAPER_SCHEDULE, ...(merged.schedule as object) };
  return validateConfig(merged, source);
}

/**
 * The demo's sizes: default (within 30 minutes on 2 cores), quick (3 minutes), paper scale. The
 * demos train windows in two processes: the 2-core machines they are sized for.
 */
export const DEMO_PRESETS: Record<string, Record<string, unknown>> = {
  default: {
    data: { synthetic: { stocks: 200, start: "2016-01-01", end: "2021-06-01", indexSize: 80 } },
    sampleStep: 10, rotateDates: true, train: { maxEpochs: 4, patience: 2 }, features: { windows: [5, 10, 20] }, jobs: 2,
  },
  quick: {
    data: { synthetic: { stocks: 100, start: "2017-06-01", end: "2020-12-31", indexSize: 40 } },
    schedule: { trainStart: "2017-06-01", testStart: "2020-01-01", testEnd: "2020-12-31", retrainMonths: 6 },
    sampleStep: 10, train: { maxEpochs: 2, patience: 2 }, features: { windows: [5, 10, 20] }, jobs: 2,
  },
  "paper-scale": {
    data: { synthetic: { stocks: 3000, start: "2016-01-01", end: "2021-06-01", indexSize: 500 } },
    sampleStep: 2, train: { maxEpochs: 90, patience: 10 }, features: { windows: [2, 5, 10, 20] },
  },
};

/**
 * The feature store a configuration asks for: its windows and scaling, d = 10 always among the
 * windows (the primary image and the Spearman selection read it). One place for the run and for
 * `alphanet features`, so that the store the command builds is the one a run reuses.
 */
export function featureSettingsOf(cfg: Config): { windows: number[]; standardize: boolean; winsorize: number } {
  const f = cfg.features;
  return { windows: [...new Set([...f.windows, 10])].sort((a, b) => a - b), standardize: f.standardize, winsorize: f.winsorize };
}

/** The costs a configuration names. */
export function costsOf(c: Config["evaluate"]["costs"]): Costs {
  return c === "paper" ? PAPER_COSTS : c === "realistic" ? REALISTIC_COSTS : c;
}

/** The one value the rolling trainer takes: the configuration's training settings (hooks for logs and progress added by the caller). */
export function rollingOptions(cfg: Config, hooks: Pick<TrainOptions, "onEpoch" | "onProgress"> = {}): RollingOptions {
  return {
    ...cfg.train, sampleStep: cfg.sampleStep, rotateDates: cfg.rotateDates, minListingDays: cfg.minListingDays,
    spearmanThreshold: cfg.features.spearmanThreshold, outDir: cfg.out, seeds: cfg.seeds, seed: cfg.seed, resume: cfg.resume,
    factor: cfg.factor, ...hooks,
  };
}
