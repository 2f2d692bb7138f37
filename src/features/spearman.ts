/**
 * Spearman dropout (the paper's section 3.c.iii; DESIGN.md section 5): on a fixed, seeded sample
 * of training cross-sections of the primary (d = 10) panel, walk the 208 features in operator
 * order and keep a feature only if its |Spearman correlation| with every feature kept so far is at
 * most the threshold (0.8). The kept list selects the same columns in every window.
 */
import { Rng, rankdata } from "../data/index.js";
import type { FeaturePanel } from "./store.js";

export interface SpearmanSelection {
  threshold: number;
  /** Kept feature indices (into the 208), in order. */
  kept: number[];
  /** Dropped features, with the kept feature that dropped each and their correlation. */
  dropped: { feature: number; by: number; rho: number }[];
  /** Samples (stock, date) the correlations were computed on. */
  samples: number;
  dates: string[];
}

/**
 * Selects features from `panel` (all 208 columns) using `nDates` cross-sections drawn with `seed`
 * from the dates in [from, to) (indices into the calendar): training data only.
 */
export function spearmanSelect(panel: FeaturePanel, calendar: string[], o: { from: number; to: number; seed: number;
  nDates?: number; threshold?: number }): SpearmanSelection {
  const threshold = o.threshold ?? 0.8;
  const { S, D } = panel;
  const K = panel.columns.length;
  const candidates = Array.from({ length: Math.max(0, o.to - o.from) }, (_, i) => o.from + i)
    .filter((t) => { for (let s = 0; s < S; s++) if (panel.valid[s * D + t]) return true; return false; });
  const picked = new Rng(o.seed).sample(candidates.length, o.nDates ?? 20).map((i) => candidates[i]);
  const rows: number[] = [];
  for (const t of picked) for (let s = 0; s < S; s++) if (panel.valid[s * D + t]) rows.push(s * D + t);
  if (rows.length < 10) throw new Error(`Spearman selection needs training samples: only ${rows.length} valid in the chosen dates`);
  // Centred, normalised ranks per feature: the Spearman correlation is then a dot product.
  const n = rows.length;
  const z: Float64Array[] = [];
  for (let f = 0; f < K; f++) {
    const r = rankdata(rows.map((k) => panel.values[k * K + f]));
    const m = (n + 1) / 2;
    let ss = 0;
    for (let i = 0; i < n; i++) {
      r[i] -= m;
      ss += r[i] * r[i];
    }
    const norm = ss > 0 ? 1 / Math.sqrt(ss) : 0;
    for (let i = 0; i < n; i++) r[i] *= norm;
    z.push(r);
  }
  const kept: number[] = [];
  const dropped: SpearmanSelection["dropped"] = [];
  for (let f = 0; f < K; f++) {
    let worst = 0;
    let by = -1;
    for (const k of kept) {
      let dot = 0;
      const a = z[f], b = z[k];
      for (let i = 0; i < n; i++) dot += a[i] * b[i];
      if (Math.abs(dot) > Math.abs(worst)) {
        worst = dot;
        by = k;
      }
    }
    // A constant feature (all ranks equal) carries nothing: it is dropped by itself.
    const constant = z[f].every((v) => v === 0);
    if (constant) dropped.push({ feature: panel.columns[f], by: panel.columns[f], rho: 1 });
    else if (Math.abs(worst) > threshold) dropped.push({ feature: panel.columns[f], by: panel.columns[by], rho: worst });
    else kept.push(f);
  }
  return { threshold, kept: kept.map((f) => panel.columns[f]), dropped, samples: n, dates: picked.map((t) => calendar[t]) };
}
