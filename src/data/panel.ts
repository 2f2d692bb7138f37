/**
 * The Panel: every field of a market as a dense [stocks x dates] array, stock-major (index
 * s * D + d), with the trading calendar and the stock list. Numbers are Float64Array (NaN where
 * missing); 0/1 flags are Uint8Array (an eighth of the memory: four flags as doubles were a quarter
 * of a loaded panel). It is the one shape every stage speaks (DESIGN.md section 4).
 */

/** Canonical numeric fields and their units. */
export const FIELD_UNITS = {
  open: "price", high: "price", low: "price", close: "price", vwap: "price",
  volume: "shares", amount: "currency",
  turnover: "fraction of shares outstanding", free_turnover: "fraction of free-float shares",
  market_cap: "currency", float_cap: "currency",
  adj_factor: "multiplier (adjusted = raw x factor)",
  pe_ttm: "price / trailing twelve-month earnings", pb: "price / book value",
  growth: "fraction (earnings or sales growth, as the source defines it)", leverage: "ratio (as the source defines it)",
} as const;
export type FieldName = keyof typeof FIELD_UNITS;
export const FIELD_NAMES = Object.keys(FIELD_UNITS) as FieldName[];
export const PRICE_FIELDS: FieldName[] = ["open", "high", "low", "close", "vwap"];

/** Canonical 0/1 flags (1: true) and what they mean. */
export const FLAG_MEANINGS = {
  is_st: "special treatment (ST/*ST/PT): a 5% price limit, excluded from sampling",
  is_suspended: "no trading that day (a suspension, a zero-volume bar or a gap inside the stock's span)",
  limit_up: "closed at the limit-up price: cannot be bought",
  limit_down: "closed at the limit-down price: cannot be sold",
} as const;
export type FlagName = keyof typeof FLAG_MEANINGS;
export const FLAG_NAMES = Object.keys(FLAG_MEANINGS) as FlagName[];

export type Market = "cn" | "us" | "other";

export interface Panel {
  /** Trading dates, sorted, as YYYY-MM-DD. */
  readonly calendar: string[];
  /** Stock codes, in row order. */
  readonly stocks: string[];
  readonly fields: Partial<Record<FieldName, Float64Array>>;
  /** 0/1 flags (1: true); a flag the panel lacks is false everywhere. */
  readonly flags: Partial<Record<FlagName, Uint8Array>>;
  /** Industry code per stock (static), or null where unknown. */
  readonly industry: (string | null)[];
  /** Listing date per stock where known (else the first observed date is used). */
  readonly listDate: (string | null)[];
  /** Index weights per index name: [stocks x dates], 0 where not a member; each date sums to 1. */
  readonly indexWeights: Record<string, Float64Array>;
  /** Point-in-time universe membership [stocks x dates] (1 = in the universe), when given. */
  readonly universe?: Uint8Array;
  /** Whether the price fields are adjusted for corporate actions, and how. */
  readonly priceBasis: string;
  readonly market: Market;
}

export function panelSize(p: Panel): { S: number; D: number } {
  return { S: p.stocks.length, D: p.calendar.length };
}

/** A field that must exist; names the field and what the panel has otherwise. */
export function field(p: Panel, name: FieldName): Float64Array {
  const f = p.fields[name];
  if (!f) throw new Error(`the panel has no field "${name}" (it has: ${Object.keys(p.fields).join(", ")})`);
  return f;
}

export function emptyField(S: number, D: number, fill = NaN): Float64Array {
  return new Float64Array(S * D).fill(fill);
}

/**
 * A stock x date array: `values` stock-major (index s * dates + d), NaN where missing: a factor, a
 * label, a style exposure, a panel field. What the stages pass one another instead of a bare array
 * with its S and D. A hot loop reads `values` with a row offset (`const base = g.index(s, 0)`).
 */
export class Grid {
  constructor(readonly values: Float64Array, readonly stocks: number, readonly dates: number) {
    if (values.length !== stocks * dates) throw new Error(`a grid of ${stocks} stocks x ${dates} dates needs ${stocks * dates} values, not ${values.length}`);
  }

  /** The flat index of (stock s, date d) into `values`. */
  index(s: number, d: number): number {
    return s * this.dates + d;
  }

  at(s: number, d: number): number {
    return this.values[s * this.dates + d];
  }

  set(s: number, d: number, v: number): void {
    this.values[s * this.dates + d] = v;
  }

  /** Stock s's dates as a view (no copy). */
  row(s: number): Float64Array {
    return this.values.subarray(s * this.dates, (s + 1) * this.dates);
  }

  /** A new grid of the same shape: f of each value and its flat index. */
  map(f: (x: number, k: number) => number): Grid {
    return new Grid(Float64Array.from(this.values, f), this.stocks, this.dates);
  }
}

/** A new S x D grid filled with `fill`. */
export function grid(S: number, D: number, fill = NaN): Grid {
  return new Grid(emptyField(S, D, fill), S, D);
}

/** `values` (stock-major, S x D; not copied) as a grid; throws when the length is not S x D. */
export function gridOf(values: Float64Array, S: number, D: number): Grid {
  return new Grid(values, S, D);
}

/** A new grid of the panel's shape (its stocks x its dates) filled with `fill`. */
export function panelGrid(p: Panel, fill = NaN): Grid {
  return grid(p.stocks.length, p.calendar.length, fill);
}

/** A field that must exist, as a grid (the panel's array, not copied). */
export function fieldGrid(p: Panel, name: FieldName): Grid {
  return new Grid(field(p, name), p.stocks.length, p.calendar.length);
}

/** Cells where a flag is set. */
export function countFlag(f: Uint8Array | undefined): number {
  let n = 0;
  if (f) for (let k = 0; k < f.length; k++) n += f[k];
  return n;
}

/** Industry index per stock; stocks without an industry share an "unknown" one. */
export function industryIndex(p: Panel): { index: Int32Array; names: string[] } {
  const names = [...new Set(p.industry.map((i) => i ?? "unknown"))].sort();
  return { index: Int32Array.from(p.industry, (i) => names.indexOf(i ?? "unknown")), names };
}

/** Board of an A-share code (SH600000, 600000.SH, sh.600000): its daily price-limit regime. */
export type Board = "main" | "chinext" | "star" | "bse" | "unknown";
export function boardOf(code: string): Board {
  const digits = code.replace(/\D/g, "");
  if (digits.length !== 6) return "unknown";
  if (digits.startsWith("688") || digits.startsWith("689")) return "star";
  if (digits.startsWith("300") || digits.startsWith("301")) return "chinext";
  if (/^(8|4)/.test(digits)) return "bse";
  if (/^(60|00)/.test(digits)) return "main";
  return "unknown";
}

/**
 * The daily price limit of an A-share board on a date, as a fraction: main board 10%, ST 5%, ChiNext 20%
 * from its reform on 2020-08-24 (10% before), STAR 20%, Beijing 30%.
 */
export function priceLimit(b: Board, date: string, isSt: boolean): number {
  if (b === "star") return 0.2;
  if (b === "bse") return 0.3;
  if (b === "chinext") return date >= "2020-08-24" ? 0.2 : isSt ? 0.05 : 0.1;
  return isSt ? 0.05 : 0.1;
}
