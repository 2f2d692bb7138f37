/** Market data: the Panel, loaders, cleaning with a quality report, the synthetic market. */
export * from "./panel.js";
export { type QualityReport, DataError } from "./quality.js";
export { loadBars, CLEANING_RULES, type LoadOptions } from "./load.js";
export { MISSING_TOKENS } from "./source.js";
export { PRESETS, normalizeAshareCode, normalizeCode, marketOfCodes, type Preset } from "./presets.js";
export { loadQlib, writeQlib } from "./qlib.js";
export { syntheticMarket, forwardIC, SYNTHETIC_DEFAULT, SYNTHETIC_QUICK, type SyntheticMarket, type SyntheticOptions } from "./synthetic.js";
export { Rng } from "./random.js";
export { pearson, rankdata } from "./stats.js";
export { readFactorFile, FACTOR_DROP_REASONS, type FactorAccounting, type FactorDropReason, type FactorOptions } from "./factor.js";
