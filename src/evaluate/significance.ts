/**
 * Parameter significance (the paper's figure 5-2): the mean absolute first-layer weight per
 * extracted feature, then grouped by operator, input and window. For V4 the first layers are the
 * Bi-LSTM's input weights (primary image) and the first Transformer projections (auxiliaries).
 */
import type { nn } from "../engine/index.js";
import { FEATURES } from "../features/index.js";

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

/** `layers`: per image window d, the names of its first-layer weight matrices ([units x K]). */
export function parameterSignificance(model: nn.Module, columns: number[], layers: { d: number; weights: string[] }[]): Significance {
  const sd = model.stateDict();
  const K = columns.length;
  const features: Significance["features"] = [];
  for (const { d, weights } of layers) {
    const acc = new Array(K).fill(0);
    // A one-way LSTM (an ablation) has no _reverse weights: use the matrices the model has.
    const present = weights.filter((name) => sd.has(name));
    if (!present.length) throw new Error(`the model has none of the parameters ${weights.join(", ")}`);
    for (const name of present) {
      const cols = columnMeans(sd.get(name)!.toList(), K);
      cols.forEach((v, k) => (acc[k] += v / present.length));
    }
    acc.forEach((v, k) => features.push({ feature: columns[k], operator: FEATURES[columns[k]].operator,
      inputs: FEATURES[columns[k]].inputs, window: d, value: v }));
  }
  const group = (key: (f: Significance["features"][number]) => string[]): Record<string, number> => {
    const sum: Record<string, number> = {}, n: Record<string, number> = {};
    for (const f of features) for (const k of key(f)) { sum[k] = (sum[k] ?? 0) + f.value; n[k] = (n[k] ?? 0) + 1; }
    return Object.fromEntries(Object.keys(sum).map((k) => [k, sum[k] / n[k]]));
  };
  return { features, byOperator: group((f) => [f.operator]), byInput: group((f) => f.inputs), byWindow: group((f) => [String(f.window)]) };
}

/** The first-layer weights of each model kind. */
export function firstLayers(kind: string, auxWindows: number[]): { d: number; weights: string[] }[] {
  switch (kind) {
    case "v4":
      return [{ d: 10, weights: ["lstm.weight_ih_l0", "lstm.weight_ih_l0_reverse"] },
        ...auxWindows.map((d, i) => ({ d, weights: [`aux.${i}.enc.0.self_attn.in_proj_weight`, `aux.${i}.enc.1.self_attn.in_proj_weight`] }))];
    case "v3":
      return [{ d: 10, weights: ["gru10.weight_ih_l0"] }, { d: 5, weights: ["gru5.weight_ih_l0"] }];
    case "v2":
      return [{ d: 10, weights: ["lstm.weight_ih_l0"] }];
    default:
      return [];
  }
}
