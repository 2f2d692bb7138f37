/**
 * Daily use: score the universe on the latest date with a saved model. The model's folder holds
 * everything needed: weights, the feature columns it selected, its images and feature settings.
 */
import { join } from "node:path";
import { loadModel } from "../engine/index.js";
import { buildFeatureStore, readFeaturePanel } from "../features/index.js";
import { type ImageSpec, type ModelSpec, createModel } from "../models/index.js";
import { buildSamples } from "../dataset/index.js";
import { predict } from "../train/index.js";
import type { Config } from "./config.js";
import { loadData } from "./pipeline.js";
import { UsageError } from "./config.js";

interface Manifest {
  format: string;
  spec: ModelSpec;
  features: number;
  featureColumns: number[] | null;
  images: ImageSpec[];
  featureSettings: { windows: number[]; standardize: boolean };
}

/**
 * A saved model's spec, read in today's terms. Manifests written before issue 14 have no attention
 * form or positional setting (V4 then scored steps from h_t alone, with no positional information;
 * its ablation without attention said `attention: false`); their weights tell which.
 */
export function specOfManifest(spec: ModelSpec, weights: Map<string, { shape: number[] }>): ModelSpec {
  if (spec.kind !== "v4") return spec;
  const v4 = { ...spec.v4 } as NonNullable<ModelSpec["v4"]> & { attention?: unknown };
  if (typeof v4.attention === "boolean" || v4.attention === undefined) {
    const w = weights.get("att_w.weight");
    v4.attention = v4.attention === false || !weights.has("att_v.weight") ? "mean"
      : w && w.shape[1] === 2 * w.shape[0] ? "paper" : "self";
  }
  v4.positional ??= weights.has("aux.0.pos") ? "learned" : "none";
  return { ...spec, v4 };
}

export async function scoreLatest(modelDir: string, cfg: Config): Promise<{ date: string; code: string; score: number }[]> {
  let m: { stateDict: Map<string, import("../engine/index.js").Tensor>; manifest: Manifest };
  try {
    m = loadModel<Manifest>(modelDir);
  } catch {
    throw new UsageError(`--model ${modelDir}: not a saved model (expected weights.safetensors and manifest.json)`);
  }
  if (m.manifest.format !== "alphanet-model") throw new UsageError(`--model ${modelDir}: manifest.json is not an alphanet model`);
  // The same data as the run that trained the model, loaded the same way.
  const { panel } = await loadData(cfg);
  const store = buildFeatureStore(panel, join(cfg.out, "cache", "features"), m.manifest.featureSettings);
  const cols = m.manifest.featureColumns ?? undefined;
  const panels = new Map(m.manifest.images.map((sp) => [sp.d, readFeaturePanel(store, sp.d, cols)]));
  const model = createModel(specOfManifest(m.manifest.spec, m.stateDict), m.manifest.features);
  model.loadStateDict(m.stateDict);
  const D = panel.calendar.length;
  const last = D - 1;
  const set = buildSamples(panel, panels, m.manifest.images, new Float64Array(panel.stocks.length * D), { from: last, to: D },
    { step: 1, minListingDays: cfg.minListingDays, requireLabel: false });
  const scores = predict(model, { specs: m.manifest.images, panels }, set.samples);
  return set.samples.map((s, i) => ({ date: panel.calendar[s.date], code: panel.stocks[s.stock], score: scores[i] }))
    .sort((a, b) => b.score - a.score);
}
