/** Each CNE5 descriptor against a value worked out by hand on a short series built for it. */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Panel } from "../../src/data/index.js";
import { styleDescriptors, styleExposures } from "../../src/risk/index.js";

/** Two stocks whose closes follow the given daily returns; equal caps unless given. */
function panelOf(returns: number[][], { turnover, shares }: { turnover?: number[]; shares?: number[] } = {}): Panel {
  const S = returns.length, D = returns[0].length + 1;
  const close = new Float64Array(S * D);
  returns.forEach((r, s) => {
    close[s * D] = 10;
    r.forEach((x, d) => (close[s * D + d + 1] = close[s * D + d] * (1 + x)));
  });
  const sh = shares ?? returns.map(() => 1e8);
  return {
    calendar: Array.from({ length: D }, (_, d) => new Date(Date.UTC(2015, 0, 1) + d * 86400000).toISOString().slice(0, 10)),
    stocks: returns.map((_, s) => `S${s}`),
    fields: {
      close, open: close, high: close, low: close, vwap: close, volume: close.map(() => 1e6),
      market_cap: close.map((c, k) => c * sh[Math.floor(k / D)]),
      turnover: turnover ? close.map((_, k) => turnover[Math.floor(k / D)]) : undefined,
    },
    flags: {},
    industry: returns.map(() => "A"), listDate: returns.map(() => null), indexWeights: {}, priceBasis: "test", market: "other",
  };
}

const near = (a: number, b: number, tol = 1e-9): void => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

test("Beta: a stock moving exactly twice the market has beta 2 and HSIGMA 0", () => {
  // The market is the cap-weighted mean of two stocks; stock 1 has a tiny cap, so the market is stock 0.
  const m = Array.from({ length: 80 }, (_, i) => 0.01 * Math.sin(i * 1.7));
  const p = panelOf([m, m.map((x) => 2 * x)], { shares: [1e12, 1] });
  const d = styleDescriptors(p);
  const D = p.calendar.length;
  near(d.beta.values[1 * D + D - 1], 2, 1e-6);
  near(d.hsigma.values[1 * D + D - 1], 0, 1e-9);
  assert.ok(Number.isNaN(d.beta.values[1 * D + 30]), "fewer than 63 observations: undefined");
});

test("Momentum: a constant daily return c gives RSTR = ln(1 + c); the last 21 days are skipped", () => {
  const c = 0.002;
  const r = Array.from({ length: 300 }, (_, i) => (i >= 279 ? 0.05 : c)); // the last 21 days jump, and are skipped
  const d = styleDescriptors(panelOf([r, r]));
  const D = 301;
  near(d.momentum.values[D - 1], Math.log1p(c), 1e-9);
});

test("DASTD: returns alternating +a and -a around a flat market give an EW standard deviation near a", () => {
  const a = 0.02;
  const r = Array.from({ length: 260 }, (_, i) => (i % 2 ? a : -a));
  const flat = r.map(() => 0);
  const p = panelOf([flat, r], { shares: [1e12, 1] });
  const d = styleDescriptors(p);
  const D = 261;
  // Exact weighted value: weights 0.5^((n-1-j)/42) on 252 values alternating +-a; mean = sum w x.
  const w = Array.from({ length: 252 }, (_, j) => Math.pow(0.5, (251 - j) / 42));
  const sw = w.reduce((x, y) => x + y);
  const xs = Array.from({ length: 252 }, (_, j) => r[260 - 252 + j]);
  const mean = xs.reduce((acc, x, j) => acc + w[j] * x, 0) / sw;
  const want = Math.sqrt(xs.reduce((acc, x, j) => acc + w[j] * (x - mean) ** 2, 0) / sw);
  near(d.dastd.values[D + D - 1], want, 1e-9);
  assert.ok(Math.abs(want - a) < 0.001);
});

test("CMRA: a constant monthly log return g gives ln(1 + 12 g) - ln(1 + g)", () => {
  const g = 0.021; // per 21-day month
  const daily = Math.expm1(g / 21);
  const r = Array.from({ length: 270 }, () => daily);
  const d = styleDescriptors(panelOf([r, r]));
  near(d.cmra.values[270], Math.log1p(12 * g) - Math.log1p(g), 1e-9);
});

test("Liquidity: constant turnover t gives STOM = STOQ = STOA = ln(21 t)", () => {
  const r = Array.from({ length: 260 }, () => 0);
  const d = styleDescriptors(panelOf([r, r], { turnover: [0.01, 0.03] }));
  near(d.liquidity!.values[260], Math.log(21 * 0.01), 1e-12);
  near(d.liquidity!.values[261 + 260], Math.log(21 * 0.03), 1e-12);
  near(d.size.values[260], Math.log(10 * 1e8), 1e-12);
});

test("exposures are standardised: cap-weighted mean 0, equal-weighted standard deviation 1", () => {
  const rs = Array.from({ length: 12 }, (_, s) => Array.from({ length: 300 }, (_, i) => 0.01 * Math.sin(i * (1 + s / 7)) + 0.001 * s));
  const p = panelOf(rs, { turnover: rs.map((_, s) => 0.005 + 0.002 * s), shares: rs.map((_, s) => 1e8 * (1 + s)) });
  const e = styleExposures(p);
  const D = p.calendar.length, d = D - 1;
  for (const [j, name] of e.names.entries()) {
    const v = Array.from({ length: 12 }, (_, s) => e.values[j].values[s * D + d]);
    const cap = Array.from({ length: 12 }, (_, s) => e.cap.values[s * D + d]);
    const cw = v.reduce((a, x, s) => a + x * cap[s], 0) / cap.reduce((a, b) => a + b);
    const mean = v.reduce((a, b) => a + b) / v.length;
    const sd = Math.sqrt(v.reduce((a, x) => a + (x - cw) ** 2, 0) / (v.length - 1));
    near(cw, 0, 1e-9);
    near(sd, 1, 1e-9);
    assert.ok(Number.isFinite(mean), name);
  }
});

test("fundamental styles come from the user's columns when present, and their absence is noted", () => {
  const rs = Array.from({ length: 6 }, (_, s) => Array.from({ length: 80 }, (_, i) => 0.01 * Math.sin(i + s)));
  const p = panelOf(rs);
  const without = styleExposures(p);
  assert.ok(!without.names.includes("earnings_yield"));
  assert.match(without.notes.join(), /no fundamental columns for earnings_yield, book_to_price, growth, leverage/);
  const D = p.calendar.length;
  p.fields.pe_ttm = Float64Array.from({ length: 6 * D }, (_, k) => 5 + Math.floor(k / D) * 5);
  p.fields.pb = Float64Array.from({ length: 6 * D }, (_, k) => 1 + Math.floor(k / D));
  const e = styleExposures(p);
  const ey = e.values[e.names.indexOf("earnings_yield")];
  // 1/PE falls with PE: the stock with the lowest PE has the highest exposure
  assert.ok(ey.at(0, D - 1) > ey.at(5, D - 1));
  assert.ok(e.names.includes("book_to_price") && !e.names.includes("growth"));
});
