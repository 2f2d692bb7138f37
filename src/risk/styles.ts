/**
 * CNE5 style exposures from price and volume (Barra CNE5 descriptors; the windows and half-lives
 * of the CNE5 handbook):
 * - Beta: EWMA regression of the stock's daily return on the cap-weighted market's over 252 days,
 *   half-life 63;
 * - Momentum (RSTR): EWMA sum of log returns over 504 days, skipping the latest 21, half-life 126;
 * - Size: log market cap;
 * - Residual volatility: 0.74 DASTD (EW std of returns, 252 days, half-life 42) + 0.16 CMRA
 *   (range of cumulative log returns over 12 months of 21 days) + 0.10 HSIGMA (EW std of the beta
 *   regression's residuals), orthogonalised to Beta and Size;
 * - Liquidity: 0.35 STOM + 0.35 STOQ + 0.30 STOA (log of the sum of daily turnover over 1, 3 and 12
 *   months, averaged per month), orthogonalised to Size;
 * - Non-linear size: Size cubed, orthogonalised to Size.
 * Each is winsorised at 3 standard deviations and standardised per date to cap-weighted mean 0 and
 * equal-weighted standard deviation 1. Everything at date t uses data up to t only.
 */
import { type Grid, type Panel, field, fieldGrid, gridOf, panelGrid } from "../data/index.js";
import { solveSymmetric } from "./regression.js";

export const STYLE_NAMES = ["beta", "momentum", "size", "residual_volatility", "liquidity", "non_linear_size"] as const;
export type StyleName = (typeof STYLE_NAMES)[number];

export interface StyleExposures {
  names: string[];
  /** One [stocks x dates] grid per style (NaN where undefined). */
  values: Grid[];
  /** Regression weights' basis: the capitalisation used (market cap, or a proxy). */
  cap: Grid;
  /** What was used where data were missing. */
  notes: string[];
}

const halfLifeWeights = (n: number, h: number): Float64Array => {
  // newest last: weight 0.5^((n-1-j)/h)
  const w = Float64Array.from({ length: n }, (_, j) => Math.pow(0.5, (n - 1 - j) / h));
  const s = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / s);
};

/** Daily close-to-close returns (NaN across a missing or suspended day). */
export function dailyReturns(p: Panel): Grid {
  const close = fieldGrid(p, "close");
  const { stocks: S, dates: D } = close;
  const susp = p.flags.is_suspended;
  const r = panelGrid(p);
  for (let s = 0; s < S; s++) for (let d = 1; d < D; d++) {
    const k = close.index(s, d);
    if (susp && (susp[k] === 1 || susp[k - 1] === 1)) continue;
    r.values[k] = close.values[k] / close.values[k - 1] - 1;
  }
  return r;
}

/** Capitalisation for weights: market cap, or a documented proxy. */
export function capitalisation(p: Panel): { cap: Grid; note?: string } {
  if (p.fields.market_cap) return { cap: fieldGrid(p, "market_cap") };
  // Proxy: trailing 60-day mean traded value. Size and traded value rank stocks alike (their
  // cross-sectional correlation is high in every market), and it uses no future data.
  const S = p.stocks.length, D = p.calendar.length;
  const close = field(p, "close");
  const volume = p.fields.amount ? null : field(p, "volume");
  const amount = p.fields.amount ?? close.map((c, k) => c * volume![k]);
  const cap = panelGrid(p);
  for (let s = 0; s < S; s++) {
    let sum = 0;
    const q: number[] = [];
    for (let d = 0; d < D; d++) {
      const k = cap.index(s, d);
      const a = amount[k];
      if (Number.isFinite(a) && a > 0) { q.push(a); sum += a; }
      if (q.length > 60) sum -= q.shift()!;
      if (q.length > 0 && Number.isFinite(close[k])) cap.values[k] = (sum / q.length) * 250;
    }
  }
  return { cap, note: "no market cap in the data: size is proxied by 250 x the trailing 60-day mean traded value" };
}

