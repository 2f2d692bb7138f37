/**
 * A run's outputs: metrics.json (its schema is here), the factor and table CSVs, the quality
 * report and the HTML report with its charts, staged in a folder and moved into place with
 * metrics.json last, so that its presence means the run is complete.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { type Grid, fieldGrid, forwardIC } from "../data/index.js";
import { windowDates } from "../dataset/index.js";
import { torchVersion } from "../engine/index.js";
import { inputSetOfSpec } from "../models/index.js";
import { storeFeatureCount } from "../features/index.js";
import { type IcTable, icTable } from "../evaluate/index.js";
import { chartPngs, renderReport } from "../report/index.js";
import type { Config } from "./config.js";
import type { ModelEvaluation, RunEvaluations } from "./evaluation.js";
import type { PreparedRun } from "./prepare.js";

/** A run that stops early must not leave results that look complete: the last run's are removed before training. */
export function clearResults(outDir: string): void {
  for (const f of ["metrics.json", "report.html"]) rmSync(join(outDir, f), { force: true });
}

/** Every evaluation in the order of the tables: the models, the reference factors, the oracle. */
function allEvaluations(ev: RunEvaluations): ModelEvaluation[] {
  return [...ev.models, ...ev.references, ...(ev.oracle ? [ev.oracle] : [])];
}

/** A model's (or a reference factor's) entry of metrics.json. */
function summarizeModel(e: ModelEvaluation): Record<string, unknown> {
  return {
    factor: e.factor, inputs: e.rolling && inputSetOfSpec(e.rolling.spec),
    ic_mean: e.ic.summary.ic.mean, ic_std: e.ic.summary.ic.std, ir: e.ic.summary.ic.ir, ic_t: e.ic.summary.ic.t,
    ic_positive: e.ic.summary.ic.positive, rank_ic_mean: e.ic.summary.rankIc.mean, rank_ic_std: e.ic.summary.rankIc.std,
    rank_ir: e.ic.summary.rankIc.ir, ic_by_year: e.ic.byYear, ic_decay: e.decay,
    group_annual_excess: e.groups.annualExcess, group_annual_return: e.groups.annualReturn,
    long_short_annual: e.groups.longShortAnnual, group_turnover: e.groups.turnover,
    enhancement: e.enhancement ? { by_year: e.enhancement.byYear, max_constraint_violation: e.enhancement.maxConstraintViolation,
      relaxed_rebalances: e.enhancement.relaxed, rebalances: e.enhancement.rebalances, excess_drawdown: e.enhancement.excessDrawdown } : null,
    style_exposure: e.styleExposure, train_seconds: e.trainSeconds,
    [e.neutral?.label ?? "neutralised"]: e.neutral
      ? { ic_mean: e.neutral.ic, rank_ic_mean: e.neutral.rankIc, style_exposure: e.neutral.styleExposure } : undefined,
    seeds: e.seeds,
    windows: e.rolling?.windows.map((w) => ({ window: w.window, best_epoch: w.bestEpoch, epochs: w.log.length, seconds: w.seconds,
      kept_features: w.selection?.kept ?? null, samples: w.samples, attention: w.attention, refit: w.refit ?? null })),
    significance: e.significance ? { operators: e.significance.operators, windows: e.significance.windows,
      mean_abs_weight: e.significance.grid, by_input: e.significance.byInput } : undefined,
  };
}

/** metrics.json: every evaluation, the data, labels, features, risk model and schedule, the conventions and settings. */
export function runMetrics(cfg: Config, prepared: PreparedRun, ev: RunEvaluations, seconds: number): Record<string, unknown> {
  const { panel, quality, oracle, windows, store, styles, labels } = prepared;
  const models = ev.models;
  return {
    models: Object.fromEntries(models.map((e) => [e.name, summarizeModel(e)])),
    oracle: ev.oracle ? summarizeModel(ev.oracle) : null,
    references: Object.fromEntries(ev.references.map((e) => [e.name, summarizeModel(e)])),
    oracle_configured_ic: oracle ? forwardIC(oracle, fieldGrid(panel, "vwap"), cfg.horizon, cfg.evaluate.every) : null,
    data_quality: quality,
    labels: { horizon: cfg.horizon, missing: labels.missing, warnings: labels.warnings },
    features: {
      windows: store.meta.settings.windows,
      kept: (models.find((e) => e.rolling?.windows[0]?.selection) ?? models[0])?.rolling?.windows.map((w) => w.selection?.kept ?? 208) ?? [],
      stand_ins: store.meta.standIns, masked_windows: store.meta.masked,
      kept_names_last_window: models.find((e) => e.rolling?.windows.at(-1)?.selection)?.rolling?.windows.at(-1)?.selection?.names ?? [],
      // The baselines' own inputs (baselineInputs: own): each set's feature count and stand-ins.
      input_sets: Object.fromEntries(Object.entries(prepared.inputStores ?? {}).map(([set, s]) =>
        [set, { features: storeFeatureCount(s), stand_ins: s.meta.standIns }])),
    },
    risk: { styles: styles.names, notes: styles.notes },
    schedule: windows.map((w) => ({ name: w.name, ...windowDates(panel.calendar, w) })),
    conventions: {
      ic: "Pearson (IC) and Spearman (rank IC) across stocks on rebalance dates every N trading days, against the forward return vwap t+1 to t+1+h; IR = mean / std (not annualised)",
      trading: "signals at the close of t trade at the vwap of t+1; buys pay commission, sells commission + stamp duty; suspended or limit-up stocks are not bought, suspended or limit-down stocks not sold",
      annualisation: "geometric over 252 trading days: (NAV_end / NAV_start)^(252 / days) - 1; excess from the ratio of NAVs",
      costs: ev.costs,
    },
    settings: cfg,
    versions: { alphanet: "0.1.0", node: process.version, torch: torchVersion() },
    seconds,
  };
}

