/**
 * Daily use: score the universe on the latest date with a saved model. The model's folder holds
 * everything needed: weights, the feature columns it selected, its images and feature settings.
 * The folder is checked whole (the manifest, the weights, and that the weights are the model the
 * manifest describes) before the data is loaded: a broken model stops in a second, not after the load.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { DType, SafetensorsError, type Tensor, decodeSafetensors, readSafetensorsFile } from "../engine/index.js";
import {
  INPUT_SET_NAMES, type ImageSpec, type InputSet, buildFeatureStore, inputSetFeatureCount, inputSetOf, readFeaturePanel,
} from "../features/index.js";
import { type AlphaNet, type ModelSpec, createModel, imageSpecs, inputSetOfSpec } from "../models/index.js";
import { buildSamples } from "../dataset/index.js";
import { DataError, panelGrid } from "../data/index.js";
import { predict } from "../train/index.js";
import { type Config, UsageError } from "./config.js";
import { loadData } from "./data.js";
import { featureCacheDir } from "./prepare.js";

const count = z.number().int().min(0);
const fraction = z.number().min(0).lt(1);

const inputSet = z.enum(INPUT_SET_NAMES as [InputSet, ...InputSet[]]);

/** What a saved model's manifest.json must hold for predict (the rolling trainer writes more). */
const ManifestSchema = z.object({
  format: z.literal("alphanet-model"),
  spec: z.object({
    kind: z.enum(["v1", "v2", "v3", "v4"]),
    v4: z.object({
      seqLen: z.number().int().min(1), auxImages: count, bidirectional: z.boolean(), attention: z.union([z.boolean(), z.enum(["paper", "self", "mean"])]), lstmDropout: fraction,
      positional: z.enum(["none", "sinusoidal", "learned"]),
      transformerHeads: z.number().int().min(1), transformerFeedforward: count, transformerDropout: fraction, leakySlope: z.number(),
      attentionProjection: z.boolean(), auxWindows: z.array(z.number().int().min(2)), useSpearman: z.boolean(),
    }).strict().partial().optional(),
    inputs: inputSet.optional(),
  }),
  // Bounded by the input set's feature count below (208 for V4's inputs).
  features: z.number().int().min(1),
  featureColumns: z.array(z.number().int().min(0)).nullable(),
  images: z.array(z.object({ d: z.number().int().min(1), T: z.number().int().min(1), step: z.number().int().min(1) })).min(1),
  featureSettings: z.object({
    windows: z.array(z.number().int().min(2)).min(1), standardize: z.boolean(), winsorize: z.number().min(0).optional(),
    /** The inputs the features are computed from; manifests written before input sets have none: V4's. */
    inputs: inputSet.optional(),
  }),
});

type Manifest = z.infer<typeof ManifestSchema> & { spec: ModelSpec; images: ImageSpec[] };

/** The manifest, or a DataError naming manifest.json and what is wrong with it. */
function readManifest(path: string): Manifest {
  if (!existsSync(path)) throw new DataError(path, "no such file: a saved model's folder holds manifest.json and weights.safetensors");
  const text = readFileSync(path, "utf8");
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    // An error at the very end of the text: the file was cut short.
    const msg = (e as Error).message.replace(/\s+/g, " ");
    const at = /position (\d+)/.exec(msg);
    const truncated = /end of JSON/.test(msg) || (at !== null && Number(at[1]) >= text.trimEnd().length);
    throw new DataError(path, truncated ? `truncated: the JSON ends early (${text.length} characters; ${msg})` : `not valid JSON (${msg})`);
  }
  const r = ManifestSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue.path.join(".") || "(top level)";
    const what = issue.code === "unrecognized_keys" ? `unknown key(s) ${issue.keys.join(", ")}`
      : issue.code === "invalid_type" && issue.received === "undefined" ? "missing" : issue.message;
    throw new DataError(path, `${where}: ${what}${where === "format" ? " (not an alphanet model's manifest)" : ""}`);
  }
  const m = r.data as Manifest;
  const fail = (reason: string): never => {
    throw new DataError(path, reason);
  };
  const set = inputSetOf(m.featureSettings);
  if (inputSetOfSpec(m.spec) !== set) fail(`spec.inputs ${inputSetOfSpec(m.spec)} but featureSettings.inputs ${set}`);
  const F = inputSetFeatureCount(set);
  if (m.features > F) fail(`features: ${m.features}, more than the ${F} features of the ${set} inputs`);
  const outside = m.featureColumns?.find((c) => c >= F);
  if (outside !== undefined) fail(`featureColumns: column ${outside} is not one of the ${F} features of the ${set} inputs`);
  if (m.featureColumns && m.featureColumns.length !== m.features)
    fail(`featureColumns lists ${m.featureColumns.length} columns, but features is ${m.features}`);
  if (!m.featureColumns && m.features !== F) fail(`features is ${m.features} with no featureColumns (all ${F} columns)`);
  const expected = imageSpecs(m.spec);
  if (JSON.stringify(m.images) !== JSON.stringify(expected))
    fail(`images ${JSON.stringify(m.images)} are not those of the ${m.spec.kind} model its spec describes (${JSON.stringify(expected)})`);
  const missing = m.images.map((sp) => sp.d).filter((d) => !m.featureSettings.windows.includes(d));
  if (missing.length) fail(`the images read windows d=${missing.join(", ")}, which featureSettings.windows [${m.featureSettings.windows}] lacks`);
  return m;
}

