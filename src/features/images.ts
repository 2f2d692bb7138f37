/**
 * Sample images: for a sample (stock s, date t), the rows t - (T - 1) * step .. t of a window's
 * feature panel, [T x K]. Gathered in batches straight into the Float32Array a tensor is made from.
 */
import type { FeaturePanel } from "./store.js";

export interface Sample {
  stock: number;
  date: number;
}

/** An image a model reads: window d's feature panel, T time steps, `step` dates apart. */
export interface ImageSpec {
  d: number;
  T: number;
  step: number;
}

/**
 * A network's first layer over one image (window d), for parameter significance: its weight
 * matrices [units x K] over the image's K feature columns, row-major, by parameter name. Here, with
 * the images, because models hand them over and evaluate reads them, and neither imports the other.
 */
export interface FirstLayer {
  d: number;
  weights: FeatureWeights[];
}

/** One weight matrix [units x K] of a first layer, by its parameter name (lstm.weight_ih_l0). */
export interface FeatureWeights {
  name: string;
  values: number[];
}

/** Whether every row of the sample's image is a valid window. */
export function imageValid(p: FeaturePanel, s: number, t: number, T: number, step = 1): boolean {
  const first = t - (T - 1) * step;
  if (first < 0) return false;
  for (let r = first; r <= t; r += step) if (!p.valid[s * p.D + r]) return false;
  return true;
}

/** Copies the images of `samples` into `out` ([B, T, K], row-major); returns `out`. */
export function gatherImages(p: FeaturePanel, samples: Sample[], T: number, step = 1,
  out = new Float32Array(samples.length * T * p.columns.length)): Float32Array {
  const K = p.columns.length;
  const D = p.D;
  for (let b = 0; b < samples.length; b++) {
    const { stock, date } = samples[b];
    if (step === 1) {
      // A stock's dates lie next to each other: the whole image is one contiguous block.
      const src = (stock * D + date - T + 1) * K;
      out.set(p.values.subarray(src, src + T * K), b * T * K);
      continue;
    }
    for (let i = 0; i < T; i++) {
      const t = date - (T - 1 - i) * step;
      const src = (stock * D + t) * K;
      out.set(p.values.subarray(src, src + K), (b * T + i) * K);
    }
  }
  return out;
}
