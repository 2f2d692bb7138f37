/** Stateless layer functions (torch.nn.functional): the arithmetic that modules call with their state. */
import { native } from "../native.js";
import { Tensor } from "../tensor.js";

export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  return new Tensor(native().linear(x.handle, weight.handle, bias?.handle ?? null));
}

export interface RnnArgs {
  hasBiases: boolean;
  numLayers: number;
  dropout: number;
  train: boolean;
  bidirectional: boolean;
  batchFirst: boolean;
}

/** Fused multi-layer LSTM (at::lstm). params: per layer and direction [w_ih, w_hh, b_ih, b_hh]. */
export function lstm(x: Tensor, h0: Tensor, c0: Tensor, params: Tensor[], a: RnnArgs): [Tensor, Tensor, Tensor] {
  const [o, h, c] = native().lstm(x.handle, [h0.handle, c0.handle], params.map((p) => p.handle), a.hasBiases,
    a.numLayers, a.dropout, a.train, a.bidirectional, a.batchFirst);
  return [new Tensor(o), new Tensor(h), new Tensor(c)];
}

/** Fused multi-layer GRU (at::gru). */
export function gru(x: Tensor, h0: Tensor, params: Tensor[], a: RnnArgs): [Tensor, Tensor] {
  const [o, h] = native().gru(x.handle, h0.handle, params.map((p) => p.handle), a.hasBiases, a.numLayers, a.dropout,
    a.train, a.bidirectional, a.batchFirst);
  return [new Tensor(o), new Tensor(h)];
}

/** Batch normalisation over dim 1 of [N, C] or [N, C, L]; updates the running statistics in training. */
export function batchNorm(x: Tensor, o: { weight?: Tensor | null; bias?: Tensor | null; runningMean?: Tensor | null;
  runningVar?: Tensor | null; training: boolean; momentum: number; eps: number }): Tensor {
  return new Tensor(native().batchNorm(x.handle, o.weight?.handle, o.bias?.handle, o.runningMean?.handle,
    o.runningVar?.handle, o.training, o.momentum, o.eps));
}

export function layerNorm(x: Tensor, normalizedShape: number[], weight?: Tensor | null, bias?: Tensor | null,
  eps = 1e-5): Tensor {
  return new Tensor(native().layerNorm(x.handle, normalizedShape, weight?.handle, bias?.handle, eps));
}

export function dropout(x: Tensor, p: number, training: boolean): Tensor {
  return new Tensor(native().dropout(x.handle, p, training));
}

export function mseLoss(pred: Tensor, target: Tensor): Tensor {
  const d = pred.sub(target);
  const sq = d.square();
  d.dispose();
  const m = sq.mean();
  sq.dispose();
  return m;
}
