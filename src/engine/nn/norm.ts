import { Module } from "./module.js";
import { DType, Tensor, ones, zeros } from "../tensor.js";
import * as F from "./functional.js";

/** Batch normalisation over the features (dim 1) of [N, C] or [N, C, L]. */
export class BatchNorm1d extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly runningMean: Tensor | null;
  readonly runningVar: Tensor | null;
  readonly numBatchesTracked: Tensor | null;
  constructor(readonly numFeatures: number, { eps = 1e-5, momentum = 0.1, affine = true, trackRunningStats = true } = {}) {
    super();
    this.eps = eps;
    this.momentum = momentum;
    this.weight = affine ? this.registerParameter("weight", ones([numFeatures])) : null;
    this.bias = affine ? this.registerParameter("bias", zeros([numFeatures])) : null;
    this.runningMean = trackRunningStats ? this.registerBuffer("running_mean", zeros([numFeatures])) : null;
    this.runningVar = trackRunningStats ? this.registerBuffer("running_var", ones([numFeatures])) : null;
    this.numBatchesTracked = trackRunningStats
      ? this.registerBuffer("num_batches_tracked", zeros([], { dtype: DType.int64 }))
      : null;
  }
  readonly eps: number;
  readonly momentum: number;
  forward(x: Tensor): Tensor {
    const useBatch = this.training || this.runningMean === null;
    if (this.training && this.numBatchesTracked) this.numBatchesTracked.add_(1);
    return F.batchNorm(x, {
      weight: this.weight,
      bias: this.bias,
      runningMean: this.runningMean,
      runningVar: this.runningVar,
      training: useBatch,
      momentum: this.momentum,
      eps: this.eps,
    });
  }
  protected override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}`;
  }
}

/** Layer normalisation over the trailing `normalizedShape` dimensions. */
export class LayerNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly normalizedShape: number[];
  constructor(normalizedShape: number | number[], readonly eps = 1e-5) {
    super();
    this.normalizedShape = Array.isArray(normalizedShape) ? normalizedShape : [normalizedShape];
    this.weight = this.registerParameter("weight", ones(this.normalizedShape));
    this.bias = this.registerParameter("bias", zeros(this.normalizedShape));
  }
  forward(x: Tensor): Tensor {
    return F.layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }
  protected override extraRepr(): string {
    return `[${this.normalizedShape}], eps=${this.eps}`;
  }
}

/** Zeroes elements with probability p in training and scales the rest by 1 / (1 - p). */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    if (p < 0 || p >= 1) throw new RangeError(`dropout probability must be in [0, 1), got ${p}`);
  }
  forward(x: Tensor): Tensor {
    return F.dropout(x, this.p, this.training && this.p > 0);
  }
  protected override extraRepr(): string {
    return `p=${this.p}`;
  }
}
