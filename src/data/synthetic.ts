/**
 * The synthetic market: the embedded default dataset and the ground truth of the pipeline.
 *
 * Daily log returns follow a factor structure (a GARCH market factor with Student-t shocks,
 * industry factors, a size factor), plus GARCH idiosyncratic returns with fat tails, plus the
 * planted alpha: a signal computed each close from past volume-price patterns, whose value moves
 * the next days' returns. The patterns span horizons that need different windows (5-day
 * price-volume correlation, 20-day return, a 10-day linear decay of the vwap gap,
 * a 10-day turnover z-score), so that a model needs several windows to find all of it.
 * The oracle is the signal itself: its IC is the best any model can reach.
 *
 * A-share rules are simulated: price ticks of 0.01, daily limits (main 10%, ST 5%, ChiNext 20%
 * after 2020-08-24, STAR 20%), ST spells, suspensions (zero volume, flat bar), listings during
 * the period and delistings, and a CSI-500-like index of mid caps by float cap, reconstituted in
 * June and December, weighted by float cap.
 */
import { type FieldName, type Grid, type Panel, boardOf, countFlag, emptyField, fieldGrid, gridOf, priceLimit } from "./panel.js";
import { type QualityReport, newQualityReport } from "./quality.js";
import { Rng } from "./random.js";
import { pearson } from "./stats.js";

export interface SyntheticOptions {
  seed: number;
  stocks: number;
  start: string;
  end: string;
  industries: number;
  /** Stocks in the CSI-500-like index. */
  indexSize: number;
  /** The oracle's target mean IC against the 10-day forward return (vwap t+1 to t+11). */
  targetIC: number;
  /** Label horizon used for the IC calibration. */
  horizon: number;
}

export const SYNTHETIC_DEFAULT: SyntheticOptions = {
  seed: 7, stocks: 300, start: "2016-01-01", end: "2021-06-01", industries: 10, indexSize: 100, targetIC: 0.15, horizon: 10,
};
export const SYNTHETIC_QUICK: SyntheticOptions = { ...SYNTHETIC_DEFAULT, stocks: 120, start: "2018-01-01", end: "2020-06-30", indexSize: 40 };

export interface SyntheticMarket {
  panel: Panel;
  /** The planted signal known at the close of each date [stocks x dates] (NaN where not tradable). */
  oracle: Grid;
  /** The generator's factor returns and exposures, for checking the risk model. */
  truth: {
    market: Float64Array;
    industry: Float64Array[];
    size: Float64Array;
    industryOf: Int32Array;
    beta: Float64Array;
    sizeExposure: Float64Array;
    alphaLoading: number;
  };
  quality: QualityReport;
  options: SyntheticOptions;
}

