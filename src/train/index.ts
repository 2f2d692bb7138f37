/** Training: the paper's protocol, checkpoints and resume, rolling retraining into a factor. */
export {
  DEFAULT_TRAIN, checkpointChanges, checkpointMade, imagesFor, neutralizeByDate, predict, resumableCheckpoint, sampleWeights, trainModel, validationScore,
  type EpochLog, type TrainData, type TrainOptions, type TrainResult,
} from "./trainer.js";
export {
  PanelCache, assembleRolling, assembleSeeds, checkResume, seedCount, seedFolder, type SeedResult, dataHash, runRolling, trainWindow, type WindowOutcome, type PipelineData, type RollingOptions,
  type RollingResult, type WindowResult,
} from "./rolling.js";
export { RIDGE_PENALTIES, gram, ridgeSolve, ridgeWindow } from "./ridge.js";
