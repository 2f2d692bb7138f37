/** What a panel derives where the source lacks it (caps, turnover, vwap, is_st, limit flags, adjusted prices), and moves no limit allows. */
import type { Pivot } from "./clean.js";
import type { Instruments } from "./instruments.js";
import { type FieldName, type Market, boardOf, countFlag, emptyField, priceLimit } from "./panel.js";
import { count, example } from "./quality.js";

/** Caps, turnover and vwap where the source lacks them and an honest derivation exists; is_st when absent. */
export function deriveFields(pv: Pivot, inst: Instruments | undefined): void {
  const { S, D, out, flags } = pv;
  const derived = pv.quality.derived;
  // From share counts (a column, or one static count per stock from the instruments file), on raw
  // prices (before any adjustment).
  const sharesOf = (col: Float64Array | undefined, m: Map<string, number> | undefined): Float64Array | Map<string, number> | undefined =>
    col ?? (m?.size ? m : undefined);
  const fromShares = (f: FieldName, shares: ReturnType<typeof sharesOf>, base: Float64Array, divide: boolean, how: string): void => {
    if (out[f] || !shares) return;
    const x = (out[f] = emptyField(S, D));
    for (let s = 0; s < S; s++) {
      const perStock = shares instanceof Map ? shares.get(pv.stocks[s]) ?? NaN : NaN;
      for (let k = s * D; k < (s + 1) * D; k++) {
        const n = shares instanceof Map ? perStock : shares[k];
        x[k] = divide ? base[k] / n : base[k] * n;
      }
    }
    derived.push({ field: f, how });
  };
  const total = sharesOf(pv.totalShares, inst?.totalShares);
  const float = sharesOf(pv.floatShares, inst?.floatShares);
  fromShares("market_cap", total, out.close!, false,
    `close x total shares${pv.totalShares ? "" : " (one static share count per stock from the instruments file)"}`);
  fromShares("float_cap", float, out.close!, false, "close x float shares");
  fromShares("turnover", total, out.volume!, true, "volume / total shares");
  fromShares("free_turnover", float, out.volume!, true, "volume / float shares");
  if (!out.vwap) {
    const vwap = (out.vwap = emptyField(S, D));
    const high = out.high!, low = out.low!, close = out.close!, volume = out.volume!, amount = out.amount;
    if (amount) {
      let typical = 0;
      for (let k = 0; k < S * D; k++) {
        const v = amount[k] / volume[k];
        const ok = Number.isFinite(v) && v >= low[k] * 0.999 && v <= high[k] * 1.001;
        vwap[k] = ok ? v : (high[k] + low[k] + close[k]) / 3;
        if (!ok && Number.isFinite(close[k])) typical++;
      }
      derived.push({ field: "vwap", how: `amount / volume (typical price (h + l + c) / 3 on ${typical} bars where that fell outside [low, high] or volume was 0)` });
    } else {
      for (let k = 0; k < S * D; k++) vwap[k] = (high[k] + low[k] + close[k]) / 3;
      derived.push({ field: "vwap", how: "typical price (high + low + close) / 3: the source has no amount" });
    }
  }
  // No amount is made up from vwap x volume: with vwap a typical price it would not be the traded
  // value, and the one stage that wants traded value (the size proxy) says what it uses instead.
  if (!flags.is_st) {
    flags.is_st = new Uint8Array(S * D);
    derived.push({ field: "is_st", how: "not in the source: no stock is treated as ST" });
  }
}

/** Limit-up/down flags inferred from the board's rules (A-shares), and moves no limit allows, on raw prices. */
export function markPriceLimits(pv: Pivot, market: Market, first: Int32Array): void {
  const { S, D, out, flags, quality, preClose } = pv;
  const lim = market === "cn";
  const inferLimits = lim && !flags.limit_up;
  if (inferLimits) {
    flags.limit_up = new Uint8Array(S * D);
    flags.limit_down = new Uint8Array(S * D);
    quality.derived.push({ field: "limit_up, limit_down", how: "inferred: close at the board's limit price from the previous close (main 10%, ST 5%, ChiNext and STAR 20% after their reforms)" });
  }
  const close = out.close!, isSt = flags.is_st!, up = flags.limit_up, down = flags.limit_down;
  const adjusted = out.adj_factor !== undefined;
  for (let s = 0; s < S; s++) {
    const board = boardOf(pv.stocks[s]);
    let prev = NaN;
    for (let d = 0; d < D; d++) {
      const k = s * D + d;
      const cl = close[k];
      if (!Number.isFinite(cl)) continue;
      const pc = preClose && Number.isFinite(preClose[k]) ? preClose[k] : prev;
      prev = cl;
      if (!Number.isFinite(pc) || d === first[s]) continue;
      const r = cl / pc - 1;
      if (lim) {
        const L = priceLimit(board, pv.calendar[d], isSt[k] === 1);
        if (inferLimits) {
          if (cl >= Math.round(pc * (1 + L) * 100) / 100 - 0.005) up![k] = 1;
          if (cl <= Math.round(pc * (1 - L) * 100) / 100 + 0.005) down![k] = 1;
        }
        if (!adjusted && Math.abs(r) > L + 0.011) {
          count(quality.rowsFlagged, "move_beyond_price_limit");
          example(quality, "move_beyond_price_limit", `${pv.stocks[s]} ${pv.calendar[d]} (${(r * 100).toFixed(1)}%)`);
        }
      } else if (!adjusted && Math.abs(r) > 0.4) {
        count(quality.rowsFlagged, "extreme_move");
        example(quality, "extreme_move", `${pv.stocks[s]} ${pv.calendar[d]} (${(r * 100).toFixed(1)}%)`);
      }
    }
  }
  if (up && down) {
    quality.cells.limit_up = countFlag(up);
    quality.cells.limit_down = countFlag(down);
  }
}

/** x *= f (or x /= f) where f is finite. */
export function multiplyWhereFinite(x: Float64Array, f: Float64Array, divide: boolean): void {
  for (let k = 0; k < x.length; k++) if (Number.isFinite(f[k])) x[k] = divide ? x[k] / f[k] : x[k] * f[k];
}
