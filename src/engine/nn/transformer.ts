import { Module } from "./module.js";
import { Tensor, isGradEnabled, scope, tensor, zeros } from "../tensor.js";
import { native } from "../native.js";
import * as F from "./functional.js";
import { Linear } from "./linear.js";
import { Dropout, LayerNorm } from "./norm.js";
import { xavierUniform_, zeros_ } from "./init.js";

export interface MultiheadAttentionOptions {
  embedDim: number;
  numHeads: number;
  dropout?: number;
  batchFirst?: boolean;
}

/**
 * Scaled dot-product multi-head attention with packed input projections, parameter for parameter
 * PyTorch's nn.MultiheadAttention (in_proj_weight, in_proj_bias, out_proj.weight, out_proj.bias).
 */
export class MultiheadAttention extends Module {
  readonly embedDim: number;
  readonly numHeads: number;
  readonly headDim: number;
  readonly dropout: number;
  readonly batchFirst: boolean;
  readonly inProjWeight: Tensor;
  readonly inProjBias: Tensor;
  readonly outProj: Linear;

  constructor(o: MultiheadAttentionOptions) {
    super();
    this.embedDim = o.embedDim;
    this.numHeads = o.numHeads;
    this.headDim = o.embedDim / o.numHeads;
    if (!Number.isInteger(this.headDim))
      throw new Error(`embedDim ${o.embedDim} must be divisible by numHeads ${o.numHeads}`);
    this.dropout = o.dropout ?? 0;
    this.batchFirst = o.batchFirst ?? false;
    this.inProjWeight = this.registerParameter("in_proj_weight", zeros([3 * o.embedDim, o.embedDim]));
    this.inProjBias = this.registerParameter("in_proj_bias", zeros([3 * o.embedDim]));
    this.outProj = this.registerModule("out_proj", new Linear(o.embedDim, o.embedDim));
    xavierUniform_(this.inProjWeight);
    zeros_(this.inProjBias);
    zeros_(this.outProj.bias!);
  }

  /** Self- or cross-attention; query, key and value are [B, T, E] (batchFirst) or [T, B, E]. */
  forward(query: Tensor, key: Tensor = query, value: Tensor = key): Tensor {
    return scope(() => {
      const E = this.embedDim;
      const Hh = this.numHeads;
      const d = this.headDim;
      // Work batch-first: [B, T, E].
      const q0 = this.batchFirst ? query : query.transpose(0, 1);
      const k0 = this.batchFirst ? key : key.transpose(0, 1);
      const v0 = this.batchFirst ? value : value.transpose(0, 1);
      const [B, T] = q0.shape;
      const S = k0.shape[1];
      let q: Tensor, k: Tensor, v: Tensor;
      if (query === key && key === value) {
        [q, k, v] = F.linear(q0, this.inProjWeight, this.inProjBias).chunk(3, -1);
      } else {
        const [wq, wk, wv] = this.inProjWeight.chunk(3, 0);
        const [bq, bk, bv] = this.inProjBias.chunk(3, 0);
        q = F.linear(q0, wq, bq);
        k = F.linear(k0, wk, bk);
        v = F.linear(v0, wv, bv);
      }
      // [B, T, E] -> [B*H, T, d]
      const heads = (x: Tensor, len: number): Tensor => x.reshape(B, len, Hh, d).transpose(1, 2).reshape(B * Hh, len, d);
      const qh = heads(q, T).mul(1 / Math.sqrt(d));
      const kh = heads(k, S);
      const vh = heads(v, S);
      let attn = qh.bmm(kh.transpose(1, 2)).softmax(-1);
      if (this.training && this.dropout > 0) attn = F.dropout(attn, this.dropout, true);
      const ctx = attn.bmm(vh).reshape(B, Hh, T, d).transpose(1, 2).reshape(B, T, E);
      const out = this.outProj.forward(ctx);
      return this.batchFirst ? out : out.transpose(0, 1);
    });
  }
  protected override extraRepr(): string {
    return `embedDim=${this.embedDim}, heads=${this.numHeads}, dropout=${this.dropout}, batchFirst=${this.batchFirst}`;
  }
}

