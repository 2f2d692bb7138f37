/** Training: the paper's protocol, checkpoints and resume, rolling retraining into a factor. */
export { DEFAULT_TRAIN, type EpochLog, type TrainOptions } from "./options.js";
export {
  imagesFor, neutralizeByDate, predict, sampleWeights, trainModel, validationScore, type TrainData, type TrainResult,
} from "./trainer.js";
export { checkpointChanges, checkpointMade, resumableCheckpoint } from "./checkpoint.js";
export {
  PanelCache, assembleRolling, assembleSeeds, checkResume, seedCount, seedFolder, type SeedResult, dataHash, runRolling, trainWindow, type WindowOutcome, type PipelineData, type RollingOptions,
  type RollingResult, type WindowResult, type WindowTask,
} from "./rolling.js";
export { RIDGE_PENALTIES, gram, ridgeSolve, ridgeWindow } from "./ridge.js";
