/**
 * The IC test (the paper's chapter 5; DESIGN.md section 8), with Qlib's and alphalens' definitions:
 * on rebalance dates every N trading days, the cross-sectional Pearson correlation (IC) and the
 * Spearman rank correlation (rank IC, alphalens' factor_information_coefficient) between the
 * factor at t and the forward return over the label horizon (vwap t + 1 to t + 1 + h).
 * IR = mean / std of the per-date ICs (Qlib's ICIR; not annualised); t = mean / std x sqrt(n).
 */
import { type Grid, grid, pearson, rankdata } from "../data/index.js";

export { pearson };

export interface IcSummary {
  mean: number;
  std: number;
  ir: number;
  t: number;
  positive: number;
  n: number;
}

export interface IcTest {
  dates: string[];
  ic: number[];
  rankIc: number[];
  summary: { ic: IcSummary; rankIc: IcSummary };
  byYear: { year: string; ic: number; rankIc: number; n: number }[];
}

export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return pearson(rankdata(a), rankdata(b));
}

export function summarize(xs: number[]): IcSummary {
  const v = xs.filter(Number.isFinite);
  const n = v.length;
  const mean = n ? v.reduce((a, b) => a + b, 0) / n : NaN;
  const std = n > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : NaN;
  return { mean, std, ir: std > 0 ? mean / std : NaN, t: std > 0 ? (mean / std) * Math.sqrt(n) : NaN,
    positive: n ? v.filter((x) => x > 0).length / n : NaN, n };
}

/** The positions of `dates` (YYYY-MM-DD) in each calendar year, years in order of appearance. */
export function indicesByYear(dates: string[]): [string, number[]][] {
  const years = new Map<string, number[]>();
  dates.forEach((d, i) => {
    const y = d.slice(0, 4);
    (years.get(y) ?? years.set(y, []).get(y)!).push(i);
  });
  return [...years];
}

/** The cross-section of date d where both the factor and the return are finite. */
function pairs(factor: Grid, ret: Grid, d: number): [number[], number[]] {
  const a: number[] = [], b: number[] = [];
  for (let s = 0; s < factor.stocks; s++) {
    const x = factor.at(s, d), y = ret.at(s, d);
    if (Number.isFinite(x) && Number.isFinite(y)) { a.push(x); b.push(y); }
  }
  return [a, b];
}

/** Dates where the factor has values, every `every` trading days from the first. */
export function rebalanceDates(factor: Grid, every: number): number[] {
  const { stocks: S, dates: D } = factor;
  let first = -1;
  for (let d = 0; d < D && first < 0; d++) for (let s = 0; s < S; s++) if (Number.isFinite(factor.at(s, d))) { first = d; break; }
  const out: number[] = [];
  if (first < 0) return out;
  for (let d = first; d < D; d += every) {
    let any = false;
    for (let s = 0; s < S && !any; s++) any = Number.isFinite(factor.at(s, d));
    if (any) out.push(d);
  }
  return out;
}

export function icTest(factor: Grid, forward: Grid, calendar: string[], every = 10): IcTest {
  const dates: string[] = [], ic: number[] = [], rankIc: number[] = [];
  for (const d of rebalanceDates(factor, every)) {
    const [a, b] = pairs(factor, forward, d);
    if (a.length < 10) continue;
    dates.push(calendar[d]);
    ic.push(pearson(a, b));
    rankIc.push(spearman(a, b));
  }
  const byYear = indicesByYear(dates).map(([year, idx]) =>
    ({ year, ic: summarize(idx.map((i) => ic[i])).mean, rankIc: summarize(idx.map((i) => rankIc[i])).mean, n: idx.length }));
  return { dates, ic, rankIc, summary: { ic: summarize(ic), rankIc: summarize(rankIc) }, byYear };
}

/** IC decay: the mean rank IC of the factor against forward returns of each horizon. */
export function icDecay(factor: Grid, vwap: Grid, horizons: number[], every = 10):
  { horizon: number; rankIc: number; ic: number }[] {
  const { stocks: S, dates: D } = factor;
  return horizons.map((h) => {
    const fwd = grid(S, D);
    for (let s = 0; s < S; s++) for (let d = 0; d + 1 + h < D; d++) fwd.set(s, d, vwap.at(s, d + 1 + h) / vwap.at(s, d + 1) - 1);
    const ics: number[] = [], rics: number[] = [];
    for (const d of rebalanceDates(factor, every)) {
      const [a, b] = pairs(factor, fwd, d);
      if (a.length < 10) continue;
      ics.push(pearson(a, b));
      rics.push(spearman(a, b));
    }
    return { horizon: h, ic: summarize(ics).mean, rankIc: summarize(rics).mean };
  });
}
