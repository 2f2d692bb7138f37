import { Module } from "./module.js";
import { Tensor, zeros } from "../tensor.js";
import * as F from "./functional.js";
import { kaimingUniform_, uniform_ } from "./init.js";

/** y = x W^T + b, initialised as PyTorch does. */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(readonly inFeatures: number, readonly outFeatures: number, { bias = true } = {}) {
    super();
    this.weight = this.registerParameter("weight", zeros([outFeatures, inFeatures]));
    this.bias = bias ? this.registerParameter("bias", zeros([outFeatures])) : null;
    this.resetParameters();
  }
  resetParameters(): void {
    kaimingUniform_(this.weight);
    if (this.bias) uniform_(this.bias, -1 / Math.sqrt(this.inFeatures), 1 / Math.sqrt(this.inFeatures));
  }
  forward(x: Tensor): Tensor {
    return F.linear(x, this.weight, this.bias);
  }
  protected override extraRepr(): string {
    return `in=${this.inFeatures}, out=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}
