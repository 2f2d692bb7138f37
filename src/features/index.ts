/** Features: the inputs (V4's 13, V1's and V2's own), the operator panels, the feature store, Spearman dropout, sample images. */
export {
  INPUT_NAMES, INPUT_SETS, INPUT_SET_NAMES, N_INPUTS, V1_INPUT_NAMES, V2_INPUT_NAMES, computeInputs, type InputSet, type Inputs,
} from "./inputs.js";
export {
  FEATURES, N_FEATURES, OPERATORS, PAIRS, extractStock, featureCount, featureName, featuresOf, tsMax, tsMean, tsMin,
  type FeatureInfo, type Operator,
} from "./operators.js";
export {
  DEFAULT_FEATURE_SETTINGS, buildFeatureStore, featureKey, inputSetFeatureCount, inputSetOf, openFeatureStore, readFeaturePanel, storeFeatureCount, type FeaturePanel,
  type FeatureSettings, type FeatureStore, type FeatureStoreMeta,
} from "./store.js";
export { spearmanSelect, type SpearmanSelection } from "./spearman.js";
export { gatherImages, imageValid, type FeatureWeights, type FirstLayer, type ImageSpec, type Sample } from "./images.js";
export { classicFactors, type ClassicFactor } from "./classic.js";
