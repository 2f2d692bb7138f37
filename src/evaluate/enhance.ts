/**
 * Index enhancement (the paper's table 5-3): each rebalance picks long-only weights that maximise
 * the portfolio's factor exposure subject to
 *   sum w = 1;  0 <= w_i <= maxWeight;
 *   |industry weight - the benchmark's| <= industryTolerance, for every industry;
 *   |size exposure - the benchmark's| <= sizeTolerance (size: standardised log cap);
 *   one-sided turnover 1/2 sum |w - w_prev| <= maxTurnover (w_prev: the holdings drifted to today);
 * a linear programme solved with HiGHS (the `highs` package). When the turnover limit makes the
 * others infeasible, the smallest violation is found instead (a second LP with slacks) and reported.
 */
import * as highsModule from "highs";
import type { Highs, InitOptions } from "highs";

// `highs` is a CommonJS package whose types declare an ES default export: at run time, Node hands
// ES modules the function itself as the default.
type Loader = (options?: InitOptions) => Promise<Highs>;
const highsLoader: Loader = ((highsModule as unknown as { default: Loader | { default: Loader } }).default as { default?: Loader }).default
  ?? ((highsModule as unknown as { default: Loader }).default);
import { type Grid, type Panel, fieldGrid, gridOf, industryIndex } from "../data/index.js";
import { type Costs, annualVol, annualize, drawdownSeries, maxDrawdown, simulate } from "./backtest.js";
import { indicesByYear, rebalanceDates } from "./ic.js";

export interface EnhanceOptions {
  index: string;
  every: number;
  maxWeight: number;
  industryTolerance: number;
  sizeTolerance: number;
  maxTurnover: number;
  costs: Costs;
}

export const DEFAULT_ENHANCE: Omit<EnhanceOptions, "costs"> = {
  index: "csi500", every: 10, maxWeight: 0.02, industryTolerance: 0.01, sizeTolerance: 0.1, maxTurnover: 0.3,
};

export interface RebalanceProblem {
  /** Factor scores of the candidates (standardised). */
  score: number[];
  industry: number[];
  size: number[];
  /** Benchmark weights of the candidates (sum 1). */
  bench: number[];
  /** Current (drifted) weights of the candidates (sum <= 1). */
  prev: number[] | null;
  maxWeight: number;
  industryTolerance: number;
  sizeTolerance: number;
  maxTurnover: number;
}

export interface RebalanceSolution {
  weights: number[];
  status: string;
  /** The largest violation of any constraint (0 when feasible). */
  violation: number;
}

type Solver = Highs;
let solver: Solver | undefined;
async function getSolver(): Promise<Solver> {
  solver ??= await highsLoader();
  return solver;
}

const num = (x: number): string => (x >= 0 ? `+ ${x.toPrecision(12)}` : `- ${(-x).toPrecision(12)}`);

function lpText(p: RebalanceProblem, slack: boolean): string {
  const n = p.score.length;
  const inds = [...new Set(p.industry)];
  const lines: string[] = ["Maximize", ` obj: ${p.score.map((s, i) => `${num(s)} w${i}`).join(" ")}${slack ? " - 1000 sv" : ""}`, "Subject To"];
  lines.push(` full: ${p.score.map((_, i) => `+ w${i}`).join(" ")} = 1`);
  const sv = slack ? " - sv" : "";
  const svp = slack ? " + sv" : "";
  for (const j of inds) {
    const members = p.industry.map((x, i) => (x === j ? i : -1)).filter((i) => i >= 0);
    const b = members.reduce((a, i) => a + p.bench[i], 0);
    const terms = members.map((i) => `+ w${i}`).join(" ");
    lines.push(` iu${j}: ${terms}${sv} <= ${(b + p.industryTolerance).toPrecision(12)}`);
    lines.push(` il${j}: ${terms}${svp} >= ${(b - p.industryTolerance).toPrecision(12)}`);
  }
  const bSize = p.bench.reduce((a, b, i) => a + b * p.size[i], 0);
  const sizeTerms = p.size.map((x, i) => `${num(x)} w${i}`).join(" ");
  lines.push(` su: ${sizeTerms}${sv} <= ${(bSize + p.sizeTolerance).toPrecision(12)}`);
  lines.push(` sl: ${sizeTerms}${svp} >= ${(bSize - p.sizeTolerance).toPrecision(12)}`);
  if (p.prev) {
    for (let i = 0; i < n; i++) {
      lines.push(` tp${i}: u${i} - w${i} >= ${(-p.prev[i]).toPrecision(12)}`);
      lines.push(` tm${i}: u${i} + w${i} >= ${p.prev[i].toPrecision(12)}`);
    }
    // The cash left by holdings that are no longer candidates counts as traded too.
    lines.push(` turn: ${p.score.map((_, i) => `+ u${i}`).join(" ")}${sv} <= ${(2 * p.maxTurnover).toPrecision(12)}`);
  }
  lines.push("Bounds");
  for (let i = 0; i < n; i++) lines.push(` 0 <= w${i} <= ${p.maxWeight}`);
  if (p.prev) for (let i = 0; i < n; i++) lines.push(` u${i} >= 0`);
  if (slack) lines.push(" sv >= 0");
  lines.push("End");
  return lines.join("\n");
}

