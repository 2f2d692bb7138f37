/**
 * Parameter significance (the paper's figure 5-2): the mean absolute first-layer weight per
 * extracted feature, then grouped by operator, input and window. Each model names its first layers
 * (models' firstLayers: for V4 the Bi-LSTM's input weights over the primary image and the first
 * Transformer projections over the auxiliaries); this reads their values only.
 */
import { FEATURES, type FeatureInfo, type FirstLayer } from "../features/index.js";

export interface Significance {
  /** Per kept feature: its name and mean |w| over the first layer's units. */
  features: { feature: number; operator: string; inputs: string[]; window: number; value: number }[];
  byOperator: Record<string, number>;
  byInput: Record<string, number>;
  byWindow: Record<string, number>;
}

/** Mean |w| per input column of a [units x K] weight matrix. */
function columnMeans(w: number[], K: number): number[] {
  const units = w.length / K;
  const out = new Array(K).fill(0);
  for (let u = 0; u < units; u++) for (let k = 0; k < K; k++) out[k] += Math.abs(w[u * K + k]) / units;
  return out;
}

/**
 * `layers`: per image window d, its first-layer weight matrices ([units x K] over `columns`, indices
 * into `features`: V4's 208 unless the model reads another input set's).
 */
export function parameterSignificance(columns: number[], layers: FirstLayer[], features: FeatureInfo[] = FEATURES): Significance {
  const K = columns.length;
  const out: Significance["features"] = [];
  for (const { d, weights } of layers) {
    const acc = new Array(K).fill(0);
    if (!weights.length) throw new Error(`no first-layer weights over the d = ${d} image`);
    for (const { values } of weights) {
      const cols = columnMeans(values, K);
      cols.forEach((v, k) => (acc[k] += v / weights.length));
    }
    acc.forEach((v, k) => out.push({ feature: columns[k], operator: features[columns[k]].operator,
      inputs: features[columns[k]].inputs, window: d, value: v }));
  }
  const group = (key: (f: Significance["features"][number]) => string[]): Record<string, number> => {
    const sum: Record<string, number> = {}, n: Record<string, number> = {};
    for (const f of out) for (const k of key(f)) { sum[k] = (sum[k] ?? 0) + f.value; n[k] = (n[k] ?? 0) + 1; }
    return Object.fromEntries(Object.keys(sum).map((k) => [k, sum[k] / n[k]]));
  };
  return { features: out, byOperator: group((f) => [f.operator]), byInput: group((f) => f.inputs), byWindow: group((f) => [String(f.window)]) };
}
