/**
 * Portfolio simulation, exact about timing and costs.
 *
 * Conventions (compare alphalens, which ignores costs and trades at the factor date's price, and
 * Qlib's default exchange, which trades at the next day's close or open with open/close costs):
 * - a signal at the close of t is traded at the vwap of t + 1;
 * - buys pay `commission` on the traded value; sells pay `commission` + `stampDuty`;
 * - a stock suspended on the trading day, or at its limit-up, cannot be bought; one suspended or
 *   at its limit-down cannot be sold: the order is skipped and the holding carried;
 * - shares are fractional (no lots), so that results depend on the factor, not on rounding;
 * - buys are scaled down when sales do not bring enough cash; cash earns nothing;
 * - the portfolio is marked at each day's close (the last close for a suspended stock);
 * - returns are annualised geometrically over 252 trading days: (NAV_end / NAV_start)^(252 / n) - 1.
 */
import { type Panel, fieldGrid } from "../data/index.js";

export interface Costs {
  commission: number;
  stampDuty: number;
}
/** The paper's costs: commission 0.002%, stamp duty 0.015%. */
export const PAPER_COSTS: Costs = { commission: 0.00002, stampDuty: 0.00015 };
/** A realistic A-share retail schedule: commission 0.025% each way, stamp duty 0.05% on sales (since 2023-08-28; 0.1% before). */
export const REALISTIC_COSTS: Costs = { commission: 0.00025, stampDuty: 0.0005 };

export interface Fill {
  date: string;
  stock: string;
  side: "buy" | "sell";
  shares: number;
  price: number;
  value: number;
  cost: number;
}

export interface Simulation {
  /** Daily net asset value at the close, from the first trading day on. */
  dates: string[];
  nav: number[];
  fills: Fill[];
  /** Per rebalance: one-sided turnover (traded value / 2 / portfolio value). */
  turnover: { date: string; value: number }[];
  /** Orders that could not be executed, by reason. */
  blocked: Record<string, number>;
  holdings: number[];
  costsPaid: number;
}

/**
 * Runs target weights: `targets` maps a signal date index t to weights per stock index (summing to
 * at most 1); they are traded at t + 1. The simulation runs from the first trade day to `end`.
 */
