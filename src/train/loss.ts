/**
 * The training loss (formula 3-3): the weighted MSE between the neutralised target and the batch's
 * prediction neutralised date by date, with long-sample weights (formula 3-8, in a well-defined
 * form, see sampleWeights). The projection (risk's `projection`) is applied here as tensors, so
 * that gradients flow through the neutralisation to the prediction.
 */
import { DType, Tensor, cat, scope, tensor } from "../engine/index.js";
import type { Projection } from "../risk/index.js";

/** A projection's two factors as float32 tensors ([n, p] and [p, n]). */
export interface ProjectionTensors {
  left: Tensor;
  right: Tensor;
}

export function projectionTensors(P: Projection): ProjectionTensors {
  return {
    left: tensor(Float32Array.from(P.left), [P.n, P.p], { dtype: DType.float32 }),
    right: tensor(Float32Array.from(P.right), [P.p, P.n], { dtype: DType.float32 }),
  };
}

/**
 * pred - H pred for one cross-section, where H = left x right (from `projection`) projects onto the
 * exposures in the regression's weighted inner product. H is a constant: gradients flow to pred.
 */
export function neutralizeTensor(pred: Tensor, H: ProjectionTensors): Tensor {
  return scope(() => pred.sub(H.left.matmul(H.right.matmul(pred))));
}

/**
 * Long-sample weights. The printed formula 3-8, w_i = y_i / sum(y), gives negative weights to
 * negative returns and explodes when the returns sum to about zero, so it cannot be used as is.
 * Here the weight rises linearly with the return's rank in its cross-section:
 * w_i = 1 + a (2 (rank_i - 1) / (n - 1) - 1), from 1 - a for the worst to 1 + a for the best,
 * mean 1: long samples count more, every weight stays positive and bounded.
 */
export function sampleWeights(y: ArrayLike<number>, a: number): Float64Array {
  const n = y.length;
  const w = new Float64Array(n).fill(1);
  if (n < 2 || a === 0) return w;
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => y[i] - y[j]);
  order.forEach((i, r) => (w[i] = 1 + a * ((2 * r) / (n - 1) - 1)));
  return w;
}

/**
 * Formula 3-3 over a batch of whole dates: sum_i w_i ((pred - H pred)_i - y_i)^2 / sum_i w_i, each
 * date's predictions neutralised by its own projection and weighted within its own cross-section.
 * `pred` and `target` hold the dates' samples one date after another, `dates` their counts in order.
 */
export function batchLoss(pred: Tensor, target: number[], dates: { n: number; projection: ProjectionTensors }[], longWeight: number): Tensor {
  return scope(() => {
    const w = new Float64Array(target.length);
    let off = 0;
    const parts = dates.map(({ n, projection }) => {
      w.set(sampleWeights(target.slice(off, off + n), longWeight), off);
      const seg = neutralizeTensor(pred.narrow(0, off, n), projection);
      off += n;
      return seg;
    });
    const pn = parts.length === 1 ? parts[0] : cat(parts, 0);
    const wt = tensor(Float32Array.from(w));
    const diff = pn.sub(tensor(Float32Array.from(target)));
    return diff.square().mul(wt).sum().div(w.reduce((a, c) => a + c, 0));
  });
}
