/** The risk model: CNE5 style exposures, the cross-sectional regression, neutralisation. */
export { STYLE_NAMES, capitalisation, dailyReturns, marketReturn, orthogonalize, standardizeStyle, styleDescriptors, type StyleDescriptors,
  styleExposures, type StyleExposures, type StyleName } from "./styles.js";
export { crossSectionalRegression, projection, projectionAt, projectionMatrix, residualOf, solveSymmetric, type CrossSection, type Projection, type RegressionResult } from "./regression.js";
export { neutralizePanel, type NeutralizedPanel } from "./neutralize.js";