export function simulate(p: Panel, targets: Map<number, Map<number, number>>, costs: Costs, capital = 1_000_000,
  end = p.calendar.length - 1): Simulation {
  const D = p.calendar.length;
  const vwap = fieldGrid(p, "vwap"), close = fieldGrid(p, "close");
  const { is_suspended: susp, limit_up: up, limit_down: down } = p.flags;
  const signalDates = [...targets.keys()].sort((a, b) => a - b);
  const sim: Simulation = { dates: [], nav: [], fills: [], turnover: [], blocked: { suspended: 0, limit_up: 0, limit_down: 0 }, holdings: [], costsPaid: 0 };
  if (!signalDates.length) return sim;
  let cash = capital;
  const shares = new Map<number, number>();
  const lastClose = new Map<number, number>();
  const start = signalDates[0] + 1;
  const price = (s: number, d: number): number => {
    const c = close.at(s, d);
    if (Number.isFinite(c)) lastClose.set(s, c);
    return lastClose.get(s) ?? 0;
  };
  for (let d = start; d <= end && d < D; d++) {
    const target = targets.get(d - 1);
    if (target) {
      // Value the book at today's execution prices.
      let value = cash;
      for (const [s, q] of shares) value += q * (Number.isFinite(vwap.at(s, d)) ? vwap.at(s, d) : price(s, d - 1));
      let traded = 0;
      const want = new Map<number, number>();
      for (const s of new Set([...shares.keys(), ...target.keys()])) {
        const px = vwap.at(s, d);
        const w = target.get(s) ?? 0;
        const have = shares.get(s) ?? 0;
        if (Number.isFinite(px) && px > 0) want.set(s, (w * value) / px);
        else if (w === 0 && have > 0) want.set(s, 0); // a sale the suspension will block (and count)
        else {
          if (w > 0) sim.blocked.suspended++;
          want.set(s, have);
        }
      }
      const cannot = (s: number, side: "buy" | "sell"): string | null => {
        const k = vwap.index(s, d);
        if (!Number.isFinite(vwap.values[k]) || (susp && susp[k] === 1)) return "suspended";
        if (side === "buy" && up && up[k] === 1) return "limit_up";
        if (side === "sell" && down && down[k] === 1) return "limit_down";
        return null;
      };
      // Sells first, then buys with what cash there is.
      for (const [s, q] of want) {
        const have = shares.get(s) ?? 0;
        if (q >= have - 1e-12) continue;
        const why = cannot(s, "sell");
        if (why) { sim.blocked[why]++; continue; }
        const px = vwap.at(s, d);
        const qty = have - q;
        const gross = qty * px;
        const cost = gross * (costs.commission + costs.stampDuty);
        cash += gross - cost;
        sim.costsPaid += cost;
        traded += gross;
        shares.set(s, q);
        sim.fills.push({ date: p.calendar[d], stock: p.stocks[s], side: "sell", shares: qty, price: px, value: gross, cost });
      }
      const buys: [number, number][] = [];
      let need = 0;
      for (const [s, q] of want) {
        const have = shares.get(s) ?? 0;
        if (q <= have + 1e-12) continue;
        const why = cannot(s, "buy");
        if (why) { sim.blocked[why]++; continue; }
        const gross = (q - have) * vwap.at(s, d);
        buys.push([s, q - have]);
        need += gross * (1 + costs.commission);
      }
      const scale = need > cash ? cash / need : 1;
      for (const [s, dq] of buys) {
        const px = vwap.at(s, d);
        const qty = dq * scale;
        const gross = qty * px;
        const cost = gross * costs.commission;
        cash -= gross + cost;
        sim.costsPaid += cost;
        traded += gross;
        shares.set(s, (shares.get(s) ?? 0) + qty);
        sim.fills.push({ date: p.calendar[d], stock: p.stocks[s], side: "buy", shares: qty, price: px, value: gross, cost });
      }
      for (const [s, q] of shares) if (q <= 1e-12) shares.delete(s);
      sim.turnover.push({ date: p.calendar[d - 1], value: value > 0 ? traded / 2 / value : 0 });
    }
    let nav = cash;
    for (const [s, q] of shares) nav += q * price(s, d);
    sim.dates.push(p.calendar[d]);
    sim.nav.push(nav);
    sim.holdings.push(shares.size);
  }
  return sim;
}

/** (NAV_end / NAV_start)^(252 / n) - 1 over n daily steps. */
export function annualize(nav: number[]): number {
  if (nav.length < 2) return NaN;
  return Math.pow(nav[nav.length - 1] / nav[0], 252 / (nav.length - 1)) - 1;
}

/** Each date's NAV over its running peak, minus 1: 0 at a new high, -0.1 ten per cent below it. */
export function drawdownSeries(nav: number[]): number[] {
  let peak = -Infinity;
  return nav.map((v) => { peak = Math.max(peak, v); return v / peak - 1; });
}

/** The largest drawdown, as a positive fraction (0 for a NAV that never falls). */
export function maxDrawdown(nav: number[]): number {
  return drawdownSeries(nav).reduce((mdd, dd) => Math.max(mdd, -dd), 0);
}

export function dailyReturnsOf(nav: number[]): number[] {
  return nav.slice(1).map((v, i) => v / nav[i] - 1);
}

export function annualVol(nav: number[]): number {
  const r = dailyReturnsOf(nav);
  if (r.length < 2) return NaN;
  const m = r.reduce((a, b) => a + b, 0) / r.length;
  return Math.sqrt((r.reduce((a, b) => a + (b - m) ** 2, 0) / (r.length - 1)) * 252);
}