/** Cap-weighted market return per date (weights: the previous day's cap). */
export function marketReturn(returns: Grid, capital: Grid): Float64Array {
  const { stocks: S, dates: D } = returns;
  const r = returns.values, cap = capital.values;
  const m = new Float64Array(D).fill(NaN);
  for (let d = 1; d < D; d++) {
    let num = 0, den = 0;
    for (let s = 0; s < S; s++) {
      const k = returns.index(s, d);
      const w = cap[k - 1];
      if (Number.isFinite(r[k]) && Number.isFinite(w) && w > 0) { num += w * r[k]; den += w; }
    }
    if (den > 0) m[d] = num / den;
  }
  return m;
}

/** Winsorise at mean +- 3 sd, then standardise: cap-weighted mean 0, equal-weighted sd 1 (per date). */
export function standardizeStyle(style: Grid, capital: Grid): void {
  const { stocks: S, dates: D } = style;
  const x = style.values, cap = capital.values;
  for (let d = 0; d < D; d++) {
    let n = 0, m = 0, v = 0;
    for (let s = 0; s < S; s++) { const a = style.at(s, d); if (Number.isFinite(a)) { n++; m += a; } }
    if (n < 3) { for (let s = 0; s < S; s++) style.set(s, d, NaN); continue; }
    m /= n;
    for (let s = 0; s < S; s++) { const a = style.at(s, d); if (Number.isFinite(a)) v += (a - m) ** 2; }
    const sd = Math.sqrt(v / (n - 1));
    let cw = 0, cwm = 0;
    for (let s = 0; s < S; s++) {
      const k = style.index(s, d);
      if (!Number.isFinite(x[k])) continue;
      if (sd > 0) x[k] = Math.max(m - 3 * sd, Math.min(m + 3 * sd, x[k]));
      const w = Number.isFinite(cap[k]) && cap[k] > 0 ? cap[k] : 0;
      cw += w;
      cwm += w * x[k];
    }
    const center = cw > 0 ? cwm / cw : m;
    let v2 = 0;
    for (let s = 0; s < S; s++) { const a = style.at(s, d); if (Number.isFinite(a)) v2 += (a - center) ** 2; }
    const sd2 = Math.sqrt(v2 / (n - 1)) || 1;
    for (let s = 0; s < S; s++) { const k = style.index(s, d); if (Number.isFinite(x[k])) x[k] = (x[k] - center) / sd2; }
  }
}

/** Per date, replaces y by its residual from a cap-weighted regression on the given exposures. */
export function orthogonalize(target: Grid, exposures: Grid[], capital: Grid): void {
  const { stocks: S, dates: D } = target;
  const y = target.values, on = exposures.map((e) => e.values), cap = capital.values;
  const p = on.length + 1;
  for (let d = 0; d < D; d++) {
    const rows: number[] = [];
    for (let s = 0; s < S; s++) {
      const k = target.index(s, d);
      if (Number.isFinite(y[k]) && on.every((e) => Number.isFinite(e[k]))) rows.push(k);
    }
    if (rows.length <= p) continue;
    const A = new Float64Array(p * p);
    const b = new Float64Array(p);
    for (const k of rows) {
      const w = Number.isFinite(cap[k]) && cap[k] > 0 ? Math.sqrt(cap[k]) : 1;
      const xk = [1, ...on.map((e) => e[k])];
      for (let i = 0; i < p; i++) {
        b[i] += w * xk[i] * y[k];
        for (let j = 0; j < p; j++) A[i * p + j] += w * xk[i] * xk[j];
      }
    }
    const beta = solveSymmetric(A, b, p);
    for (const k of rows) {
      const xk = [1, ...on.map((e) => e[k])];
      let fit = 0;
      for (let i = 0; i < p; i++) fit += xk[i] * beta[i];
      y[k] -= fit;
    }
  }
}

/** The raw CNE5 descriptors, before winsorising, standardising and orthogonalising. */
export interface StyleDescriptors {
  beta: Grid;
  hsigma: Grid;
  momentum: Grid;
  size: Grid;
  dastd: Grid;
  cmra: Grid;
  /** 0.35 STOM + 0.35 STOQ + 0.30 STOA, or null without turnover. */
  liquidity: Grid | null;
  cap: Grid;
  notes: string[];
}