/**
 * A saved model, checked: manifest.json is complete and consistent, weights.safetensors is a
 * well-formed file, and its tensors are exactly the model's (names, shapes, float32). Every
 * problem is a DataError that names the file and what is wrong with it.
 */
export function openSavedModel(dir: string): { model: AlphaNet; manifest: Manifest } {
  if (!existsSync(dir)) throw new UsageError(`--model ${dir}: no such folder`);
  if (!statSync(dir).isDirectory())
    throw new UsageError(`--model ${dir}: a file; expected a saved model's folder (weights.safetensors and manifest.json, under OUT/models/<model>/<window>)`);
  const manifestPath = join(dir, "manifest.json");
  const manifest = readManifest(manifestPath);
  const weightsPath = join(dir, "weights.safetensors");
  let weights: Map<string, Tensor>;
  try {
    weights = decodeSafetensors(readSafetensorsFile(weightsPath), weightsPath).tensors;
  } catch (e) {
    if (e instanceof SafetensorsError) throw new DataError(e.file, e.reason);
    throw e;
  }
  let model: AlphaNet;
  try {
    model = createModel(specOfManifest(manifest.spec, weights), manifest.features);
  } catch (e) {
    throw new DataError(manifestPath, `spec ${JSON.stringify(manifest.spec)} with ${manifest.features} features makes no model: ${(e as Error).message}`);
  }
  const own = model.stateDict();
  const problems: string[] = [];
  for (const [k, t] of own) {
    const w = weights.get(k);
    if (!w) problems.push(`no tensor ${k}`);
    else if (w.shape.join() !== t.shape.join()) problems.push(`${k} has shape [${w.shape}], the model's is [${t.shape}]`);
    else if (w.dtype !== t.dtype) problems.push(`${k} is ${DType[w.dtype]}, the model's is ${DType[t.dtype]}`);
  }
  const extra = [...weights.keys()].filter((k) => !own.has(k));
  if (extra.length) problems.push(`tensor${extra.length > 1 ? "s" : ""} the model lacks: ${extra.slice(0, 3).join(", ")}${extra.length > 3 ? ` and ${extra.length - 3} more` : ""}`);
  if (problems.length) {
    model.dispose();
    for (const t of weights.values()) t.dispose();
    const shown = problems.slice(0, 3).join("; ") + (problems.length > 3 ? `; and ${problems.length - 3} more` : "");
    throw new DataError(weightsPath, `not the weights of the model manifest.json describes (${manifest.spec.kind}, ${manifest.features} features): ${shown}`);
  }
  model.loadStateDict(weights);
  for (const t of weights.values()) t.dispose();
  return { model, manifest };
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
  const { model, manifest } = openSavedModel(modelDir);
  // The same data as the run that trained the model, loaded the same way.
  const { panel } = await loadData(cfg);
  const store = buildFeatureStore(panel, featureCacheDir(cfg), manifest.featureSettings);
  const cols = manifest.featureColumns ?? undefined;
  const panels = new Map(manifest.images.map((sp) => [sp.d, readFeaturePanel(store, sp.d, cols)]));
  const D = panel.calendar.length;
  const last = D - 1;
  const set = buildSamples(panel, panels, manifest.images, panelGrid(panel, 0), { from: last, to: D },
    { step: 1, minListingDays: cfg.minListingDays, requireLabel: false });
  const scores = predict(model, { specs: manifest.images, panels }, set.samples);
  model.dispose();
  return set.samples.map((s, i) => ({ date: panel.calendar[s.date], code: panel.stocks[s.stock], score: scores[i] }))
    .sort((a, b) => b.score - a.score);
}

/** `alphanet predict`: the latest date's scores, best first, in OUT/scores.csv. */
export async function writeLatestScores(modelDir: string, cfg: Config): Promise<{ scored: number; date: string | null; file: string }> {
  const rows = await scoreLatest(modelDir, cfg);
  mkdirSync(cfg.out, { recursive: true });
  const file = join(cfg.out, "scores.csv");
  writeFileSync(file, "date,code,score\n" + rows.map((r) => `${r.date},${r.code},${r.score}`).join("\n") + "\n");
  return { scored: rows.length, date: rows[0]?.date ?? null, file };
}