/** The largest violation of the problem's constraints by `w`. */
export function constraintViolation(p: RebalanceProblem, w: number[]): number {
  let v = Math.abs(w.reduce((a, b) => a + b, 0) - 1);
  for (const x of w) v = Math.max(v, -x, x - p.maxWeight);
  for (const j of new Set(p.industry)) {
    let pw = 0, bw = 0;
    p.industry.forEach((x, i) => { if (x === j) { pw += w[i]; bw += p.bench[i]; } });
    v = Math.max(v, Math.abs(pw - bw) - p.industryTolerance);
  }
  const ps = w.reduce((a, x, i) => a + x * p.size[i], 0);
  const bs = p.bench.reduce((a, x, i) => a + x * p.size[i], 0);
  v = Math.max(v, Math.abs(ps - bs) - p.sizeTolerance);
  if (p.prev) {
    const turn = w.reduce((a, x, i) => a + Math.abs(x - p.prev![i]), 0) / 2;
    v = Math.max(v, turn - p.maxTurnover);
  }
  return Math.max(0, v);
}

export async function solveRebalance(p: RebalanceProblem): Promise<RebalanceSolution> {
  const highs = await getSolver();
  const read = (r: ReturnType<Solver["solve"]>): number[] =>
    p.score.map((_, i) => Math.max(0, (r.Columns as Record<string, { Primal: number }>)[`w${i}`]?.Primal ?? 0));
  let r = highs.solve(lpText(p, false));
  if (r.Status === "Optimal") {
    const w = read(r);
    return { weights: w, status: "optimal", violation: constraintViolation(p, w) };
  }
  r = highs.solve(lpText(p, true));
  const w = r.Status === "Optimal" ? read(r) : p.bench.slice();
  return { weights: w, status: r.Status === "Optimal" ? "relaxed" : `failed: ${r.Status}`, violation: constraintViolation(p, w) };
}

export interface EnhancementResult {
  dates: string[];
  nav: number[];
  benchmark: number[];
  /** NAV / benchmark over its running peak, minus 1 (0 at a new high), per date of `dates`. */
  excessDrawdown: number[];
  byYear: { year: string; excess_return: number; holdings: number; volatility: number; sharpe: number; max_drawdown: number; turnover: number }[];
  maxConstraintViolation: number;
  relaxed: number;
  rebalances: number;
}

/** Benchmark NAV: the index's close-to-close return with yesterday's weights. */
function benchmarkNav(p: Panel, w: Grid, from: number, to: number): number[] {
  const close = fieldGrid(p, "close");
  const nav = [1];
  for (let d = from + 1; d <= to; d++) {
    let r = 0, tot = 0;
    for (let s = 0; s < w.stocks; s++) {
      const b = w.at(s, d - 1);
      if (b <= 0) continue;
      const x = close.at(s, d) / close.at(s, d - 1) - 1;
      if (Number.isFinite(x)) { r += b * x; tot += b; }
    }
    nav.push(nav[nav.length - 1] * (1 + (tot > 0 ? r / tot : 0)));
  }
  return nav;
}

