/** Features: the 13 inputs, the operator panels, the feature store, Spearman dropout, sample images. */
export { INPUT_NAMES, N_INPUTS, computeInputs, type Inputs } from "./inputs.js";
export { FEATURES, N_FEATURES, OPERATORS, PAIRS, extractStock, featureName, tsMax, tsMean, tsMin, type Operator } from "./operators.js";
export {
  DEFAULT_FEATURE_SETTINGS, buildFeatureStore, featureKey, openFeatureStore, readFeaturePanel, type FeaturePanel,
  type FeatureSettings, type FeatureStore, type FeatureStoreMeta,
} from "./store.js";
export { spearmanSelect, type SpearmanSelection } from "./spearman.js";
export { gatherImages, imageValid, type FeatureWeights, type FirstLayer, type ImageSpec, type Sample } from "./images.js";
export { classicFactors, type ClassicFactor } from "./classic.js";
