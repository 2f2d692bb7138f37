/**
 * The 13 daily inputs of the paper's table 3-1 (DESIGN.md section 5), from a cleaned Panel.
 * Where a field is missing, a documented stand-in is used and reported; nothing is filled silently.
 * An input is NaN on dates a stock did not trade (suspended, not listed): the operators mask those
 * windows instead of reading a flat bar or a zero volume as information.
 */
import { type Panel, field } from "../data/index.js";

export const INPUT_NAMES = [
  "div_open_close", "div_high_close", "div_low_close", "close", "div_vwap_close", "volume_sqrt", "return", "turnover",
  "div_close_freeturn", "div_price_turnover", "div_volume_low", "div_low_high", "div_vwap_close_2",
] as const;
export type InputName = (typeof INPUT_NAMES)[number];
export const N_INPUTS = INPUT_NAMES.length;

export interface Inputs {
  /** One [stocks x dates] array per input, in INPUT_NAMES order. */
  values: Float64Array[];
  /** What stood in for a missing field, for the report. */
  standIns: { input: string; how: string }[];
  S: number;
  D: number;
}

/** Trailing mean of volume over up to `n` traded days including t: no look-ahead. */
function trailingMeanVolume(vol: Float64Array, traded: (k: number) => boolean, S: number, D: number, n: number): Float64Array {
  const out = new Float64Array(S * D).fill(NaN);
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

export function computeInputs(p: Panel): Inputs {
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
    standIns.push({ input: "turnover", how: "no turnover or share count: volume / its trailing 250-day mean x 1% (relative volume)" });
  }
  let free = p.fields.free_turnover;
  if (!free) {
    free = turnover;
    standIns.push({ input: "free_turnover (in div_close_freeturn, div_price_turnover)", how: "no free-float turnover: turnover used instead (div_price_turnover becomes open / close)" });
  }
  const values = INPUT_NAMES.map(() => new Float64Array(S * D).fill(NaN));
  for (let s = 0; s < S; s++) {
    for (let d = 0; d < D; d++) {
      const k = s * D + d;
      if (!traded(k)) continue;
      const c = close[k];
      const prev = d > 0 && traded(k - 1) ? close[k - 1] : NaN;
      const row = [
        (open[k] - c) / c, (high[k] - c) / c, (low[k] - c) / c, c, (vwap[k] - c) / c, Math.pow(volume[k], 1 / 8),
        c / prev - 1, turnover[k], c / free[k], (open[k] * free[k]) / (turnover[k] * c), volume[k] / low[k], low[k] / high[k],
        vwap[k] / c,
      ];
      for (let i = 0; i < N_INPUTS; i++) values[i][k] = Number.isFinite(row[i]) ? row[i] : NaN;
    }
  }
  return { values, standIns, S, D };
}