/** Weekdays from start to end, less a seeded handful of holidays each year. */
function tradingCalendar(start: string, end: string, rng: Rng): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${start}T00:00:00Z`); t <= Date.parse(`${end}T00:00:00Z`); t += 86400000) {
    const day = new Date(t).getUTCDay();
    if (day === 0 || day === 6) continue;
    if (rng.uniform() < 0.035) continue; // about 9 holidays a year
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

function stockCodes(n: number, rng: Rng): string[] {
  const used = new Set<string>();
  const out: string[] = [];
  while (out.length < n) {
    const u = rng.uniform();
    const code = u < 0.45 ? `SH60${String(rng.int(10000)).padStart(4, "0")}`
      : u < 0.8 ? `SZ00${String(rng.int(10000)).padStart(4, "0")}`
      : u < 0.93 ? `SZ300${String(rng.int(1000)).padStart(3, "0")}`
      : `SH688${String(rng.int(1000)).padStart(3, "0")}`;
    if (!used.has(code)) {
      used.add(code);
      out.push(code);
    }
  }
  return out.sort();
}

/** Cross-sectional standardisation of one date's values (NaN stays NaN). */
function standardize(x: Float64Array): void {
  let n = 0, m = 0, v = 0;
  for (const a of x) if (Number.isFinite(a)) { n++; m += a; }
  if (n < 3) return x.fill(NaN), undefined;
  m /= n;
  for (const a of x) if (Number.isFinite(a)) v += (a - m) ** 2;
  const sd = Math.sqrt(v / (n - 1)) || 1;
  for (let i = 0; i < x.length; i++) if (Number.isFinite(x[i])) x[i] = Math.max(-3, Math.min(3, (x[i] - m) / sd));
}

/** Mean cross-sectional IC of a [S x D] signal against the forward vwap return over `h` days. */
export function forwardIC(signal: Grid, vwap: Grid, h: number, step = 5): number {
  const { stocks: S, dates: D } = signal;
  const ics: number[] = [];
  for (let d = 0; d + 1 + h < D; d += step) {
    const sig: number[] = [], fwd: number[] = [];
    for (let s = 0; s < S; s++) {
      const x = signal.at(s, d);
      const r = vwap.at(s, d + 1 + h) / vwap.at(s, d + 1) - 1;
      if (Number.isFinite(x) && Number.isFinite(r)) { sig.push(x); fwd.push(r); }
    }
    const ic = sig.length >= 5 ? pearson(sig, fwd) : NaN;
    if (Number.isFinite(ic)) ics.push(ic);
  }
  return ics.reduce((a, b) => a + b, 0) / Math.max(1, ics.length);
}

interface Generated {
  panel: Panel;
  oracle: Grid;
  truth: SyntheticMarket["truth"];
}

function generate(o: SyntheticOptions, alphaLoading: number, calendarOverride?: string[]): Generated {
  const rng = new Rng(o.seed);
  const calendar = calendarOverride ?? tradingCalendar(o.start, o.end, rng);
  const stocks = stockCodes(o.stocks, rng);
  const S = stocks.length;
  const D = calendar.length;
  const I = o.industries;
  const f = (fill = NaN): Float64Array => emptyField(S, D, fill);
  const fields: Partial<Record<FieldName, Float64Array>> = {
    open: f(), high: f(), low: f(), close: f(), vwap: f(), volume: f(), amount: f(), turnover: f(), free_turnover: f(),
    market_cap: f(), float_cap: f(), adj_factor: f(1),
  };
  const F = fields as Record<FieldName, Float64Array>;
  const flag = (): Uint8Array => new Uint8Array(S * D);
  const flags = { is_st: flag(), is_suspended: flag(), limit_up: flag(), limit_down: flag() };
  const oracle = f();

  // Static attributes.
  const industryOf = Int32Array.from({ length: S }, () => rng.int(I));
  const shares = Float64Array.from({ length: S }, () => Math.exp(19.5 + 1.1 * rng.normal())); // ~3e8 shares
  const floatFrac = Float64Array.from({ length: S }, () => 0.25 + 0.55 * rng.uniform());
  // Lock-up expiries: on a random date the float fraction of some stocks steps up.
  const unlockAt = Int32Array.from({ length: S }, () => (rng.uniform() < 0.4 ? rng.int(4000) : 1 << 30));
  const unlockTo = Float64Array.from(floatFrac, (f) => Math.min(1, f + 0.1 + 0.3 * rng.uniform()));
  const beta = Float64Array.from({ length: S }, () => 0.6 + 0.8 * rng.uniform());
  const idioVol = Float64Array.from({ length: S }, () => 0.012 + 0.014 * rng.uniform());
  const baseTurnover = Float64Array.from({ length: S }, () => Math.exp(Math.log(0.012) + 0.6 * rng.normal()));
  const startPrice = Float64Array.from({ length: S }, () => Math.exp(Math.log(12) + 0.7 * rng.normal()));
  const listAt = Int32Array.from({ length: S }, (_, s) => {
    if (stocks[s].startsWith("SH688")) return Math.max(calendar.findIndex((d) => d >= "2019-07-22"), 0) + rng.int(Math.max(1, D / 4));
    return rng.uniform() < 0.15 ? 20 + rng.int(Math.max(1, Math.floor(D * 0.6))) : 0;
  });
  const delistAt = Int32Array.from({ length: S }, () => (rng.uniform() < 0.03 ? Math.floor(D * (0.5 + 0.45 * rng.uniform())) : D));
  const logCap0 = Float64Array.from({ length: S }, (_, s) => Math.log(startPrice[s] * shares[s]));
  const sizeExposure = (() => {
    const m = logCap0.reduce((a, b) => a + b, 0) / S;
    const sd = Math.sqrt(logCap0.reduce((a, b) => a + (b - m) ** 2, 0) / S);
    return Float64Array.from(logCap0, (x) => (x - m) / sd);
  })();
  // ST spells.
  const stFrom = Int32Array.from({ length: S }, () => (rng.uniform() < 0.04 ? rng.int(D) : D));
  const stTo = Int32Array.from(stFrom, (a) => Math.min(D, a + 60 + rng.int(200)));

  // Factor returns.
  const market = new Float64Array(D);
  const industry = Array.from({ length: I }, () => new Float64Array(D));
  const size = new Float64Array(D);
  let hm = 0.013 ** 2;
  let em = 0;
  for (let d = 0; d < D; d++) {
    hm = 0.013 ** 2 * 0.05 + 0.08 * em * em + 0.87 * hm;
    em = Math.sqrt(hm) * rng.studentT(5);
    market[d] = 0.0003 + em;
    for (let i = 0; i < I; i++) industry[i][d] = 0.012 * rng.normal(); // CNE5 industry factors: about 1% a day
    size[d] = 0.003 * rng.normal();
  }

  const h = Float64Array.from(idioVol, (v) => v * v);
  const eps = new Float64Array(S);
  const turnShock = new Float64Array(S);
  const rangeVol = Float64Array.from(idioVol, (v) => v * 0.8);
  const prevClose = new Float64Array(S).fill(NaN);
  const suspendedLeft = new Int32Array(S);
  const signal = new Float64Array(S);
  const sig = [new Float64Array(S), new Float64Array(S), new Float64Array(S), new Float64Array(S)];
  const idx = (s: number, d: number): number => s * D + d;

  for (let d = 0; d < D; d++) {
    // The planted signal from patterns up to yesterday's close (known before today's trading).
    for (let s = 0; s < S; s++) signal[s] = d > 0 ? oracle[idx(s, d - 1)] : NaN;
    for (let s = 0; s < S; s++) {
      const k = idx(s, d);
      if (d < listAt[s] || d >= delistAt[s]) continue;
      const isSt = d >= stFrom[s] && d < stTo[s];
      flags.is_st[k] = isSt ? 1 : 0;
      const listingDay = d === listAt[s] || !Number.isFinite(prevClose[s]);
      if (listingDay) prevClose[s] = startPrice[s];
      const pc = prevClose[s];
      // Suspension spells: flat bar, no volume.
      if (!listingDay && suspendedLeft[s] === 0 && rng.uniform() < 0.0015) suspendedLeft[s] = 1 + rng.int(10);
      if (suspendedLeft[s] > 0) {
        suspendedLeft[s]--;
        F.open[k] = F.high[k] = F.low[k] = F.close[k] = F.vwap[k] = pc;
        F.volume[k] = F.amount[k] = F.turnover[k] = F.free_turnover[k] = 0;
        flags.is_suspended[k] = 1;
        F.market_cap[k] = pc * shares[s];
        F.float_cap[k] = pc * shares[s] * floatFrac[s];
        continue;
      }
      // GARCH(1, 1) idiosyncratic variance with Student-t(4) shocks: fat tails, clustering.
      h[s] = idioVol[s] ** 2 * 0.04 + 0.1 * eps[s] * eps[s] + 0.86 * h[s];
      eps[s] = Math.sqrt(h[s]) * rng.studentT(4);
      const a = Number.isFinite(signal[s]) ? alphaLoading * idioVol[s] * signal[s] : 0;
      let r = beta[s] * market[d] + industry[industryOf[s]][d] + sizeExposure[s] * size[d] + eps[s] + a;
      const lim = priceLimit(boardOf(stocks[s]), calendar[d], isSt);
      const up = Math.round(pc * (1 + lim) * 100) / 100;
      const down = Math.round(pc * (1 - lim) * 100) / 100;
      let cl = listingDay ? pc : Math.round(pc * Math.exp(r) * 100) / 100;
      cl = Math.min(up, Math.max(down, Math.max(0.01, cl)));
      r = Math.log(cl / pc);
      const sd = Math.sqrt(h[s]);
      // The intraday range has a life of its own (a persistent, fat-tailed range factor), so that
      // open, high, low and vwap carry information that the close does not.
      rangeVol[s] = 0.85 * rangeVol[s] + 0.15 * Math.abs(rng.studentT(4)) * sd * 1.6;
      let op = Math.round(pc * Math.exp(0.2 * r + 0.6 * sd * rng.studentT(4)) * 100) / 100;
      op = Math.min(up, Math.max(down, Math.max(0.01, op)));
      const hi = Math.min(up, Math.round(Math.max(op, cl) * Math.exp(Math.abs(rangeVol[s] * rng.normal())) * 100) / 100);
      const lo = Math.max(down, Math.max(0.01, Math.round(Math.min(op, cl) * Math.exp(-Math.abs(rangeVol[s] * rng.normal())) * 100) / 100));
      const u = rng.uniform();
      const vw = lo + (hi - lo) * (0.5 * u + 0.5 * ((cl - lo) / Math.max(hi - lo, 1e-9)));
      // Turnover: persistent fat-tailed shocks (news days), more trading on large moves.
      turnShock[s] = 0.8 * turnShock[s] + 0.3 * rng.studentT(3);
      const tv = baseTurnover[s] * Math.exp(turnShock[s] + 12 * Math.abs(r - beta[s] * market[d]) - 0.1);
      const volume = Math.max(100, Math.round((tv * shares[s]) / 100) * 100);
      F.open[k] = op;
      F.high[k] = Math.max(hi, op, cl);
      F.low[k] = Math.min(lo, op, cl);
      F.close[k] = cl;
      F.vwap[k] = Math.round(vw * 1000) / 1000;
      F.volume[k] = volume;
      F.amount[k] = volume * F.vwap[k];
      F.turnover[k] = volume / shares[s];
      const ff = d >= unlockAt[s] ? unlockTo[s] : floatFrac[s];
      F.free_turnover[k] = volume / (shares[s] * ff);
      F.market_cap[k] = cl * shares[s];
      F.float_cap[k] = cl * shares[s] * ff;
      flags.limit_up[k] = cl >= up - 0.005 ? 1 : 0;
      flags.limit_down[k] = cl <= down + 0.005 ? 1 : 0;
      prevClose[s] = cl;
    }
    // The patterns at today's close (windows end at d: no look-ahead).
    for (let s = 0; s < S; s++) {
      for (const x of sig) x[s] = NaN;
      if (d - 20 < listAt[s] || d >= delistAt[s] || flags.is_suspended[idx(s, d)] === 1) continue;
      const c = (j: number): number => F.close[idx(s, d - j)];
      // 5-day correlation of close and volume (reversal of price moves on heavy volume)
      let mx = 0, my = 0;
      for (let j = 0; j < 5; j++) { mx += c(j); my += F.volume[idx(s, d - j)]; }
      mx /= 5; my /= 5;
      let cxy = 0, cxx = 0, cyy = 0;
      for (let j = 0; j < 5; j++) {
        const dx = c(j) - mx, dy = F.volume[idx(s, d - j)] - my;
        cxy += dx * dy; cxx += dx * dx; cyy += dy * dy;
      }
      sig[0][s] = cxx > 0 && cyy > 0 ? -cxy / Math.sqrt(cxx * cyy) : 0;
      // 20-day return (long-horizon reversal); not scaled by volatility, which the risk model's
      // residual volatility would neutralise away
      sig[1][s] = -(c(0) / c(19) - 1);
      // 10-day linear decay of the vwap gap (vwap above close: buyers paid up during the day)
      let wsum = 0, acc = 0;
      for (let j = 0; j < 10; j++) {
        const w = 10 - j;
        acc += w * ((F.vwap[idx(s, d - j)] - c(j)) / c(j));
        wsum += w;
      }
      sig[2][s] = acc / wsum;
      // 10-day turnover z-score, mean / std (low and stable turnover earns a premium)
      let tm = 0, tv2 = 0;
      for (let j = 0; j < 10; j++) tm += F.turnover[idx(s, d - j)];
      tm /= 10;
      for (let j = 0; j < 10; j++) tv2 += (F.turnover[idx(s, d - j)] - tm) ** 2;
      sig[3][s] = -tm / (Math.sqrt(tv2 / 9) || 1);
    }
    for (const x of sig) standardize(x);
    const comb = new Float64Array(S);
    for (let s = 0; s < S; s++) comb[s] = sig[0][s] + sig[1][s] + sig[2][s] + sig[3][s];
    standardize(comb);
    for (let s = 0; s < S; s++) oracle[idx(s, d)] = comb[s];
  }

  // A CSI-500-like index: mid caps by float cap (skipping the largest 10%), no ST or suspended
  // stock at selection, reconstituted on the first trading day of June and December; weights
  // proportional to float cap, renormalised every date.
  const weights = emptyField(S, D, 0);
  let members: number[] = [];
  for (let d = 0; d < D; d++) {
    const rebalance = d === 0 || (calendar[d].slice(5, 7) !== calendar[d - 1].slice(5, 7) && ["06", "12"].includes(calendar[d].slice(5, 7)));
    if (rebalance) {
      const ranked = Array.from({ length: S }, (_, s) => s)
        .filter((s) => Number.isFinite(F.float_cap[idx(s, d)]) && flags.is_st[idx(s, d)] === 0 && flags.is_suspended[idx(s, d)] === 0)
        .sort((a, b) => F.float_cap[idx(b, d)] - F.float_cap[idx(a, d)]);
      members = ranked.slice(Math.floor(S * 0.1), Math.floor(S * 0.1) + o.indexSize);
    }
    const live = members.filter((s) => Number.isFinite(F.float_cap[idx(s, d)]));
    const total = live.reduce((a, s) => a + F.float_cap[idx(s, d)], 0);
    for (const s of live) weights[idx(s, d)] = F.float_cap[idx(s, d)] / total;
  }

  const panel: Panel = {
    calendar, stocks, fields, flags, industry: Array.from(industryOf, (i) => `IND${String(i + 1).padStart(2, "0")}`),
    listDate: Array.from(listAt, (d) => calendar[Math.min(d, D - 1)]), indexWeights: { csi500: weights },
    priceBasis: "adjusted: synthetic prices have no corporate actions (adj_factor = 1)", market: "cn",
  };
  return { panel, oracle: gridOf(oracle, S, D), truth: { market, industry, size, industryOf, beta, sizeExposure, alphaLoading } };
}

/**
 * Generates the market. The alpha loading is calibrated on a pilot run (the first 250 dates) so
 * that the oracle's IC comes close to `targetIC`; the whole market then follows from the seed.
 */
export function syntheticMarket(options: Partial<SyntheticOptions> = {}): SyntheticMarket {
  const o = { ...SYNTHETIC_DEFAULT, ...options };
  const cal = tradingCalendar(o.start, o.end, new Rng(o.seed));
  const pilotCal = cal.slice(0, Math.min(cal.length, 250));
  const pilotOpts = { ...o, stocks: Math.min(o.stocks, 200) };
  let k = 0.3;
  for (let it = 0; it < 3; it++) {
    const g = generate(pilotOpts, k, pilotCal);
    const ic = forwardIC(g.oracle, fieldGrid(g.panel, "vwap"), o.horizon, 2);
    if (!(ic > 0.005)) { k *= 2; continue; }
    k *= o.targetIC / ic;
  }
  const g = generate(o, k, cal);
  const S = g.panel.stocks.length;
  const D = g.panel.calendar.length;
  const quality = newQualityReport(`synthetic market (seed ${o.seed}, ${S} stocks, ${o.start} to ${o.end})`);
  let rows = 0;
  for (let i = 0; i < S * D; i++) if (Number.isFinite(g.panel.fields.close![i])) rows++;
  quality.rowsIn = quality.rowsKept = rows;
  quality.cells.suspended = countFlag(g.panel.flags.is_suspended);
  quality.cells.limit_up = countFlag(g.panel.flags.limit_up);
  quality.cells.limit_down = countFlag(g.panel.flags.limit_down);
  quality.priceBasis = g.panel.priceBasis;
  quality.stocks = S;
  quality.dates = D;
  return { ...g, quality, options: o };
}
