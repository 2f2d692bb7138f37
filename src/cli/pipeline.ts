/**
 * The whole pipeline of a run: data, features, risk model and labels, rolling training of each
 * model, evaluation, and the outputs (metrics.json, CSVs, the report). Each stage is called
 * through its folder's public surface.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { type QualityReport, forwardIC, industryIndex } from "../data/index.js";
import { buildFeatureStore, classicFactors } from "../features/index.js";
import { neutralizePanel, styleExposures } from "../risk/index.js";
import { type RollingWindow, makeLabels, rollingWindows, windowDates } from "../dataset/index.js";
import { type ModelSpec, OWN_INPUTS, inputSetOfSpec } from "../models/index.js";
import {
  PanelCache, type PipelineData, checkResume, type RollingOptions, type RollingResult, type TrainOptions, runRolling,
} from "../train/index.js";
import {
  DEFAULT_ENHANCE, PAPER_COSTS, REALISTIC_COSTS, type Costs, enhanceIndex, icDecay, icTest, stratify, styleExposure,
} from "../evaluate/index.js";
import { setNumThreads, torchVersion } from "../engine/index.js";
import { type Config, UsageError, featureSettingsOf } from "./config.js";
import { loadData } from "./data.js";
import { type Progress, epochLine, progressBar } from "./progress.js";
import { type ReportModel, chartPngs, renderReport } from "../report/index.js";
import { trainInWorkers } from "./jobs.js";

/** A model's evaluation: what the report renders, with the rolling training behind it. */
export interface ModelEvaluation extends Omit<ReportModel, "rolling"> {
  rolling?: RollingResult;
  /** The factor neutralised on every date (written as factor_neutral_<model>.csv). */
  neutralFactor?: Float64Array;
  /** Which prediction the row is (configuration `factor`); the other one is `neutral` (labelled). */
  factor?: "raw" | "neutral";
  /** With several seeds: each seed's IC and the spread across seeds (metrics.json models.<name>.seeds). */
  seeds?: SeedSummary;
}

/** Each seed's IC test of the configured factor, and the spread of its mean IC and rank IC across seeds. */
export interface SeedSummary {
  seeds: { seed: number; ic_mean: number; rank_ic_mean: number; ir: number; rank_ir: number }[];
  ic_mean: Spread;
  rank_ic_mean: Spread;
}

export interface Spread {
  mean: number;
  /** The sample standard deviation (n - 1). */
  std: number;
  min: number;
  max: number;
}

export function spread(x: number[]): Spread {
  const mean = x.reduce((a, b) => a + b, 0) / x.length;
  const std = x.length > 1 ? Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / (x.length - 1)) : 0;
  return { mean, std, min: Math.min(...x), max: Math.max(...x) };
}

export interface RunResult {
  metrics: Record<string, unknown>;
  evaluations: ModelEvaluation[];
  outDir: string;
}

/** The ablations of the paper's chapter 4, as V4 switches. */
export const ABLATIONS: Record<string, ModelSpec> = {
  "v4-no-transformer": { kind: "v4", v4: { auxImages: 0 } },
  "v4-no-attention": { kind: "v4", v4: { attention: "mean" } },
  "v4-lstm": { kind: "v4", v4: { bidirectional: false } },
  "v4-no-spearman": { kind: "v4", v4: { useSpearman: false } },
  "v4-seq10": { kind: "v4", v4: { seqLen: 10 } },
};

export function costsOf(c: Config["evaluate"]["costs"]): Costs {
  return c === "paper" ? PAPER_COSTS : c === "realistic" ? REALISTIC_COSTS : c;
}

