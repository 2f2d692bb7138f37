/** Training: the paper's protocol, checkpoints and resume, rolling retraining into a factor. */
export {
  DEFAULT_TRAIN, checkpointChanges, checkpointMade, imagesFor, neutralizeByDate, predict, resumableCheckpoint, trainModel, validationScore,
  type EpochLog, type TrainData, type TrainOptions, type TrainResult,
} from "./trainer.js";
export { batchLoss, neutralizeTensor, projectionTensors, sampleWeights, type ProjectionTensors } from "./loss.js";
export {
  assembleRolling, assembleSeeds, checkResume, seedCount, seedFolder, type SeedResult, dataHash, runRolling, trainWindow, type RollingResult,
} from "./rolling.js";
export { PanelCache, type PipelineData, type RollingOptions, type WindowOutcome, type WindowResult, storeOf } from "./window.js";
export { RIDGE_PENALTIES, gram, ridgeSolve, ridgeWindow } from "./ridge.js";
