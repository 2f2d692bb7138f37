/** Training: the paper's protocol, checkpoints and resume, rolling retraining into a factor. */
export { DEFAULT_TRAIN, type EpochLog, type TrainOptions } from "./options.js";
export {
  imagesFor, neutralizeByDate, predict, trainModel, validationScore, type TrainData, type TrainResult,
} from "./trainer.js";
export { checkpointChanges, checkpointMade, resumableCheckpoint } from "./checkpoint.js";
export { neutralizeTensor, projectionTensors, sampleWeights } from "./loss.js";
export {
  assembleRolling, assembleSeeds, type FactorShape, checkResume, seedCount, seedFolder, type SeedResult, dataHash, runRolling, trainWindow,
  type RollingResult,
} from "./rolling.js";
export { PanelCache, type PipelineData, type RollingOptions, type WindowOutcome, type WindowResult } from "./window.js";
export { RIDGE_PENALTIES, gram, ridgeSolve, ridgeWindow } from "./ridge.js";
