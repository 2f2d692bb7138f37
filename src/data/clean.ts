/** The cleaning rules, applied as rows are pivoted into panel cells: each flawed row dropped, repaired or flagged, and counted. */
import { FLAG_NAMES, type FieldName, type FlagName, emptyField } from "./panel.js";
import type { SourceColumn } from "./presets.js";
import { type QualityReport, count, example } from "./quality.js";
import type { Columns } from "./rows.js";

/** What happens to each kind of flawed row; the quality report counts each. */
export const CLEANING_RULES = {
  missing_key: "dropped: the row has no date or no code",
  duplicate_key: "dropped: a later row with the same (date, code) as an earlier one; the first is kept",
  missing_price: "dropped: open, high, low or close is empty, NaN, infinite or a missing-value token (NA, N/A, #N/A, null, None)",
  non_positive_price: "dropped: open, high, low or close is zero or negative",
  negative_volume: "dropped: volume or amount is negative (no honest repair exists)",
  high_low_inconsistent: "kept, repaired: high raised to max(open, high, low, close), low lowered to the min",
  zero_volume: "kept, marked suspended: a bar with zero volume",
  non_finite_value: "kept: a non-price value that is infinite becomes missing (NaN and empty values are missing values)",
  move_beyond_price_limit: "kept, flagged: a close-to-close move beyond the board's limit with no adjustment factor (likely an unadjusted corporate action)",
  extreme_move: "kept, flagged: a close-to-close move beyond 40% in a market without price limits (likely an unadjusted corporate action)",
  gap: "panel cell: a trading date inside a stock's span with no row; marked suspended, prices missing",
  unsorted_rows: "accepted: rows may come in any order",
} as const;

/** The panel being filled from the rows, and what the pivot keeps track of. */
export interface Pivot {
  S: number;
  D: number;
  stocks: string[];
  calendar: string[];
  quality: QualityReport;
  out: Partial<Record<FieldName, Float64Array>>;
  flags: Partial<Record<FlagName, Uint8Array>>;
  suspended: Uint8Array;
  /** Cells that got a row. */
  seen: Uint8Array;
  universe: Uint8Array | undefined;
  /** Columns used for cleaning and derivation only, not kept in the panel. */
  preClose: Float64Array | undefined;
  totalShares: Float64Array | undefined;
  floatShares: Float64Array | undefined;
  /** Fields copied as they are (after open, high, low, close), and flags given by the source. */
  copied: FieldName[];
  flagsGiven: FlagName[];
  /** Where record i is in the file ("line N" or "row N"). */
  place: (record: number) => string;
  sorted: boolean;
  prevKey: number;
}

export function newPivot(c: Columns, quality: QualityReport, place: (record: number) => string): Pivot {
  const S = c.stocks.length;
  const D = c.calendar.length;
  const has = (f: SourceColumn): boolean => c.num.has(f);
  const out: Partial<Record<FieldName, Float64Array>> = {};
  const panelFields: FieldName[] = ["open", "high", "low", "close", "vwap", "volume", "amount", "turnover", "free_turnover",
    "market_cap", "float_cap", "adj_factor", "pe_ttm", "pb", "growth", "leverage"];
  for (const f of panelFields) if (has(f as SourceColumn)) out[f] = emptyField(S, D);
  const flagsGiven = FLAG_NAMES.filter(has);
  // Every flag slot exists from the start, so that the record keeps one shape.
  const flags: Partial<Record<FlagName, Uint8Array>> = { is_st: undefined, is_suspended: undefined, limit_up: undefined, limit_down: undefined };
  for (const f of flagsGiven) flags[f] = new Uint8Array(S * D);
  const suspended = (flags.is_suspended ??= new Uint8Array(S * D));
  const column = (f: SourceColumn): Float64Array | undefined => (has(f) ? emptyField(S, D) : undefined);
  return {
    S, D, stocks: c.stocks, calendar: c.calendar, quality, out, flags, suspended, seen: new Uint8Array(S * D),
    universe: has("universe") ? new Uint8Array(S * D) : undefined,
    preClose: column("pre_close"), totalShares: column("total_shares"), floatShares: column("float_shares"),
    copied: panelFields.filter((f) => has(f as SourceColumn) && !["open", "high", "low", "close"].includes(f)),
    flagsGiven, place, sorted: true, prevKey: -1,
  };
}

