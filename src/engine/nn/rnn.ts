import { Module } from "./module.js";
import { Tensor, zeros } from "../tensor.js";
import * as F from "./functional.js";
import { uniform_ } from "./init.js";

export interface RnnOptions {
  inputSize: number;
  hiddenSize: number;
  numLayers?: number;
  bias?: boolean;
  batchFirst?: boolean;
  /** Dropout between stacked layers (not after the last), in training only. */
  dropout?: number;
  bidirectional?: boolean;
}

/** Shared by LSTM and GRU: the parameters, named and ordered as PyTorch's (weight_ih_l0_reverse...). */
abstract class RnnBase extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;
  protected readonly flat: Tensor[] = [];

  constructor(gates: number, o: RnnOptions) {
    super();
    this.inputSize = o.inputSize;
    this.hiddenSize = o.hiddenSize;
    this.numLayers = o.numLayers ?? 1;
    this.bias = o.bias ?? true;
    this.batchFirst = o.batchFirst ?? false;
    this.dropout = o.dropout ?? 0;
    this.bidirectional = o.bidirectional ?? false;
    const dirs = this.bidirectional ? 2 : 1;
    const H = this.hiddenSize;
    for (let l = 0; l < this.numLayers; l++) {
      const inp = l === 0 ? this.inputSize : H * dirs;
      for (let d = 0; d < dirs; d++) {
        const sfx = `_l${l}${d === 1 ? "_reverse" : ""}`;
        this.flat.push(this.registerParameter(`weight_ih${sfx}`, zeros([gates * H, inp])));
        this.flat.push(this.registerParameter(`weight_hh${sfx}`, zeros([gates * H, H])));
        if (this.bias) {
          this.flat.push(this.registerParameter(`bias_ih${sfx}`, zeros([gates * H])));
          this.flat.push(this.registerParameter(`bias_hh${sfx}`, zeros([gates * H])));
        }
      }
    }
    this.resetParameters();
  }
  resetParameters(): void {
    const k = 1 / Math.sqrt(this.hiddenSize);
    for (const p of this.flat) uniform_(p, -k, k);
  }
  protected args(): F.RnnArgs {
    return {
      hasBiases: this.bias,
      numLayers: this.numLayers,
      dropout: this.dropout,
      train: this.training,
      bidirectional: this.bidirectional,
      batchFirst: this.batchFirst,
    };
  }
  protected zeroState(x: Tensor): Tensor {
    const batch = x.shape[this.batchFirst ? 0 : 1];
    return zeros([this.numLayers * (this.bidirectional ? 2 : 1), batch, this.hiddenSize], { dtype: x.dtype });
  }
  protected override extraRepr(): string {
    return `${this.inputSize}, ${this.hiddenSize}, layers=${this.numLayers}, bidirectional=${this.bidirectional}` +
      `, batchFirst=${this.batchFirst}, dropout=${this.dropout}`;
  }
}

/** Multi-layer (bi)directional LSTM over the fused at::lstm. Returns [output, h_n, c_n]. */
export class LSTM extends RnnBase {
  constructor(o: RnnOptions) {
    super(4, o);
  }
  forward(x: Tensor, state?: [Tensor, Tensor]): [Tensor, Tensor, Tensor] {
    if (state) return F.lstm(x, state[0], state[1], this.flat, this.args());
    const h0 = this.zeroState(x);
    const c0 = this.zeroState(x);
    try {
      return F.lstm(x, h0, c0, this.flat, this.args());
    } finally {
      h0.dispose();
      c0.dispose();
    }
  }
}

/** Multi-layer (bi)directional GRU over the fused at::gru. Returns [output, h_n]. */
export class GRU extends RnnBase {
  constructor(o: RnnOptions) {
    super(3, o);
  }
  forward(x: Tensor, h?: Tensor): [Tensor, Tensor] {
    if (h) return F.gru(x, h, this.flat, this.args());
    const h0 = this.zeroState(x);
    try {
      return F.gru(x, h0, this.flat, this.args());
    } finally {
      h0.dispose();
    }
  }
}
