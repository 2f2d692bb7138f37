/**
 * The run's evaluation: each model's factor (the configured prediction, the other one beside it,
 * each seed's), the oracle and the classic reference factors on the cells the first model
 * predicts, and a factor file against a dataset (`alphanet evaluate`): each through the evaluate
 * stage's evaluateFactor, with the configuration's settings.
 */
import { type Grid, readFactorFile } from "../data/index.js";
import { classicFactors } from "../features/index.js";
import { neutralizePanel } from "../risk/index.js";
import { forwardReturns } from "../dataset/index.js";
import type { RollingResult } from "../train/index.js";
import { type Costs, DECAY_HORIZONS, type FactorOptions, evaluateFactor, icTest } from "../evaluate/index.js";
import type { ReportModel } from "../report/index.js";
import { type Config, costsOf } from "./config.js";
import { loadData } from "./data.js";
import type { PreparedRun } from "./prepare.js";

/** A model's evaluation: what the report renders, with the rolling training behind it. */
export interface ModelEvaluation extends Omit<ReportModel, "rolling"> {
  rolling?: RollingResult;
  /** The factor neutralised on every date (written as factor_neutral_<model>.csv). */
  neutralFactor?: Grid;
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

/** The run's evaluations: the models in order, the oracle (synthetic data), the classic reference factors. */
export interface RunEvaluations {
  models: ModelEvaluation[];
  oracle: ModelEvaluation | null;
  references: ModelEvaluation[];
  costs: Costs;
}

/** The evaluation's settings from the configuration: groups, costs, decay horizons, index enhancement. */
function factorOptions(e: Config["evaluate"]): FactorOptions {
  const { every, groups, costs, ...enhance } = e;
  return { every, groups, costs: costsOf(costs), decay: DECAY_HORIZONS, enhance };
}

/**
 * Every trained model's factor (the configured prediction; the other reported beside it; each
 * seed's IC with several), then the oracle and the classic factors on the cells the first model predicts.
 */
export async function evaluateRun(cfg: Config, prepared: PreparedRun, trained: RollingResult[], log: (s: string) => void): Promise<RunEvaluations> {
  const { panel, labels, styles, industries, oracle } = prepared;
  const o = factorOptions(cfg.evaluate);
  const inputs = { forward: labels.raw, styles };
  const evaluate = async (name: string, factor: Grid, trainSeconds: number, extra: Partial<FactorOptions> = {}): Promise<ModelEvaluation> =>
    ({ name, ...await evaluateFactor(panel, factor, inputs, { ...o, ...extra }), trainSeconds });
  const neutralOf = (f: Grid): Grid => neutralizePanel(f, styles, industries).residual;
  const models: ModelEvaluation[] = [];
  for (const rolling of trained) {
    const name = rolling.name;
    const neutral = neutralOf(rolling.factor);
    // "The factor" is the configured prediction; the other is reported beside it.
    const [factor, other] = cfg.factor === "neutral" ? [neutral, rolling.factor] : [rolling.factor, neutral];
    const ev = await evaluate(name, factor, rolling.trainSeconds,
      { beside: { factor: other, label: cfg.factor === "neutral" ? "raw" : undefined }, significance: rolling.significance });
    ev.rolling = rolling;
    ev.neutralFactor = neutral;
    if (cfg.factor === "neutral") ev.factor = "neutral";
    if (rolling.seeds) {
      const per = rolling.seeds.map((r) => {
        const t = icTest(cfg.factor === "neutral" ? neutralOf(r.factor) : r.factor, labels.raw, panel.calendar, o.every).summary;
        return { seed: r.seed, ic_mean: t.ic.mean, rank_ic_mean: t.rankIc.mean, ir: t.ic.ir, rank_ir: t.rankIc.ir };
      });
      ev.seeds = { seeds: per, ic_mean: spread(per.map((x) => x.ic_mean)), rank_ic_mean: spread(per.map((x) => x.rank_ic_mean)) };
      log(`${name}: ${per.length} seeds, IC ${ev.seeds.ic_mean.mean.toFixed(4)} +- ${ev.seeds.ic_mean.std.toFixed(4)} (${ev.seeds.ic_mean.min.toFixed(4)} to ${ev.seeds.ic_mean.max.toFixed(4)}); the ensemble's below`);
    }
    models.push(ev);
    log(`${name}: IC ${ev.ic.summary.ic.mean.toFixed(4)}, rank IC ${ev.ic.summary.rankIc.mean.toFixed(4)}, IR ${ev.ic.summary.ic.ir.toFixed(3)}, trained in ${rolling.trainSeconds.toFixed(0)} s`);
  }
  // The oracle (synthetic data) and the classic factors: on the cells the first model predicts.
  const first = models[0]?.rolling?.factor;
  const onTestCells = (x: Grid): Grid => x.map((v, k) => (first && Number.isFinite(first.values[k]) ? v : NaN));
  const oracleEval = oracle ? await evaluate("oracle", onTestCells(oracle), 0) : null;
  const references: ModelEvaluation[] = [];
  if (cfg.references) for (const f of classicFactors(panel)) references.push(await evaluate(f.name, onTestCells(f.values), 0));
  return { models, oracle: oracleEval, references, costs: o.costs };
}

/**
 * `alphanet evaluate`: a factor file's IC test and quintiles against a dataset's forward returns.
 * The factor is read as the bars are: codes through the data's normaliser, every row accounted for.
 */
export async function evaluateFactorFile(cfg: Config, factorPath: string, column?: string): Promise<Record<string, unknown>> {
  const { panel } = await loadData(cfg);
  const { factor, accounting } = await readFactorFile(factorPath, panel, { column, padCodes: cfg.data.padCodes, encoding: cfg.data.encoding });
  const { every, groups, costs } = factorOptions(cfg.evaluate);
  const { ic, groups: g } = await evaluateFactor(panel, factor, { forward: forwardReturns(panel, cfg.horizon).fwd }, { every, groups, costs });
  return {
    ic: ic.summary, ic_by_year: ic.byYear, group_annual_excess: g.annualExcess, long_short_annual: g.longShortAnnual,
    rebalance_dates_without_groups: { count: g.ungrouped.length, examples: g.ungrouped.slice(0, 5),
      why: "the factor's values on those dates cannot fill the groups (all equal, or too few distinct values)" },
    factor_rows: accounting,
  };
}
