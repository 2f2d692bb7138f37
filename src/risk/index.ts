/** The risk model: CNE5 style exposures, the cross-sectional regression, neutralisation. */
export { STYLE_NAMES, capitalisation, dailyReturns, marketReturn, orthogonalize, solveSymmetric, standardizeStyle, styleDescriptors, type StyleDescriptors,
  styleExposures, type StyleExposures, type StyleName } from "./styles.js";
export { crossSectionalRegression, projectionMatrix, type CrossSection, type RegressionResult } from "./regression.js";
export { neutralizePanel, neutralizeTensor, projectionTensor, type NeutralizedPanel } from "./neutralize.js";