export async function enhanceIndex(p: Panel, factor: Grid, size: Grid, o: EnhanceOptions): Promise<EnhancementResult> {
  const { stocks: S, dates: D } = factor;
  const weights = p.indexWeights[o.index];
  if (!weights) throw new Error(`no weights for the index "${o.index}" (the data has: ${Object.keys(p.indexWeights).join(", ") || "none"})`);
  const bw = gridOf(weights, S, D);
  const { index: ind } = industryIndex(p);
  const close = fieldGrid(p, "close");
  const targets = new Map<number, Map<number, number>>();
  let prev: Map<number, number> | null = null;
  let prevDate = -1;
  let worst = 0, relaxed = 0;
  const dates = rebalanceDates(factor, o.every);
  for (const t of dates) {
    // Candidates: benchmark members and stocks with a factor value; the others' score is the mean.
    const cand: number[] = [];
    for (let s = 0; s < S; s++) if (bw.at(s, t) > 0 || Number.isFinite(factor.at(s, t)) || prev?.has(s)) cand.push(s);
    const f = cand.map((s) => factor.at(s, t));
    const fin = f.filter(Number.isFinite);
    const m = fin.reduce((a, b) => a + b, 0) / Math.max(1, fin.length);
    const sd = Math.sqrt(fin.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, fin.length - 1)) || 1;
    const score = f.map((x) => (Number.isFinite(x) ? (x - m) / sd : 0));
    // Held weights drift with prices from the last rebalance to today.
    let drift: number[] | null = null;
    if (prev) {
      const raw = cand.map((s) => {
        const w0 = prev!.get(s) ?? 0;
        const a = close.at(s, prevDate + 1), b = close.at(s, t);
        return w0 * (Number.isFinite(a) && Number.isFinite(b) && a > 0 ? b / a : 1);
      });
      const tot = raw.reduce((a, b) => a + b, 0);
      drift = raw.map((x) => x / (tot || 1));
    }
    const problem: RebalanceProblem = {
      score, industry: cand.map((s) => ind[s]), size: cand.map((s) => (Number.isFinite(size.at(s, t)) ? size.at(s, t) : 0)),
      bench: cand.map((s) => bw.at(s, t)), prev: drift, maxWeight: o.maxWeight, industryTolerance: o.industryTolerance,
      sizeTolerance: o.sizeTolerance, maxTurnover: o.maxTurnover,
    };
    const sol = await solveRebalance(problem);
    worst = Math.max(worst, sol.violation);
    if (sol.status !== "optimal") relaxed++;
    const w = new Map<number, number>();
    sol.weights.forEach((x, i) => { if (x > 1e-9) w.set(cand[i], x); });
    targets.set(t, w);
    prev = w;
    prevDate = t;
  }
  if (!dates.length) return { dates: [], nav: [], benchmark: [], excessDrawdown: [], byYear: [], maxConstraintViolation: 0, relaxed: 0, rebalances: 0 };
  const end = Math.min(D - 1, dates[dates.length - 1] + 1 + o.every);
  const sim = simulate(p, targets, o.costs, 1, end);
  const from = dates[0] + 1;
  const bench = benchmarkNav(p, bw, from - 1, end).slice(1);
  const byYear = indicesByYear(sim.dates).map(([y, idx]) => {
    // Each year's excess starts from the last close of the year before.
    const a = idx[0] > 0 ? idx[0] - 1 : idx[0];
    const rel = [a, ...idx.filter((i) => i !== a)].map((i) => sim.nav[i] / bench[i]);
    const excess = rel.length > 1 ? annualize(rel) : 0;
    const vol = annualVol(rel);
    const turns = sim.turnover.filter((x) => x.date.startsWith(y)).map((x) => x.value);
    return {
      year: y, excess_return: excess, holdings: idx.reduce((s, i) => s + sim.holdings[i], 0) / idx.length, volatility: vol,
      sharpe: vol > 0 ? excess / vol : NaN, max_drawdown: maxDrawdown(rel),
      turnover: turns.length ? turns.reduce((a, b) => a + b, 0) / turns.length : 0,
    };
  });
  const excessDrawdown = drawdownSeries(sim.nav.map((v, i) => v / bench[i]));
  return { dates: sim.dates, nav: sim.nav, benchmark: bench, excessDrawdown, byYear, maxConstraintViolation: worst, relaxed, rebalances: dates.length };
}
