/**
 * Quintile stratification (the paper's section 5; alphalens' quantile returns with real trading):
 * on rebalance dates every N trading days the stocks with a factor value are sorted from high to
 * low and cut into G groups of equal size (group 1 = highest factor; tied values share a group, and a
 * date whose values cannot fill G groups gets none: see groupWeights), each held equally weighted,
 * traded at the next day's vwap with costs (see backtest.ts). The benchmark is the equal-weighted
 * universe of the same stocks, rebalanced the same way. Excess return is annualised from the
 * ratio of the group's NAV to the universe's: (NAV_g / NAV_u)^(252 / n) - 1.
 */
import type { Grid, Panel } from "../data/index.js";
import { type Costs, annualize, annualVol, maxDrawdown, simulate } from "./backtest.js";
import { rebalanceDates } from "./ic.js";

export interface GroupResult {
  groups: number;
  dates: string[];
  /** NAV per group (group 1 first), starting at 1. */
  nav: number[][];
  universe: number[];
  /** Annualised excess return of each group over the universe. */
  annualExcess: number[];
  annualReturn: number[];
  /** Long group 1, short group G: annualised, from the ratio of their NAVs. */
  longShortAnnual: number;
  turnover: number[];
  maxDrawdown: number[];
  volatility: number[];
  /** Rebalance dates on which the factor's values could not fill the G groups (see groupWeights): no groups, no trades. */
  ungrouped: string[];
}

/**
 * The groups of one date, group 1 = highest factor, each equally weighted; null when the date's
 * values cannot fill all G groups.
 *
 * Ties: stocks with equal values are one block and go together to the group of the block's middle
 * rank, floor(mid * G / n); without ties this is floor(rank * G / n), groups of equal size. Cutting a
 * tie by any order of the stocks (their codes, say) would make groups the factor does not make: a
 * constant factor was split by code and showed a long-short return it cannot have. A date whose
 * values leave a group empty (all equal, fewer distinct values than groups, or one value held by so
 * many stocks that a group gets none) gets no groups: the factor does not sort the stocks into G
 * groups that day, and the portfolios keep what they hold until a date that does.
 */
export function groupWeights(factor: Grid, t: number, groups: number): Map<number, number>[] | null {
  const idx: number[] = [];
  for (let s = 0; s < factor.stocks; s++) if (Number.isFinite(factor.at(s, t))) idx.push(s);
  idx.sort((a, b) => factor.at(b, t) - factor.at(a, t) || a - b);
  const out = Array.from({ length: groups }, () => new Map<number, number>());
  const n = idx.length;
  for (let i = 0; i < n;) {
    let j = i + 1;
    while (j < n && factor.at(idx[j], t) === factor.at(idx[i], t)) j++;
    const g = Math.min(groups - 1, Math.floor((((i + j - 1) / 2) * groups) / n));
    for (let r = i; r < j; r++) out[g].set(idx[r], 1);
    i = j;
  }
  if (out.some((m) => m.size === 0)) return null;
  for (const m of out) for (const [s] of m) m.set(s, 1 / m.size);
  return out;
}

export function stratify(p: Panel, factor: Grid, o: { groups?: number; every?: number; costs: Costs }): GroupResult {
  const { stocks: S, dates: D } = factor;
  const G = o.groups ?? 5;
  const dates = rebalanceDates(factor, o.every ?? 10);
  // The last factor date plus the holding period bounds the simulation.
  let last = 0;
  for (let d = D - 1; d >= 0 && !last; d--) for (let s = 0; s < S; s++) if (Number.isFinite(factor.at(s, d))) { last = d; break; }
  const end = Math.min(D - 1, last + 1 + (o.every ?? 10));
  const perGroup = Array.from({ length: G }, () => new Map<number, Map<number, number>>());
  const universe = new Map<number, Map<number, number>>();
  const ungrouped: string[] = [];
  for (const t of dates) {
    const w = groupWeights(factor, t, G);
    if (!w) {
      ungrouped.push(p.calendar[t]);
      continue;
    }
    w.forEach((m, g) => perGroup[g].set(t, m));
    const all = new Map<number, number>();
    for (const m of w) for (const [s] of m) all.set(s, 1);
    for (const [s] of all) all.set(s, 1 / all.size);
    universe.set(t, all);
  }
  if (universe.size === 0) {
    // No date sorts the stocks into G groups (a constant factor): nothing is held, so there is no
    // return to report: NaN (null in JSON), not 0, which would read as a measured result.
    return { groups: G, dates: [], nav: perGroup.map(() => []), universe: [], annualExcess: perGroup.map(() => NaN),
      annualReturn: perGroup.map(() => NaN), longShortAnnual: NaN, turnover: perGroup.map(() => NaN), maxDrawdown: perGroup.map(() => NaN),
      volatility: perGroup.map(() => NaN), ungrouped };
  }
  const sims = perGroup.map((targets) => simulate(p, targets, o.costs, 1, end));
  const uni = simulate(p, universe, { commission: 0, stampDuty: 0 }, 1, end);
  const nav = sims.map((s) => s.nav);
  const ratio = (a: number[], b: number[]): number[] => a.map((v, i) => v / b[i]);
  return {
    groups: G,
    dates: uni.dates,
    nav,
    universe: uni.nav,
    annualExcess: nav.map((n) => annualize([1, ...ratio(n, uni.nav)])),
    annualReturn: nav.map((n) => annualize([1, ...n])),
    longShortAnnual: annualize([1, ...ratio(nav[0], nav[G - 1])]),
    turnover: sims.map((s) => s.turnover.reduce((a, b) => a + b.value, 0) / Math.max(1, s.turnover.length)),
    maxDrawdown: nav.map(maxDrawdown),
    volatility: nav.map(annualVol),
    ungrouped,
  };
}