function csv(rows: (string | number)[][]): string {
  const cell = (v: string | number): string => {
    const s = typeof v === "number" ? (Number.isFinite(v) ? String(+v.toPrecision(10)) : "") : v;
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return rows.map((r) => r.map(cell).join(",")).join("\n") + "\n";
}

/** What every stage after loading reads: the data, its schedule, features, risk model and labels. */
export interface PreparedRun extends PipelineData {
  quality: QualityReport;
  oracle?: Float64Array;
  windows: RollingWindow[];
}

/**
 * Loads the data and derives the schedule, the feature store (built once, then read from its
 * cache), the style exposures and the labels: the same in the run and in each training worker.
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
  const store = buildFeatureStore(panel, join(cfg.out, "cache", "features"), featureSettingsOf(cfg),
    (done, total) => progress?.update(done, total));
  progress?.done();
  log(`features: ${store.meta.settings.windows.map((d) => `d=${d}`).join(", ")} in ${store.dir} (${store.meta.seconds.toFixed(1)} s to build)`);
  // The baselines' own inputs (baselineInputs: own): a store per input set, the same windows and scaling.
  const inputStores: PreparedRun["inputStores"] = {};
  for (const set of new Set(modelSpecs(cfg).map(([, spec]) => inputSetOfSpec(spec)))) {
    if (set === "v4") continue;
    const s = (inputStores[set] = buildFeatureStore(panel, join(cfg.out, "cache", "features"), { ...featureSettingsOf(cfg), inputs: set }));
    log(`features of the ${set} inputs: ${s.meta.names["10"].length} per window in ${s.dir} (${s.meta.seconds.toFixed(1)} s to build)`);
  }
  const styles = styleExposures(panel);
  const labels = makeLabels(panel, styles, cfg.horizon);
  return { panel, quality, oracle, windows, store, inputStores, styles, labels, industries: industryIndex(panel) };
}

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

/** The rolling options a configuration gives (hooks for logs and progress added by the caller). */
export function rollingOptions(cfg: Config, hooks: Pick<TrainOptions, "onEpoch" | "onProgress"> = {}): RollingOptions {
  const { refit, ...trainSettings } = cfg.train;
  return {
    sampleStep: cfg.sampleStep, rotateDates: cfg.rotateDates, minListingDays: cfg.minListingDays,
    spearmanThreshold: cfg.features.spearmanThreshold, outDir: cfg.out, seeds: cfg.seeds,
    train: { ...trainSettings, seed: cfg.seed, resume: cfg.resume, factor: cfg.factor, ...hooks }, refit,
  };
}

export async function runPipeline(cfg: Config, opts: { log?: (s: string) => void; progress?: boolean } = {}): Promise<RunResult> {
  const log = opts.log ?? ((s: string) => process.stderr.write(s + "\n"));
  setNumThreads(cfg.threads);
  const t0 = Date.now();
  const outDir = cfg.out;
  mkdirSync(outDir, { recursive: true });

  const bar = (label: string): Progress => progressBar(label, opts.progress ?? process.stderr.isTTY === true);
  const prepared = await prepareRun(cfg, log, bar("features"));
  const { panel, quality, oracle, windows, store, styles, labels, industries } = prepared;
  const S = panel.stocks.length, D = panel.calendar.length;
  const specs = modelSpecs(cfg);
  // Resume continues only this run's checkpoints: any made from other data or settings stops the run
  // here, before training and before the finished results of the run that made them are removed.
  for (const [name, spec] of specs) checkResume(name, spec, prepared, windows, rollingOptions(cfg));
  // A run that stops early must not leave results that look complete.
  for (const f of ["metrics.json", "report.html"]) rmSync(join(outDir, f), { force: true });
  const staging = join(outDir, `.staging-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const trained = new Map<string, RollingResult>();
  if (cfg.jobs > 1) {
    const ui = { log, progress: bar(`train (${cfg.jobs} jobs)`) };
    for (const r of await trainInWorkers(cfg, specs, windows, S * D, ui)) trained.set(r.name, r);
  } else {
    const cache = new PanelCache(store);
    for (const [name, spec] of specs) {
      const tb = bar(`train ${name}`);
      trained.set(name, runRolling(name, spec, prepared, windows, cache, {
        ...rollingOptions(cfg, {
          onProgress: (d, t) => tb.update(d, t),
          onEpoch: (e) => { tb.done(); log(`${name}: ${epochLine(e)}`); },
        }),
        onWindow: (w, i, n, k) => log(`${name}: window ${i + 1}/${n} (${w.name})${k > 0 ? ` seed ${cfg.seed + k}` : ""}`),
      }));
      tb.done();
    }
  }
  const evaluations: ModelEvaluation[] = [];
  const costs = costsOf(cfg.evaluate.costs);
  const sizeIdx = styles.names.indexOf("size");
  const neutralOf = (f: Float64Array): Float64Array => neutralizePanel(f, styles, industries, S, D).residual;
  for (const [name] of specs) {
    const rolling = trained.get(name)!;
    const neutral = neutralOf(rolling.factor);
    // "The factor" is the configured prediction; the other is reported beside it.
    const [factor, other] = cfg.factor === "neutral" ? [neutral, rolling.factor] : [rolling.factor, neutral];
    const ev = await evaluate(name, factor, rolling.trainSeconds);
    ev.rolling = rolling;
    const nic = icTest(other, labels.raw, panel.calendar, S, cfg.evaluate.every).summary;
    ev.neutral = { ic: nic.ic.mean, rankIc: nic.rankIc.mean, styleExposure: styleExposure(other, styles, S, D, cfg.evaluate.every),
      ...(cfg.factor === "neutral" ? { label: "raw" } : {}) };
    ev.neutralFactor = neutral;
    if (cfg.factor === "neutral") ev.factor = "neutral";
    if (rolling.seeds) {
      const per = rolling.seeds.map((r) => {
        const t = icTest(cfg.factor === "neutral" ? neutralOf(r.factor) : r.factor, labels.raw, panel.calendar, S, cfg.evaluate.every).summary;
        return { seed: r.seed, ic_mean: t.ic.mean, rank_ic_mean: t.rankIc.mean, ir: t.ic.ir, rank_ir: t.rankIc.ir };
      });
      ev.seeds = { seeds: per, ic_mean: spread(per.map((x) => x.ic_mean)), rank_ic_mean: spread(per.map((x) => x.rank_ic_mean)) };
      log(`${name}: ${per.length} seeds, IC ${ev.seeds.ic_mean.mean.toFixed(4)} +- ${ev.seeds.ic_mean.std.toFixed(4)} (${ev.seeds.ic_mean.min.toFixed(4)} to ${ev.seeds.ic_mean.max.toFixed(4)}); the ensemble's below`);
    }
    evaluations.push(ev);
    log(`${name}: IC ${ev.ic.summary.ic.mean.toFixed(4)}, rank IC ${ev.ic.summary.rankIc.mean.toFixed(4)}, IR ${ev.ic.summary.ic.ir.toFixed(3)}, trained in ${rolling.trainSeconds.toFixed(0)} s`);
  }

  async function evaluate(name: string, factor: Float64Array, trainSeconds: number): Promise<ModelEvaluation> {
    const ic = icTest(factor, labels.raw, panel.calendar, S, cfg.evaluate.every);
    const decay = icDecay(factor, panel.fields.vwap!, S, D, [1, 5, 10, 20], cfg.evaluate.every);
    const groups = stratify(panel, factor, { groups: cfg.evaluate.groups, every: cfg.evaluate.every, costs });
    const enhancement = panel.indexWeights[cfg.evaluate.index] && sizeIdx >= 0
      ? await enhanceIndex(panel, factor, styles.values[sizeIdx], { ...DEFAULT_ENHANCE, ...cfg.evaluate, costs })
      : null;
    return { name, ic, decay, groups, enhancement, styleExposure: styleExposure(factor, styles, S, D, cfg.evaluate.every), trainSeconds };
  }

  // The oracle (synthetic data) and the classic factors: on the cells the first model predicts.
  const first = evaluations[0]?.rolling?.factor;
  const onTestCells = (x: Float64Array): Float64Array => {
    const f = new Float64Array(S * D).fill(NaN);
    for (let k = 0; k < S * D; k++) if (first ? Number.isFinite(first[k]) : false) f[k] = x[k];
    return f;
  };
  const oracleEval = oracle ? await evaluate("oracle", onTestCells(oracle), 0) : null;
  const references: ModelEvaluation[] = [];
  if (cfg.references) for (const c of classicFactors(panel)) references.push(await evaluate(c.name, onTestCells(c.values), 0));

  const summarizeModel = (e: ModelEvaluation): Record<string, unknown> => ({
    factor: e.factor, inputs: e.rolling && inputSetOfSpec(e.rolling.spec),
    ic_mean: e.ic.summary.ic.mean, ic_std: e.ic.summary.ic.std, ir: e.ic.summary.ic.ir, ic_t: e.ic.summary.ic.t,
    ic_positive: e.ic.summary.ic.positive, rank_ic_mean: e.ic.summary.rankIc.mean, rank_ic_std: e.ic.summary.rankIc.std,
    rank_ir: e.ic.summary.rankIc.ir, ic_by_year: e.ic.byYear, ic_decay: e.decay,
    group_annual_excess: e.groups.annualExcess, group_annual_return: e.groups.annualReturn,
    long_short_annual: e.groups.longShortAnnual, group_turnover: e.groups.turnover,
    enhancement: e.enhancement ? { by_year: e.enhancement.byYear, max_constraint_violation: e.enhancement.maxConstraintViolation,
      relaxed_rebalances: e.enhancement.relaxed, rebalances: e.enhancement.rebalances } : null,
    style_exposure: e.styleExposure, train_seconds: e.trainSeconds,
    [e.neutral?.label ?? "neutralised"]: e.neutral
      ? { ic_mean: e.neutral.ic, rank_ic_mean: e.neutral.rankIc, style_exposure: e.neutral.styleExposure } : undefined,
    seeds: e.seeds,
    windows: e.rolling?.windows.map((w) => ({ window: w.window, best_epoch: w.bestEpoch, epochs: w.log.length, seconds: w.seconds,
      kept_features: w.selection?.kept ?? null, samples: w.samples, attention: w.attention, refit: w.refit ?? null })),
  });
  const metrics: Record<string, unknown> = {
    models: Object.fromEntries(evaluations.map((e) => [e.name, summarizeModel(e)])),
    oracle: oracleEval ? summarizeModel(oracleEval) : null,
    references: Object.fromEntries(references.map((e) => [e.name, summarizeModel(e)])),
    oracle_configured_ic: oracle ? forwardIC(oracle, panel.fields.vwap!, S, D, cfg.horizon, cfg.evaluate.every) : null,
    data_quality: quality,
    labels: { horizon: cfg.horizon, missing: labels.missing, warnings: labels.warnings },
    features: {
      windows: store.meta.settings.windows,
      kept: (evaluations.find((e) => e.rolling?.windows[0]?.selection) ?? evaluations[0])?.rolling?.windows.map((w) => w.selection?.kept ?? 208) ?? [],
      stand_ins: store.meta.standIns, masked_windows: store.meta.masked,
      kept_names_last_window: evaluations.find((e) => e.rolling?.windows.at(-1)?.selection)?.rolling?.windows.at(-1)?.selection?.names ?? [],
      // The baselines' own inputs (baselineInputs: own): each set's feature count and stand-ins.
      input_sets: Object.fromEntries(Object.entries(prepared.inputStores ?? {}).map(([set, s]) =>
        [set, { features: s.meta.names["10"].length, stand_ins: s.meta.standIns }])),
    },
    risk: { styles: styles.names, notes: styles.notes },
    schedule: windows.map((w) => ({ name: w.name, ...windowDates(panel.calendar, w) })),
    conventions: {
      ic: "Pearson (IC) and Spearman (rank IC) across stocks on rebalance dates every N trading days, against the forward return vwap t+1 to t+1+h; IR = mean / std (not annualised)",
      trading: "signals at the close of t trade at the vwap of t+1; buys pay commission, sells commission + stamp duty; suspended or limit-up stocks are not bought, suspended or limit-down stocks not sold",
      annualisation: "geometric over 252 trading days: (NAV_end / NAV_start)^(252 / days) - 1; excess from the ratio of NAVs",
      costs,
    },
    settings: cfg,
    versions: { alphanet: "0.1.0", node: process.version, torch: torchVersion() },
    seconds: (Date.now() - t0) / 1000,
  };

  // Outputs: staged, then moved into place; metrics.json last, so that its presence means complete.
  const write = (name: string, text: string): void => writeFileSync(join(staging, name), text);
  const writeFactor = (file: string, f: Float64Array): void => {
    const rows: (string | number)[][] = [["date", "code", "factor"]];
    for (let d = 0; d < D; d++) for (let s = 0; s < S; s++) {
      const v = f[s * D + d];
      if (Number.isFinite(v)) rows.push([panel.calendar[d], panel.stocks[s], v]);
    }
    write(file, csv(rows));
  };
  for (const e of evaluations) {
    writeFactor(`factor_${e.name}.csv`, e.rolling!.factor);
    writeFactor(`factor_neutral_${e.name}.csv`, e.neutralFactor!);
  }
  const all = [...evaluations, ...references, ...(oracleEval ? [oracleEval] : [])];
  write("table_1_1_ic.csv", csv([["model", "ic_mean", "ic_std", "ir", "rank_ic_mean", "rank_ic_std", "rank_ir", "ic_t", "ic_positive"],
    ...all.map((e) => [e.name, e.ic.summary.ic.mean, e.ic.summary.ic.std, e.ic.summary.ic.ir, e.ic.summary.rankIc.mean,
      e.ic.summary.rankIc.std, e.ic.summary.rankIc.ir, e.ic.summary.ic.t, e.ic.summary.ic.positive])]));
  write("table_5_2_groups.csv", csv([["model", ...all[0].groups.annualExcess.map((_, g) => `group_${g + 1}_annual_excess`), "long_short_annual"],
    ...all.map((e) => [e.name, ...e.groups.annualExcess, e.groups.longShortAnnual])]));
  write("table_5_3_enhancement.csv", csv([["model", "year", "excess_return", "holdings", "volatility", "sharpe", "max_drawdown", "turnover"],
    ...all.flatMap((e) => (e.enhancement?.byYear ?? []).map((y) => [e.name, y.year, y.excess_return, y.holdings, y.volatility, y.sharpe, y.max_drawdown, y.turnover]))]));
  write("ic_series.csv", csv([["model", "date", "ic", "rank_ic"], ...all.flatMap((e) => e.ic.dates.map((d, i) => [e.name, d, e.ic.ic[i], e.ic.rankIc[i]]))]));
  write("data_quality.json", JSON.stringify(quality, null, 2));
  write("report.html", renderReport({ metrics, evaluations: all, quality, store: store.meta, panel }));
  const pngs = await chartPngs(resolve(staging, "report.html"), join(staging, "charts"));
  metrics.charts = "written" in pngs ? { png: pngs.written, folder: "charts" } : { png: 0, skipped: pngs.skipped };
  if ("skipped" in pngs) log(`charts: ${pngs.skipped}`);
  write("metrics.json", JSON.stringify(metrics, (_, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 2));
  if (existsSync(join(staging, "charts"))) {
    rmSync(join(outDir, "charts"), { recursive: true, force: true });
    renameSync(join(staging, "charts"), join(outDir, "charts"));
  }
  const staged = readdirSync(staging);
  for (const name of ["factor_", "table_", "ic_series.csv", "data_quality.json", "report.html", "metrics.json"]) {
    for (const f of staged.filter((x) => x.startsWith(name))) renameSync(join(staging, f), join(outDir, f));
  }
  rmSync(staging, { recursive: true, force: true });
  log(`report: ${join(outDir, "report.html")}`);
  return { metrics, evaluations, outDir };
}