/** CSV text: numbers to 10 significant digits, non-finite ones empty, text quoted where it must be. */
function csv(rows: (string | number)[][]): string {
  const cell = (v: string | number): string => {
    const s = typeof v === "number" ? (Number.isFinite(v) ? String(+v.toPrecision(10)) : "") : v;
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return rows.map((r) => r.map(cell).join(",")).join("\n") + "\n";
}

/**
 * Writes the outputs (the charts' record added to `metrics`): staged, then moved into place;
 * metrics.json last, so that its presence means complete. Returns table 1-1 as written (the command line prints it).
 */
export async function writeOutputs(outDir: string, prepared: PreparedRun, ev: RunEvaluations, metrics: Record<string, unknown>,
  log: (s: string) => void): Promise<IcTable> {
  const { panel, quality, store } = prepared;
  const staging = join(outDir, `.staging-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const write = (name: string, text: string): void => writeFileSync(join(staging, name), text);
  const writeFactor = (file: string, f: Grid): void => {
    const rows: (string | number)[][] = [["date", "code", "factor"]];
    for (let d = 0; d < f.dates; d++) for (let s = 0; s < f.stocks; s++) {
      const v = f.at(s, d);
      if (Number.isFinite(v)) rows.push([panel.calendar[d], panel.stocks[s], v]);
    }
    write(file, csv(rows));
  };
  for (const e of ev.models) {
    writeFactor(`factor_${e.name}.csv`, e.rolling!.factor);
    writeFactor(`factor_neutral_${e.name}.csv`, e.neutralFactor!);
  }
  const all = allEvaluations(ev);
  const ic = icTable(all);
  write("table_1_1_ic.csv", csv([["model", ...ic.columns.map((c) => c.key)], ...ic.rows.map((r) => [r.name, ...r.values])]));
  write("table_5_2_groups.csv", csv([["model", ...all[0].groups.annualExcess.map((_, g) => `group_${g + 1}_annual_excess`), "long_short_annual"],
    ...all.map((e) => [e.name, ...e.groups.annualExcess, e.groups.longShortAnnual])]));
  write("table_5_3_enhancement.csv", csv([["model", "year", "excess_return", "holdings", "volatility", "sharpe", "max_drawdown", "turnover"],
    ...all.flatMap((e) => (e.enhancement?.byYear ?? []).map((y) => [e.name, y.year, y.excess_return, y.holdings, y.volatility, y.sharpe, y.max_drawdown, y.turnover]))]));
  // The series the report draws (figure 5-1's NAVs, the enhanced portfolio's against its benchmark).
  write("series_group_nav.csv", csv([["model", "date", ...all[0].groups.nav.map((_, g) => `group_${g + 1}`), "universe"],
    ...all.flatMap((e) => e.groups.dates.map((d, i) => [e.name, d, ...e.groups.nav.map((n) => n[i]), e.groups.universe[i]]))]));
  write("series_enhancement_nav.csv", csv([["model", "date", "portfolio", "benchmark"],
    ...all.flatMap((e) => (e.enhancement?.dates ?? []).map((d, i) => [e.name, d, e.enhancement!.nav[i], e.enhancement!.benchmark[i]]))]));
  write("ic_series.csv", csv([["model", "date", "ic", "rank_ic"], ...all.flatMap((e) => e.ic.dates.map((d, i) => [e.name, d, e.ic.ic[i], e.ic.rankIc[i]]))]));
  write("data_quality.json", JSON.stringify(quality, null, 2));
  write("report.html", renderReport({ metrics, evaluations: all, icTable: ic, quality, store: store.meta, panel }));
  const pngs = await chartPngs(resolve(staging, "report.html"), join(staging, "charts"));
  metrics.charts = "written" in pngs ? { png: pngs.written, folder: "charts" } : { png: 0, skipped: pngs.skipped };
  if ("skipped" in pngs) log(`charts: ${pngs.skipped}`);
  write("metrics.json", JSON.stringify(metrics, (_, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 2));
  if (existsSync(join(staging, "charts"))) {
    rmSync(join(outDir, "charts"), { recursive: true, force: true });
    renameSync(join(staging, "charts"), join(outDir, "charts"));
  }
  const staged = readdirSync(staging);
  for (const name of ["factor_", "table_", "series_", "ic_series.csv", "data_quality.json", "report.html", "metrics.json"]) {
    for (const f of staged.filter((x) => x.startsWith(name))) renameSync(join(staging, f), join(outDir, f));
  }
  rmSync(staging, { recursive: true, force: true });
  log(`report: ${join(outDir, "report.html")}`);
  return ic;
}
