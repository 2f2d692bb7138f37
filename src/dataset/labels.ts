/**
 * Labels: the forward return over horizon h, entered at the next day's vwap (t + 1) and exited h
 * days later (t + 1 + h), so that a prediction made after the close of t can be traded. Raw,
 * neutralised (the residual of the CNE5 cross-sectional regression at t) and standardised.
 */
import { type Panel, field } from "../data/index.js";
import { type StyleExposures, crossSectionalRegression } from "../risk/index.js";

export interface Labels {
  horizon: number;
  raw: Float64Array;
  neutralized: Float64Array;
  /** Neutralised, then z-scored across stocks per date. */
  standardized: Float64Array;
  /** Why labels are missing: counts per reason. */
  missing: Record<string, number>;
  warnings: string[];
}

/** Industry index per stock; stocks without an industry share an "unknown" one. */
export function industryIndex(p: Panel): { index: Int32Array; names: string[] } {
  const names = [...new Set(p.industry.map((i) => i ?? "unknown"))].sort();
  return { index: Int32Array.from(p.industry, (i) => names.indexOf(i ?? "unknown")), names };
}

export function forwardReturns(p: Panel, horizon: number): { fwd: Float64Array; missing: Record<string, number> } {
  const S = p.stocks.length, D = p.calendar.length;
  const vwap = field(p, "vwap");
  const susp = p.fields.is_suspended;
  const fwd = new Float64Array(S * D).fill(NaN);
  const missing: Record<string, number> = { past_the_data: 0, not_tradable_at_entry: 0, not_tradable_at_exit: 0 };
  for (let s = 0; s < S; s++) for (let d = 0; d < D; d++) {
    const k = s * D + d;
    if (!Number.isFinite(field(p, "close")[k])) continue;
    if (d + 1 + horizon >= D) { missing.past_the_data++; continue; }
    const a = k + 1, b = k + 1 + horizon;
    if (!Number.isFinite(vwap[a]) || (susp && susp[a] === 1)) { missing.not_tradable_at_entry++; continue; }
    if (!Number.isFinite(vwap[b]) || (susp && susp[b] === 1)) { missing.not_tradable_at_exit++; continue; }
    fwd[k] = vwap[b] / vwap[a] - 1;
  }
  return { fwd, missing };
}

export function makeLabels(p: Panel, styles: StyleExposures, horizon = 10): Labels {
  const S = p.stocks.length, D = p.calendar.length;
  const { fwd, missing } = forwardReturns(p, horizon);
  const { index, names } = industryIndex(p);
  const neutralized = new Float64Array(S * D).fill(NaN);
  const standardized = new Float64Array(S * D).fill(NaN);
  const warnings = new Map<string, number>();
  missing.no_exposure = 0;
  for (let d = 0; d < D; d++) {
    const rows: number[] = [];
    for (let s = 0; s < S; s++) {
      const k = s * D + d;
      if (!Number.isFinite(fwd[k])) continue;
      if (!styles.values.every((v) => Number.isFinite(v[k])) || !Number.isFinite(styles.cap[k])) { missing.no_exposure++; continue; }
      rows.push(k);
    }
    if (rows.length < 3) { missing.no_exposure += rows.length; continue; }
    const r = crossSectionalRegression({
      y: rows.map((k) => fwd[k]), industry: rows.map((k) => index[Math.floor(k / D)]), industries: names.length,
      styles: styles.values.map((v) => rows.map((k) => v[k])), cap: rows.map((k) => styles.cap[k]),
    });
    for (const w of r.warnings) warnings.set(w.replace(/\d+/g, "N"), (warnings.get(w.replace(/\d+/g, "N")) ?? 0) + 1);
    let m = 0, v = 0;
    rows.forEach((k, i) => { neutralized[k] = r.residual[i]; m += r.residual[i]; });
    m /= rows.length;
    for (const x of r.residual) v += (x - m) ** 2;
    const sd = Math.sqrt(v / Math.max(1, rows.length - 1)) || 1;
    rows.forEach((k, i) => (standardized[k] = (r.residual[i] - m) / sd));
  }
  return { horizon, raw: fwd, neutralized, standardized, missing,
    warnings: [...warnings].map(([w, n]) => `${w} (${n} dates)`) };
}
