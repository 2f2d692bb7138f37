/** Neutralising a panel: the CNE5 regression's residual, date by date. */
import { type Grid, grid } from "../data/index.js";
import { crossSectionalRegression } from "./regression.js";
import type { StyleExposures } from "./styles.js";

/** Per-date residuals of a [stocks x dates] array, and what could not be neutralised. */
export interface NeutralizedPanel {
  /** The residual where the value, every style exposure and the capitalisation are defined; else NaN. */
  residual: Grid;
  /** Values left out because an exposure or the capitalisation was missing (or the date had under 3). */
  noExposure: number;
  /** The regression's warnings, each with the number of dates it was raised on. */
  warnings: string[];
}

/**
 * The CNE5 cross-sectional regression (country, industries, styles; weights sqrt(cap)) of `y` on
 * every date; the residual is `y` neutralised. Used for the training target and for the factor,
 * so that both are neutral in the same sense.
 */
export function neutralizePanel(values: Grid, styles: StyleExposures, industry: { index: Int32Array; names: string[] }): NeutralizedPanel {
  const { stocks: S, dates: D } = values;
  const y = values.values, cap = styles.cap.values, exposures = styles.values.map((v) => v.values);
  const residual = grid(S, D);
  const warnings = new Map<string, number>();
  let noExposure = 0;
  for (let d = 0; d < D; d++) {
    const rows: number[] = [];
    for (let s = 0; s < S; s++) {
      const k = values.index(s, d);
      if (!Number.isFinite(y[k])) continue;
      if (!exposures.every((v) => Number.isFinite(v[k])) || !Number.isFinite(cap[k])) { noExposure++; continue; }
      rows.push(k);
    }
    if (rows.length < 3) { noExposure += rows.length; continue; }
    const r = crossSectionalRegression({
      y: rows.map((k) => y[k]), industry: rows.map((k) => industry.index[Math.floor(k / D)]), industries: industry.names.length,
      styles: exposures.map((v) => rows.map((k) => v[k])), cap: rows.map((k) => cap[k]),
    });
    for (const w of r.warnings) warnings.set(w.replace(/\d+/g, "N"), (warnings.get(w.replace(/\d+/g, "N")) ?? 0) + 1);
    rows.forEach((k, i) => (residual.values[k] = r.residual[i]));
  }
  return { residual, noExposure, warnings: [...warnings].map(([w, n]) => `${w} (${n} dates)`) };
}
