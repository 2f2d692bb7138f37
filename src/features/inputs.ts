/**
 * The daily inputs, from a cleaned Panel: V4's 13 of the paper's table 3-1 (DESIGN.md section 5),
 * and the earlier AlphaNets' own (Huatai's reports; the paper's section 4): V1's 9 raw bars and
 * V2's 15 (V1's and 6 ratios; V3 reads V2's). Where a field is missing, a documented stand-in is
 * used and reported; nothing is filled silently.
 * An input is NaN on dates a stock did not trade (suspended, not listed): the operators mask those
 * windows instead of reading a flat bar or a zero volume as information.
 */
import { type Grid, type Panel, emptyField, field, panelGrid } from "../data/index.js";

export const INPUT_NAMES = [
  "div_open_close", "div_high_close", "div_low_close", "close", "div_vwap_close", "volume_sqrt", "return", "turnover",
  "div_close_freeturn", "div_price_turnover", "div_volume_low", "div_low_high", "div_vwap_close_2",
] as const;
export type InputName = (typeof INPUT_NAMES)[number];
export const N_INPUTS = INPUT_NAMES.length;

/** AlphaNetV1's 9 inputs: the raw bar, the daily return, turnover and free-float turnover. */
export const V1_INPUT_NAMES = ["open", "high", "low", "close", "vwap", "volume", "return1", "turn", "free_turn"] as const;
/** AlphaNetV2's (and V3's) 15: V1's and the 6 ratios V2 added. */
export const V2_INPUT_NAMES = [
  ...V1_INPUT_NAMES, "div_close_free_turn", "div_open_turn", "div_volume_low", "div_vwap_high", "div_low_high", "div_vwap_close",
] as const;

/** The input sets by the model family that defined them. */
export const INPUT_SETS = { v4: INPUT_NAMES, v1: V1_INPUT_NAMES, v2: V2_INPUT_NAMES } as const;
export type InputSet = keyof typeof INPUT_SETS;
export const INPUT_SET_NAMES = Object.keys(INPUT_SETS) as InputSet[];

/** One traded day of one stock, as the inputs read it (prev: the previous day's close, NaN if not traded). */
interface Bar {
  open: number; high: number; low: number; close: number; vwap: number; volume: number; prev: number; turn: number; free: number;
}

const v1Row = (b: Bar): number[] => [b.open, b.high, b.low, b.close, b.vwap, b.volume, b.close / b.prev - 1, b.turn, b.free];

/** Each set's inputs of a bar, in its names' order. */
const ROWS: Record<InputSet, (b: Bar) => number[]> = {
  v4: ({ open, high, low, close: c, vwap, volume, prev, turn, free }) => [
    (open - c) / c, (high - c) / c, (low - c) / c, c, (vwap - c) / c, Math.pow(volume, 1 / 8),
    c / prev - 1, turn, c / free, (open * free) / (turn * c), volume / low, low / high, vwap / c,
  ],
  v1: v1Row,
  v2: (b) => [
    b.open, b.high, b.low, b.close, b.vwap, b.volume, b.close / b.prev - 1, b.turn, b.free,
    b.close / b.free, b.open / b.turn, b.volume / b.low, b.vwap / b.high, b.low / b.high, b.vwap / b.close,
  ],
};

/** How each set's stand-ins are labelled in the report: the inputs that read turnover and free-float turnover. */
const READS: Record<InputSet, { turnover: string; free: string; freeNote: string }> = {
  v4: { turnover: "turnover", free: "free_turnover (in div_close_freeturn, div_price_turnover)", freeNote: " (div_price_turnover becomes open / close)" },
  v1: { turnover: "turn", free: "free_turn", freeNote: " (free_turn equals turn)" },
  v2: { turnover: "turn (also in div_open_turn)", free: "free_turn (also in div_close_free_turn)", freeNote: " (free_turn equals turn)" },
};

export interface Inputs {
  /** One [stocks x dates] grid per input, in its set's order (INPUT_SETS). */
  values: Grid[];
  /** What stood in for a missing field, for the report. */
  standIns: { input: string; how: string }[];
}

/** Trailing mean of volume over up to `n` traded days including t: no look-ahead. */
function trailingMeanVolume(vol: Float64Array, traded: (k: number) => boolean, S: number, D: number, n: number): Float64Array {
  const out = emptyField(S, D);
  for (let s = 0; s < S; s++) {
    const win: number[] = [];
    let sum = 0;
    for (let d = 0; d < D; d++) {
      const k = s * D + d;
      if (traded(k)) {
        win.push(vol[k]);
        sum += vol[k];
        if (win.length > n) sum -= win.shift()!;
      }
      out[k] = win.length ? sum / win.length : NaN;
    }
  }
  return out;
}

/** A set's inputs (default V4's 13), NaN on untraded days; each day reads that day and the one before. */
export function computeInputs(p: Panel, set: InputSet = "v4"): Inputs {
  const S = p.stocks.length;
  const D = p.calendar.length;
  const open = field(p, "open"), high = field(p, "high"), low = field(p, "low"), close = field(p, "close");
  const vwap = field(p, "vwap"), volume = field(p, "volume");
  const susp = p.flags.is_suspended;
  const traded = (k: number): boolean => Number.isFinite(close[k]) && volume[k] > 0 && !(susp && susp[k] === 1);
  const standIns: Inputs["standIns"] = [];
  let turnover = p.fields.turnover;
  if (!turnover) {
    // Relative volume: volume over its trailing 250-day mean, scaled to a typical 1% daily turnover.
    const m = trailingMeanVolume(volume, traded, S, D, 250);
    turnover = Float64Array.from(volume, (v, k) => (0.01 * v) / m[k]);
    standIns.push({ input: READS[set].turnover, how: "no turnover or share count: volume / its trailing 250-day mean x 1% (relative volume)" });
  }
  let free = p.fields.free_turnover;
  if (!free) {
    free = turnover;
    standIns.push({ input: READS[set].free, how: `no free-float turnover: turnover used instead${READS[set].freeNote}` });
  }
  const rowOf = ROWS[set];
  const n = INPUT_SETS[set].length;
  const grids = Array.from({ length: n }, () => panelGrid(p));
  const values = grids.map((g) => g.values);
  // One bar, refilled cell by cell (the row functions read it and keep nothing).
  const bar: Bar = { open: NaN, high: NaN, low: NaN, close: NaN, vwap: NaN, volume: NaN, prev: NaN, turn: NaN, free: NaN };
  for (let s = 0; s < S; s++) {
    for (let d = 0; d < D; d++) {
      const k = s * D + d;
      if (!traded(k)) continue;
      bar.open = open[k]; bar.high = high[k]; bar.low = low[k]; bar.close = close[k]; bar.vwap = vwap[k]; bar.volume = volume[k];
      bar.prev = d > 0 && traded(k - 1) ? close[k - 1] : NaN;
      bar.turn = turnover[k]; bar.free = free[k];
      const row = rowOf(bar);
      for (let i = 0; i < n; i++) values[i][k] = Number.isFinite(row[i]) ? row[i] : NaN;
    }
  }
  return { values: grids, standIns };
}
