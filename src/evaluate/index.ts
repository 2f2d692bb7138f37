/** Evaluation: IC test, quintile stratification, index enhancement, parameter significance; a factor's whole evaluation and its tables. */
export { icDecay, icTest, pearson, rebalanceDates, spearman, summarize, type IcSummary, type IcTest } from "./ic.js";
export { PAPER_COSTS, REALISTIC_COSTS, annualVol, annualize, dailyReturnsOf, drawdownSeries, maxDrawdown, simulate, type Costs, type Fill,
  type Simulation } from "./backtest.js";
export { groupWeights, stratify, type GroupResult } from "./groups.js";
export { DEFAULT_ENHANCE, constraintViolation, enhanceIndex, solveRebalance, type EnhanceOptions, type EnhancementResult,
  type RebalanceProblem, type RebalanceSolution } from "./enhance.js";
export { parameterSignificance, type Significance } from "./significance.js";
export { styleExposure } from "./exposure.js";
export { DECAY_HORIZONS, evaluateFactor, type Beside, type FactorEvaluation, type FactorInputs, type FactorOptions } from "./factor.js";
export { icColumn, icTable, significanceTables, type IcColumn, type IcTable, type SignificanceTables } from "./tables.js";
