/** Neutralising a batch of predictions inside the loss: a projection, differentiable in the predictions. */
import { DType, Tensor, tensor } from "../engine/index.js";

/**
 * pred - H pred for one cross-section, where H (n x n, from projectionMatrix) projects onto the
 * exposures in the regression's weighted inner product. H is a constant: gradients flow to pred.
 */
export function neutralizeTensor(pred: Tensor, H: Tensor): Tensor {
  const hp = H.matmul(pred);
  const out = pred.sub(hp);
  hp.dispose();
  return out;
}

/** H as a float32 tensor. */
export function projectionTensor(H: Float64Array, n: number): Tensor {
  return tensor(Float32Array.from(H), [n, n], { dtype: DType.float32 });
}
