/**
 * The trainer's settings and their defaults (the configuration's train defaults are these), and the
 * log entry of an epoch.
 */

export interface TrainOptions {
  maxEpochs: number;
  patience: number;
  lrStart: number;
  lrEnd: number;
  /** Epochs over which the learning rate decays from lrStart to lrEnd (the paper: 90). */
  lrEpochs: number;
  /** Whole dates are put together until a batch holds at least this many samples. */
  minBatch: number;
  seed: number;
  /** Strength of the long-sample weights, 0 (plain MSE) to <1. */
  longWeight: number;
  weightDecay: number;
  /**
   * Training samples every sampleStep-th date. The rolling trainer builds the samples so (or, with
   * rotateDates, on every date); the trainer itself reads it only with rotateDates.
   */
  sampleStep: number;
  /**
   * Each epoch trains on every sampleStep-th training date, from offset (epoch mod sampleStep):
   * successive epochs see different dates at the cost of one. false: every date, every epoch.
   */
  rotateDates: boolean;
  /**
   * The prediction early stopping reads: raw, the network's output; neutral, its residual after each
   * date's neutralisation (the loss's projection, TrainData.projection), the factor the loss trains.
   */
  factor?: "raw" | "neutral";
  /**
   * Where checkpoints go; with `resume`, an existing checkpoint is continued, but only one made
   * with the same training settings and `record`: any difference stops with a DataError saying what changed.
   */
  checkpointDir?: string;
  resume?: boolean;
  /**
   * Train exactly maxEpochs epochs and keep the last epoch's weights: no early stopping and no
   * restore of the best validation epoch (the refit, whose training data holds the validation tail;
   * its validation set may be empty, and then the log's validation scores are NaN).
   */
  keepLast?: boolean;
  /** What else the checkpoint is made from (the rolling trainer's: data hash, window, model, features), as JSON. */
  record?: Record<string, unknown>;
  /** Called after each epoch with its log entry. */
  onEpoch?: (e: EpochLog) => void;
  /** Progress (batches done, batches in all, seconds so far) for a progress bar. */
  onProgress?: (done: number, total: number) => void;
  /** For tests: stop (throw) after this many batches, as a crash would. */
  crashAfterBatches?: number;
}

export const DEFAULT_TRAIN: TrainOptions = {
  maxEpochs: 90, patience: 10, lrStart: 1e-3, lrEnd: 1e-7, lrEpochs: 90, minBatch: 256, seed: 0, longWeight: 0.5,
  weightDecay: 0, sampleStep: 5, rotateDates: false,
};

/** The dates an epoch strides over: every sampleStep-th with rotateDates, else every date. */
export const dateStrideOf = (o: Pick<TrainOptions, "sampleStep" | "rotateDates">): number => (o.rotateDates ? o.sampleStep : 1);

export interface EpochLog {
  epoch: number;
  loss: number;
  validIc: number;
  validSharpe: number;
  lr: number;
  seconds: number;
}