export interface TransformerEncoderLayerOptions {
  dModel: number;
  nhead: number;
  dimFeedforward?: number;
  dropout?: number;
  activation?: "relu" | "gelu";
  layerNormEps?: number;
  batchFirst?: boolean;
  normFirst?: boolean;
}

/**
 * PyTorch's nn.TransformerEncoderLayer, post-norm by default:
 * x = norm1(x + dropout1(self_attn(x))); x = norm2(x + dropout2(linear2(dropout(act(linear1(x)))))).
 */
export class TransformerEncoderLayer extends Module {
  readonly selfAttn: MultiheadAttention;
  readonly linear1: Linear;
  readonly dropout: Dropout;
  readonly linear2: Linear;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly dropout1: Dropout;
  readonly dropout2: Dropout;
  readonly normFirst: boolean;
  readonly activation: "relu" | "gelu";

  constructor(o: TransformerEncoderLayerOptions) {
    super();
    const p = o.dropout ?? 0.1;
    const ff = o.dimFeedforward ?? 2048;
    const eps = o.layerNormEps ?? 1e-5;
    this.normFirst = o.normFirst ?? false;
    this.activation = o.activation ?? "relu";
    this.selfAttn = this.registerModule("self_attn",
      new MultiheadAttention({ embedDim: o.dModel, numHeads: o.nhead, dropout: p, batchFirst: o.batchFirst }));
    this.linear1 = this.registerModule("linear1", new Linear(o.dModel, ff));
    this.dropout = this.registerModule("dropout", new Dropout(p));
    this.linear2 = this.registerModule("linear2", new Linear(ff, o.dModel));
    this.norm1 = this.registerModule("norm1", new LayerNorm(o.dModel, eps));
    this.norm2 = this.registerModule("norm2", new LayerNorm(o.dModel, eps));
    this.dropout1 = this.registerModule("dropout1", new Dropout(p));
    this.dropout2 = this.registerModule("dropout2", new Dropout(p));
  }

  forward(x: Tensor): Tensor {
    // Inference without gradients takes libtorch's fused kernel, as PyTorch's own layer does.
    if (!this.training && !isGradEnabled() && this.selfAttn.batchFirst) return this.fusedForward(x);
    return scope(() => {
      const sa = (y: Tensor): Tensor => this.dropout1.forward(this.selfAttn.forward(y));
      const ff = (y: Tensor): Tensor => {
        const h = this.linear1.forward(y);
        const a = this.activation === "relu" ? h.relu() : h.gelu();
        return this.dropout2.forward(this.linear2.forward(this.dropout.forward(a)));
      };
      if (this.normFirst) {
        const x1 = x.add(sa(this.norm1.forward(x)));
        return x1.add(ff(this.norm2.forward(x1)));
      }
      const x1 = this.norm1.forward(x.add(sa(x)));
      return this.norm2.forward(x1.add(ff(x1)));
    });
  }

  fusedForward(x: Tensor): Tensor {
    const a = this.selfAttn;
    return new Tensor(native().transformerEncoderLayerFwd(x.handle, a.embedDim, a.numHeads, a.inProjWeight.handle,
      a.inProjBias.handle, a.outProj.weight.handle, a.outProj.bias!.handle, this.activation === "gelu", this.normFirst,
      this.norm1.eps, this.norm1.weight.handle, this.norm1.bias.handle, this.norm2.weight.handle, this.norm2.bias.handle,
      this.linear1.weight.handle, this.linear1.bias!.handle, this.linear2.weight.handle, this.linear2.bias!.handle));
  }
}

/**
 * The sinusoidal positional table of "Attention is all you need" (section 3.5), [T, d]: column 2i
 * holds sin(t / 10000^(2i/d)), column 2i + 1 cos(t / 10000^(2i/d)), for steps t = 0..T-1 (an odd d
 * ends on a sine). Added to an encoder's inputs, it lets the permutation-equivariant layers tell
 * one step from another.
 */
export function sinusoidalPositions(T: number, d: number): Tensor {
  const out = new Array<number>(T * d);
  for (let t = 0; t < T; t++) for (let j = 0; j < d; j++) {
    const angle = t / Math.pow(10000, (2 * Math.floor(j / 2)) / d);
    out[t * d + j] = j % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
  }
  return tensor(out, [T, d]); // the default dtype
}
