import { test } from "node:test";
import assert from "node:assert/strict";
import { SYNTHETIC_QUICK, boardOf, fieldGrid, forwardIC, priceLimit, syntheticMarket } from "../../src/data/index.js";

const m = syntheticMarket(SYNTHETIC_QUICK);
const p = m.panel;
const S = p.stocks.length;
const D = p.calendar.length;
const F = p.fields;
const G = p.flags;

function dailyReturns(): number[][] {
  return Array.from({ length: S }, (_, s) => {
    const out: number[] = [];
    for (let d = 1; d < D; d++) {
      const k = s * D + d;
      if (G.is_suspended![k] === 0 && G.is_suspended![k - 1] === 0) out.push(F.close![k] / F.close![k - 1] - 1);
    }
    return out.filter(Number.isFinite);
  });
}

test("the same seed gives the same market; another seed another", () => {
  const again = syntheticMarket(SYNTHETIC_QUICK);
  assert.deepEqual([...again.panel.fields.close!], [...F.close!]);
  assert.deepEqual([...again.oracle.values], [...m.oracle.values]);
  const other = syntheticMarket({ ...SYNTHETIC_QUICK, seed: 8 });
  assert.notDeepEqual([...other.panel.fields.close!.slice(0, 50)], [...F.close!.slice(0, 50)]);
});

test("stylised facts: fat tails, volatility clustering, dispersion, realistic turnover", () => {
  const rs = dailyReturns().flat();
  const mu = rs.reduce((a, b) => a + b, 0) / rs.length;
  const v = rs.reduce((a, b) => a + (b - mu) ** 2, 0) / rs.length;
  const kurt = rs.reduce((a, b) => a + (b - mu) ** 4, 0) / rs.length / v / v;
  assert.ok(kurt > 3, `kurtosis ${kurt}`);
  // clustering: squared returns are autocorrelated
  const per = dailyReturns();
  let num = 0, den = 0;
  for (const r of per) {
    const sq = r.map((x) => x * x);
    const m2 = sq.reduce((a, b) => a + b, 0) / sq.length;
    for (let i = 1; i < sq.length; i++) num += (sq[i] - m2) * (sq[i - 1] - m2);
    for (let i = 0; i < sq.length; i++) den += (sq[i] - m2) ** 2;
  }
  assert.ok(num / den > 0.05, `lag-1 autocorrelation of squared returns ${num / den}`);
  // cross-sectional dispersion of daily returns
  let disp = 0, n = 0;
  for (let d = 1; d < D; d++) {
    const xs: number[] = [];
    for (let s = 0; s < S; s++) {
      const r = F.close![s * D + d] / F.close![s * D + d - 1] - 1;
      if (Number.isFinite(r)) xs.push(r);
    }
    if (xs.length < 10) continue;
    const mm = xs.reduce((a, b) => a + b, 0) / xs.length;
    disp += Math.sqrt(xs.reduce((a, b) => a + (b - mm) ** 2, 0) / xs.length);
    n++;
  }
  assert.ok(disp / n > 0.01 && disp / n < 0.05, `mean cross-sectional sd ${disp / n}`);
  const tv = [...F.turnover!].filter((x) => x > 0).sort((a, b) => a - b);
  const median = tv[tv.length >> 1];
  assert.ok(median > 0.003 && median < 0.05, `median daily turnover ${median}`);
});

test("bars are consistent and respect price limits, suspensions and listings", () => {
  for (let s = 0; s < S; s++) for (let d = 0; d < D; d++) {
    const k = s * D + d;
    if (!Number.isFinite(F.close![k])) continue;
    assert.ok(F.low![k] <= Math.min(F.open![k], F.close![k]) && F.high![k] >= Math.max(F.open![k], F.close![k]));
    assert.ok(F.vwap![k] >= F.low![k] - 1e-9 && F.vwap![k] <= F.high![k] + 1e-9);
    if (G.is_suspended![k] === 1) assert.equal(F.volume![k], 0);
    if (d > 0 && Number.isFinite(F.close![k - 1])) {
      const lim = priceLimit(boardOf(p.stocks[s]), p.calendar[d], G.is_st![k] === 1);
      assert.ok(Math.abs(F.close![k] / F.close![k - 1] - 1) <= lim + 0.011, `${p.stocks[s]} ${p.calendar[d]}`);
    }
  }
  assert.ok(G.is_suspended!.some((x) => x === 1) && G.is_st!.some((x) => x === 1) && G.limit_up!.some((x) => x === 1));
  assert.ok(p.stocks.some((_, s) => Number.isNaN(F.close![s * D])), "some stocks list during the period");
});

test("the index weights sum to 1 on every date; the oracle reaches its configured IC", () => {
  const w = p.indexWeights.csi500;
  for (let d = 0; d < D; d++) {
    let sum = 0;
    for (let s = 0; s < S; s++) sum += w[s * D + d];
    assert.ok(Math.abs(sum - 1) < 1e-9, `${p.calendar[d]}: ${sum}`);
  }
  const ic = forwardIC(m.oracle, fieldGrid(m.panel, "vwap"), 10, 5);
  assert.ok(ic > 0.5 * SYNTHETIC_QUICK.targetIC && ic < 1.5 * SYNTHETIC_QUICK.targetIC, `oracle IC ${ic}`);
});
