/**
 * A factor's evaluation, in one place: the IC test, IC decay, the groups (with their drawdowns),
 * index enhancement (with the excess NAV's drawdown), style exposure, the other prediction beside
 * it, and the tables of the model's parameter significance. The run (every model, the oracle, the
 * reference factors), `alphanet evaluate` and the report read this one value: the report draws
 * what is in it and computes nothing of its own.
 */
import { type Grid, type Panel, fieldGrid } from "../data/index.js";
import type { StyleExposures } from "../risk/index.js";
import type { Costs } from "./backtest.js";
import { type EnhanceOptions, type EnhancementResult, enhanceIndex } from "./enhance.js";
import { styleExposure } from "./exposure.js";
import { type GroupResult, stratify } from "./groups.js";
import { type IcTest, icDecay, icTest } from "./ic.js";
import type { Significance } from "./significance.js";
import { type SignificanceTables, significanceTables } from "./tables.js";

/**
 * The factor neutralised as the loss sees it (the CNE5 regression's residual on every date): its IC
 * and rank IC against the raw forward return, and its style exposure. With `factor: neutral` the
 * evaluated factor is the neutralised one and this is the raw one beside it (label "raw").
 */
export interface Beside {
  ic: number;
  rankIc: number;
  styleExposure: Record<string, number>;
  label?: string;
}

export interface FactorEvaluation {
  ic: IcTest;
  /** Mean IC and rank IC against forward returns of each horizon (empty when none were asked). */
  decay: { horizon: number; ic: number; rankIc: number }[];
  groups: GroupResult;
  /** Null without the index's weights in the data, styles with a size, or enhancement settings. */
  enhancement: EnhancementResult | null;
  /** Mean |weighted correlation| with each style (empty without styles). */
  styleExposure: Record<string, number>;
  neutral?: Beside;
  /** The model's parameter significance as tables (figure 5-2); null for a factor without a model. */
  significance: SignificanceTables | null;
}

/** What a factor is evaluated against, beside the panel. */
export interface FactorInputs {
  /** The forward return over the label horizon [stocks x dates] (the IC test's target). */
  forward: Grid;
  /** Style exposures: style exposure, and the size that enhancement holds near the index's. */
  styles?: StyleExposures;
}

export interface FactorOptions {
  /** Rebalance every N trading days. */
  every: number;
  groups: number;
  costs: Costs;
  /** IC decay horizons (none: no decay). */
  decay?: number[];
  /** Index enhancement's settings (none: not run). */
  enhance?: Omit<EnhanceOptions, "every" | "costs">;
  /** The other prediction, reported beside the factor: its IC and style exposure. */
  beside?: { factor: Grid; label?: string };
  /** The trained model's parameter significance, tabulated into the evaluation. */
  significance?: Significance | null;
}

export const DECAY_HORIZONS = [1, 5, 10, 20];

/** A factor [stocks x dates] evaluated on the panel (see FactorEvaluation). */
export async function evaluateFactor(panel: Panel, factor: Grid, inputs: FactorInputs, o: FactorOptions): Promise<FactorEvaluation> {
  const { forward, styles } = inputs;
  const ic = icTest(factor, forward, panel.calendar, o.every);
  const decay = o.decay?.length ? icDecay(factor, fieldGrid(panel, "vwap"), o.decay, o.every) : [];
  const groups = stratify(panel, factor, { groups: o.groups, every: o.every, costs: o.costs });
  const sizeIdx = styles ? styles.names.indexOf("size") : -1;
  const enhancement = o.enhance && styles && panel.indexWeights[o.enhance.index] && sizeIdx >= 0
    ? await enhanceIndex(panel, factor, styles.values[sizeIdx], { ...o.enhance, every: o.every, costs: o.costs })
    : null;
  const exposureOf = (f: Grid): Record<string, number> => (styles ? styleExposure(f, styles, o.every) : {});
  const ev: FactorEvaluation = { ic, decay, groups, enhancement, styleExposure: exposureOf(factor),
    significance: o.significance ? significanceTables(o.significance) : null };
  if (o.beside) {
    const b = icTest(o.beside.factor, forward, panel.calendar, o.every).summary;
    ev.neutral = { ic: b.ic.mean, rankIc: b.rankIc.mean, styleExposure: exposureOf(o.beside.factor),
      ...(o.beside.label ? { label: o.beside.label } : {}) };
  }
  return ev;
}