export function styleDescriptors(p: Panel): StyleDescriptors {
  const S = p.stocks.length, D = p.calendar.length;
  const notes: string[] = [];
  const { cap: capital, note } = capitalisation(p);
  if (note) notes.push(note);
  const returns = dailyReturns(p);
  const rm = marketReturn(returns, capital);
  const grids = Array.from({ length: 7 }, () => panelGrid(p));
  // The loops below are the hot ones: flat indices into the grids' values, a row offset per stock.
  const [beta, hsigma, mom, size, dastd, cmra, liq] = grids.map((g) => g.values);
  const r = returns.values, cap = capital.values;
  const wBeta = halfLifeWeights(252, 63);
  const wMom = halfLifeWeights(504 - 21, 126);
  const wVol = halfLifeWeights(252, 42);
  const turnover = p.fields.turnover;
  if (!turnover) notes.push("no turnover: Liquidity is left out");
  for (let s = 0; s < S; s++) {
    const base = capital.index(s, 0);
    for (let d = 0; d < D; d++) {
      const k = base + d;
      if (!Number.isFinite(cap[k]) || cap[k] <= 0) continue;
      size[k] = Math.log(cap[k]);
      // Beta and HSIGMA over the last 252 days (at least 63 observations)
      {
        const n = Math.min(252, d + 1);
        let sw = 0, mx = 0, my = 0, cnt = 0;
        for (let j = 0; j < n; j++) {
          const t = d - n + 1 + j;
          const x = rm[t], y = r[base + t];
          if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
          const w = wBeta[252 - n + j];
          sw += w; mx += w * x; my += w * y; cnt++;
        }
        if (cnt >= 63) {
          mx /= sw; my /= sw;
          let sxy = 0, sxx = 0;
          for (let j = 0; j < n; j++) {
            const t = d - n + 1 + j;
            const x = rm[t], y = r[base + t];
            if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
            const w = wBeta[252 - n + j];
            sxy += w * (x - mx) * (y - my);
            sxx += w * (x - mx) ** 2;
          }
          const b = sxx > 0 ? sxy / sxx : 0;
          beta[k] = b;
          let se = 0;
          for (let j = 0; j < n; j++) {
            const t = d - n + 1 + j;
            const x = rm[t], y = r[base + t];
            if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
            const e = y - my - b * (x - mx);
            se += wBeta[252 - n + j] * e * e;
          }
          hsigma[k] = Math.sqrt(se / sw);
        }
      }
      // Momentum: log returns from t-503 to t-21 (at least 126 observations)
      {
        let acc = 0, sw = 0, cnt = 0;
        for (let j = 0; j < 504 - 21; j++) {
          const t = d - 503 + j;
          if (t < 1) continue;
          const x = r[base + t];
          if (!Number.isFinite(x)) continue;
          acc += wMom[j] * Math.log1p(x);
          sw += wMom[j];
          cnt++;
        }
        if (cnt >= 126) mom[k] = acc / sw;
      }
      // DASTD: EW std of excess returns over 252 days, half-life 42
      {
        let sw = 0, m = 0, cnt = 0;
        const n = Math.min(252, d + 1);
        for (let j = 0; j < n; j++) {
          const t = d - n + 1 + j;
          const x = r[base + t] - rm[t];
          if (!Number.isFinite(x)) continue;
          sw += wVol[252 - n + j]; m += wVol[252 - n + j] * x; cnt++;
        }
        if (cnt >= 42) {
          m /= sw;
          let v = 0;
          for (let j = 0; j < n; j++) {
            const t = d - n + 1 + j;
            const x = r[base + t] - rm[t];
            if (Number.isFinite(x)) v += wVol[252 - n + j] * (x - m) ** 2;
          }
          dastd[k] = Math.sqrt(v / sw);
        }
      }
      // CMRA: ln(1 + max Z) - ln(1 + min Z), Z(T) the cumulative log return over the last T months
      // (T = 1..12, months of 21 days)
      if (d >= 252) {
        let z = 0, hi = -Infinity, lo = Infinity, okMonths = 0;
        for (let mth = 0; mth < 12; mth++) {
          let lr = 0, n = 0;
          for (let j = 0; j < 21; j++) {
            const x = r[base + d - mth * 21 - j];
            if (Number.isFinite(x)) { lr += Math.log1p(x); n++; }
          }
          if (n > 0) okMonths++;
          z += lr;
          hi = Math.max(hi, z);
          lo = Math.min(lo, z);
        }
        if (okMonths >= 9 && lo > -1) cmra[k] = Math.log1p(hi) - Math.log1p(lo);
      }
      // Liquidity: STOM, STOQ, STOA
      if (turnover) {
        const monthly = (m: number): number => {
          let s2 = 0, n = 0;
          for (let j = 0; j < 21 * m; j++) {
            const t = d - j;
            if (t < 0) break;
            const x = turnover[base + t];
            if (Number.isFinite(x)) { s2 += x; n++; }
          }
          return n >= 10 * m ? s2 / m : NaN;
        };
        const stom = Math.log(monthly(1)), stoq = Math.log(monthly(3)), stoa = Math.log(monthly(12));
        const parts: [number, number][] = [[0.35, stom], [0.35, stoq], [0.3, stoa]];
        const ok = parts.filter(([, v]) => Number.isFinite(v));
        if (ok.length) liq[k] = ok.reduce((a, [w, v]) => a + w * v, 0) / ok.reduce((a, [w]) => a + w, 0);
      }
    }
  }
  const [betaG, hsigmaG, momG, sizeG, dastdG, cmraG, liqG] = grids;
  return { beta: betaG, hsigma: hsigmaG, momentum: momG, size: sizeG, dastd: dastdG, cmra: cmraG, liquidity: turnover ? liqG : null, cap: capital, notes };
}

