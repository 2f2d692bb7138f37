/**
 * The AlphaNet models and what each reads: a model is built from a ModelSpec, and its images are
 * described by ImageSpecs (window d, time steps T, step between them), primary image first.
 */
import { AlphaNetV4, type AlphaNetV4Config } from "./alphanetv4.js";
import { AlphaNetV1, AlphaNetV2, AlphaNetV3 } from "./baselines.js";
import type { Tensor, nn } from "../engine/index.js";
import type { FeatureWeights, FirstLayer, ImageSpec, InputSet } from "../features/index.js";

export { AlphaNetV4, ALPHANET_V4_DEFAULTS, type AlphaNetV4Config } from "./alphanetv4.js";
export { AlphaNetV1, AlphaNetV2, AlphaNetV3 } from "./baselines.js";

export type ModelKind = "v1" | "v2" | "v3" | "v4";

export interface ModelSpec {
  /** A network, or "ridge": the linear reference row (closed form, no network; it reads V4's samples). */
  kind: ModelKind | "ridge";
  /** Ablation switches of V4 (the paper's chapter 4). */
  v4?: Partial<Omit<AlphaNetV4Config, "features">> & { auxWindows?: number[]; useSpearman?: boolean };
  /**
   * The inputs the features are computed from (absent: V4's 13). A baseline on its own inputs
   * (OWN_INPUTS) reads all of its set's features, as Huatai's did: Spearman dropout is V4's (3.c.iii).
   */
  inputs?: InputSet;
}

/** The baselines' own inputs (Huatai's reports; DESIGN.md section 6): V1's 9, V2's 15, which V3 reads too. */
export const OWN_INPUTS: Partial<Record<ModelKind, InputSet>> = { v1: "v1", v2: "v2", v3: "v2" };

/** The input set a model's features are computed from. */
export const inputSetOfSpec = (spec: ModelSpec): InputSet => spec.inputs ?? "v4";

/** Whether a model's features are Spearman-selected per window: V4's inputs only, unless switched off. */
export const usesSpearman = (spec: ModelSpec): boolean => inputSetOfSpec(spec) === "v4" && (spec.v4?.useSpearman ?? true);

export interface AlphaNet extends nn.Module {
  forward(images: Tensor[]): Tensor;
  /**
   * Per image, in forward's order, the first layer's weight matrices over the image's features (for
   * parameter significance); none where the first layer does not read the features column by column.
   */
  firstLayerWeights(): FeatureWeights[][];
}

/** The model's first layers, each labelled with its image's window (specs: the model's imageSpecs). */
export function firstLayers(model: AlphaNet, specs: ImageSpec[]): FirstLayer[] {
  return model.firstLayerWeights().map((weights, i) => ({ d: specs[i].d, weights }));
}

/** V4's auxiliary image windows: the paper's d = 5 and d = 20, or none without the Transformer branch. */
function auxWindowsOf(spec: ModelSpec): number[] {
  return spec.v4?.auxImages === 0 ? [] : spec.v4?.auxWindows ?? [5, 20];
}

/** The images a model reads. */
export function imageSpecs(spec: ModelSpec): ImageSpec[] {
  switch (spec.kind) {
    case "v1":
    case "v2":
      return [{ d: 10, T: 3, step: 10 }];
    case "v3":
      return [{ d: 10, T: 3, step: 10 }, { d: 5, T: 6, step: 5 }];
    case "ridge":
    case "v4": {
      const T = spec.v4?.seqLen ?? 20;
      return [{ d: 10, T, step: 1 }, ...auxWindowsOf(spec).map((d) => ({ d, T, step: 1 }))];
    }
  }
}

export function createModel(spec: ModelSpec, features: number): AlphaNet {
  switch (spec.kind) {
    case "ridge": throw new Error("the ridge row has no network: it is fitted in closed form (train/ridge.ts)");
    case "v1": return new AlphaNetV1(features);
    case "v2": return new AlphaNetV2(features);
    case "v3": return new AlphaNetV3(features);
    case "v4": {
      const { auxWindows: _a, useSpearman: _u, ...cfg } = spec.v4 ?? {};
      return new AlphaNetV4({ ...cfg, features, auxImages: auxWindowsOf(spec).length });
    }
  }
}