/** One block of rows into the panel: the cleaning rules row by row. Allocates nothing per row. */
export function pivotBlock(pv: Pivot, c: Columns, b: number): void {
  const { S, D, out, seen, suspended, quality, preClose, totalShares, floatShares } = pv;
  const block = (f: SourceColumn): Float64Array | undefined => c.num.get(f)?.[b];
  const O = block("open")!, H = block("high")!, L = block("low")!, C = block("close")!, vol = block("volume")!;
  const isTrading = block("is_trading");
  const uni = block("universe");
  const copiedFrom = pv.copied.map((f) => block(f as SourceColumn)!);
  const copiedTo = pv.copied.map((f) => out[f]!);
  const flagFrom = pv.flagsGiven.map((f) => block(f)!);
  const flagTo = pv.flagsGiven.map((f) => pv.flags[f]!);
  const preCloseCol = block("pre_close"), totalCol = block("total_shares"), floatCol = block("float_shares");
  const amount = block("amount");
  const open = out.open!, high = out.high!, low = out.low!, close = out.close!;
  const stockIdx = c.stockIdx[b];
  const dateIdx = c.dateIdx[b];
  const m = Math.min(c.blockRows, c.rows - b * c.blockRows);
  const line = (i: number): string => pv.place(b * c.blockRows + i);
  const where = (i: number, s: number, d: number): string => `${line(i)} (${pv.stocks[s]} ${pv.calendar[d]})`;
  for (let i = 0; i < m; i++) {
    const s = stockIdx[i];
    const d = dateIdx[i];
    if (s < 0 || d < 0) {
      count(quality.rowsDropped, "missing_key");
      example(quality, "missing_key", line(i));
      continue;
    }
    const cell = s * D + d;
    if (d * S + s < pv.prevKey) pv.sorted = false;
    pv.prevKey = d * S + s;
    if (seen[cell]) {
      count(quality.rowsDropped, "duplicate_key");
      example(quality, "duplicate_key", where(i, s, d));
      continue;
    }
    const op = O[i];
    let hi = H[i];
    let lo = L[i];
    const cl = C[i];
    if (!(Number.isFinite(op) && Number.isFinite(hi) && Number.isFinite(lo) && Number.isFinite(cl))) {
      count(quality.rowsDropped, "missing_price");
      example(quality, "missing_price", where(i, s, d));
      continue;
    }
    if (op <= 0 || hi <= 0 || lo <= 0 || cl <= 0) {
      count(quality.rowsDropped, "non_positive_price");
      example(quality, "non_positive_price", where(i, s, d));
      continue;
    }
    if (vol[i] < 0 || (amount !== undefined && amount[i] < 0)) {
      count(quality.rowsDropped, "negative_volume");
      example(quality, "negative_volume", where(i, s, d));
      continue;
    }
    seen[cell] = 1;
    quality.rowsKept++;
    if (hi < Math.max(op, cl, lo) || lo > Math.min(op, cl, hi)) {
      count(quality.rowsFlagged, "high_low_inconsistent");
      example(quality, "high_low_inconsistent", where(i, s, d));
      hi = Math.max(op, hi, lo, cl);
      lo = Math.min(op, hi, lo, cl);
    }
    open[cell] = op;
    high[cell] = hi;
    low[cell] = lo;
    close[cell] = cl;
    let inf = false;
    for (let q = 0; q < copiedFrom.length; q++) {
      const v = copiedFrom[q][i];
      if (v === Infinity || v === -Infinity) inf = true;
      copiedTo[q][cell] = Number.isFinite(v) ? v : NaN;
    }
    // A flag column: any non-zero number is true.
    for (let q = 0; q < flagFrom.length; q++) flagTo[q][cell] = flagFrom[q][i] !== 0 && Number.isFinite(flagFrom[q][i]) ? 1 : 0;
    if (preClose) preClose[cell] = preCloseCol![i];
    if (totalShares) totalShares[cell] = totalCol![i];
    if (floatShares) floatShares[cell] = floatCol![i];
    if (inf) {
      count(quality.rowsFlagged, "non_finite_value");
      example(quality, "non_finite_value", where(i, s, d));
    }
    if (isTrading && isTrading[i] === 0) suspended[cell] = 1;
    if (pv.universe) pv.universe[cell] = uni![i] === 1 ? 1 : 0;
    if (vol[i] === 0) {
      suspended[cell] = 1;
      count(quality.rowsFlagged, "zero_volume");
    }
  }
}

/** Gaps inside each stock's span (listed, but no bar) are marked suspended. Returns each stock's first date. */
export function markGaps(pv: Pivot): Int32Array {
  const { S, D, seen, quality } = pv;
  const first = new Int32Array(S).fill(-1);
  const last = new Int32Array(S).fill(-1);
  for (let s = 0; s < S; s++) {
    for (let d = 0; d < D; d++) if (seen[s * D + d]) { if (first[s] < 0) first[s] = d; last[s] = d; }
    for (let d = first[s] + 1; d < last[s]; d++) {
      if (seen[s * D + d]) continue;
      pv.suspended[s * D + d] = 1;
      count(quality.cells, "gap");
      example(quality, "gap", `${pv.stocks[s]} ${pv.calendar[d]}`);
    }
  }
  return first;
}
