/**
 * Classic one-line factors, the rows a quant reads a deep model's row against first (table 1-1's
 * reference rows). Each uses only data up to its date and is signed the way the literature holds
 * it to earn: short-term reversal, low volatility, low relative volume.
 */
import { type Grid, type Panel, field, panelGrid } from "../data/index.js";

export interface ClassicFactor {
  name: string;
  formula: string;
  /** [stocks x dates], NaN where undefined. */
  values: Grid;
}

/** The three reference factors of a panel (adjusted prices where the panel is adjusted). */
export function classicFactors(p: Panel): ClassicFactor[] {
  const S = p.stocks.length, D = p.calendar.length;
  const close = field(p, "close"), volume = field(p, "volume");
  const [reversalG, lowVolG, lowRelVolumeG] = [panelGrid(p), panelGrid(p), panelGrid(p)];
  const reversal = reversalG.values, lowVol = lowVolG.values, lowRelVolume = lowRelVolumeG.values;
  const ret = new Float64Array(D);
  for (let s = 0; s < S; s++) {
    const o = s * D;
    for (let d = 0; d < D; d++) ret[d] = d > 0 ? close[o + d] / close[o + d - 1] - 1 : NaN;
    for (let d = 0; d < D; d++) {
      const k = o + d;
      if (!Number.isFinite(close[k])) continue;
      if (d >= 20) reversal[k] = -(close[k] / close[k - 20] - 1);
      if (d >= 20) lowVol[k] = -sampleSd(ret, d - 19, d + 1);
      if (d >= 249) {
        const short = mean(volume, k - 19, k + 1), long = mean(volume, k - 249, k + 1);
        if (long > 0) lowRelVolume[k] = -(short / long);
      }
    }
  }
  return [
    { name: "reversal_20d", formula: "-(close_t / close_{t-20} - 1)", values: reversalG },
    { name: "low_vol_20d", formula: "-std(daily return, t-19..t)", values: lowVolG },
    { name: "low_rel_volume", formula: "-(mean volume t-19..t / mean volume t-249..t)", values: lowRelVolumeG },
  ];
}

/** Mean of x[a..b); NaN if any value is missing (a window with a gap is not a full window). */
function mean(x: Float64Array, a: number, b: number): number {
  let s = 0;
  for (let i = a; i < b; i++) s += x[i];
  return s / (b - a);
}

function sampleSd(x: Float64Array, a: number, b: number): number {
  const m = mean(x, a, b);
  let ss = 0;
  for (let i = a; i < b; i++) ss += (x[i] - m) ** 2;
  return Math.sqrt(ss / (b - a - 1));
}
