/**
 * Labels: the forward return over horizon h, entered at the next day's vwap (t + 1) and exited h
 * days later (t + 1 + h), so that a prediction made after the close of t can be traded. Raw,
 * neutralised (the residual of the CNE5 cross-sectional regression at t) and standardised.
 */
import { type Grid, type Panel, field, fieldGrid, industryIndex, panelGrid } from "../data/index.js";
import { type StyleExposures, neutralizePanel } from "../risk/index.js";

export interface Labels {
  horizon: number;
  raw: Grid;
  neutralized: Grid;
  /** Neutralised, then z-scored across stocks per date. */
  standardized: Grid;
  /** Why labels are missing: counts per reason. */
  missing: Record<string, number>;
  warnings: string[];
}

export function forwardReturns(p: Panel, horizon: number): { fwd: Grid; missing: Record<string, number> } {
  const S = p.stocks.length, D = p.calendar.length;
  const vwap = field(p, "vwap");
  const close = fieldGrid(p, "close");
  const susp = p.flags.is_suspended;
  const fwd = panelGrid(p);
  const missing: Record<string, number> = { past_the_data: 0, not_tradable_at_entry: 0, not_tradable_at_exit: 0 };
  for (let s = 0; s < S; s++) for (let d = 0; d < D; d++) {
    const k = close.index(s, d);
    if (!Number.isFinite(close.values[k])) continue;
    if (d + 1 + horizon >= D) { missing.past_the_data++; continue; }
    const a = k + 1, b = k + 1 + horizon;
    if (!Number.isFinite(vwap[a]) || (susp && susp[a] === 1)) { missing.not_tradable_at_entry++; continue; }
    if (!Number.isFinite(vwap[b]) || (susp && susp[b] === 1)) { missing.not_tradable_at_exit++; continue; }
    fwd.values[k] = vwap[b] / vwap[a] - 1;
  }
  return { fwd, missing };
}

export function makeLabels(p: Panel, styles: StyleExposures, horizon = 10): Labels {
  const S = p.stocks.length, D = p.calendar.length;
  const { fwd, missing } = forwardReturns(p, horizon);
  const { residual: neutralized, noExposure, warnings } = neutralizePanel(fwd, styles, industryIndex(p));
  missing.no_exposure = noExposure;
  const standardized = panelGrid(p);
  for (let d = 0; d < D; d++) {
    let m = 0, v = 0, n = 0;
    for (let s = 0; s < S; s++) { const x = neutralized.at(s, d); if (Number.isFinite(x)) { m += x; n++; } }
    if (n === 0) continue;
    m /= n;
    for (let s = 0; s < S; s++) { const x = neutralized.at(s, d); if (Number.isFinite(x)) v += (x - m) ** 2; }
    const sd = Math.sqrt(v / Math.max(1, n - 1)) || 1;
    for (let s = 0; s < S; s++) { const x = neutralized.at(s, d); if (Number.isFinite(x)) standardized.set(s, d, (x - m) / sd); }
  }
  return { horizon, raw: fwd, neutralized, standardized, missing, warnings };
}