export function styleExposures(p: Panel): StyleExposures {
  const { beta, hsigma, momentum: mom, size, dastd, cmra, liquidity, cap, notes } = styleDescriptors(p);
  const turnover = liquidity !== null;
  const liq = liquidity ?? panelGrid(p);
  standardizeStyle(beta, cap);
  standardizeStyle(mom, cap);
  standardizeStyle(size, cap);
  const resvol = panelGrid(p);
  for (const x of [dastd, cmra, hsigma]) standardizeStyle(x, cap);
  for (let k = 0; k < resvol.values.length; k++) {
    const parts: [number, number][] = [[0.74, dastd.values[k]], [0.16, cmra.values[k]], [0.1, hsigma.values[k]]];
    const ok = parts.filter(([, v]) => Number.isFinite(v));
    if (ok.length) resvol.values[k] = ok.reduce((a, [w, v]) => a + w * v, 0) / ok.reduce((a, [w]) => a + w, 0);
  }
  orthogonalize(resvol, [beta, size], cap);
  standardizeStyle(resvol, cap);
  orthogonalize(liq, [size], cap);
  standardizeStyle(liq, cap);
  const nls = size.map((x) => x ** 3);
  orthogonalize(nls, [size], cap);
  standardizeStyle(nls, cap);
  const names: string[] = [...STYLE_NAMES].filter((n) => n !== "liquidity" || !!turnover);
  const values = [beta, mom, size, resvol, ...(turnover ? [liq] : []), nls];
  // Fundamental styles from the user's columns, when present: Earnings Yield (1 / PE), Book-to-Price
  // (1 / PB), Growth and Leverage as given.
  const fundamentals: [string, Float64Array | undefined, (x: number) => number][] = [
    ["earnings_yield", p.fields.pe_ttm, (x) => (x !== 0 ? 1 / x : NaN)],
    ["book_to_price", p.fields.pb, (x) => (x > 0 ? 1 / x : NaN)],
    ["growth", p.fields.growth, (x) => x],
    ["leverage", p.fields.leverage, (x) => x],
  ];
  for (const [name, src, f] of fundamentals) {
    if (!src) continue;
    const v = gridOf(Float64Array.from(src, (x) => (Number.isFinite(x) ? f(x) : NaN)), cap.stocks, cap.dates);
    standardizeStyle(v, cap);
    names.push(name);
    values.push(v);
  }
  const missing = fundamentals.filter(([, src]) => !src).map(([n]) => n);
  if (missing.length) notes.push(`no fundamental columns for ${missing.join(", ")}: those styles are left out (map pe_ttm, pb, growth, leverage)`);
  return { names, values, cap, notes };
}
