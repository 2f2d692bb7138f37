/** Evaluation: IC test, quintile stratification, index enhancement, parameter significance. */
export { icDecay, icTest, pearson, rebalanceDates, spearman, summarize, type IcSummary, type IcTest } from "./ic.js";
export { PAPER_COSTS, REALISTIC_COSTS, annualVol, annualize, dailyReturnsOf, maxDrawdown, simulate, type Costs, type Fill,
  type Simulation } from "./backtest.js";
export { groupWeights, stratify, type GroupResult } from "./groups.js";
export { DEFAULT_ENHANCE, constraintViolation, enhanceIndex, solveRebalance, type EnhanceOptions, type EnhancementResult,
  type RebalanceProblem, type RebalanceSolution } from "./enhance.js";
export { parameterSignificance, type Significance } from "./significance.js";
export { styleExposure } from "./exposure.js";
