import { test } from "node:test";
import assert from "node:assert/strict";
import { type Panel, Rng, SYNTHETIC_QUICK, syntheticMarket } from "../../src/data/index.js";
import { simulate, stratify } from "../../src/evaluate/index.js";
import { forwardReturns } from "../../src/dataset/index.js";

/** Three stocks, ten days, chosen so that every fill can be checked by hand. */
function handPanel(): Panel {
  const D = 10;
  const A_close = [10, 10, 10.5, 11, 11, 11, NaN, 11.5, 12, 12];
  const B_close = [20, 20, 20, 20, 20, 20, 22, 22, 22, 22];
  const C_close = [5, 5, 5, 5, 5, 5, 5.5, 5.5, 5.5, 5.5];
  const close = Float64Array.from([...A_close, ...B_close, ...C_close]);
  const vwap = Float64Array.from(close);
  const susp = new Uint8Array(3 * D);
  susp[6] = 1; // A suspended on day 6
  const limitUp = new Uint8Array(3 * D);
  limitUp[2 * D + 6] = 1; // C at limit-up on day 6
  return {
    calendar: Array.from({ length: D }, (_, d) => `2021-03-${String(d + 1).padStart(2, "0")}`), stocks: ["A", "B", "C"],
    fields: { close, vwap, open: close, high: close, low: close },
    flags: { is_suspended: susp, limit_up: limitUp, limit_down: new Uint8Array(3 * D) },
    industry: ["x", "x", "y"], listDate: [null, null, null], indexWeights: {}, priceBasis: "test", market: "cn",
  };
}

test("a hand-built three-stock, ten-day example reproduces to the cent; limit-up is not bought, suspended not sold", () => {
  const p = handPanel();
  const costs = { commission: 0.001, stampDuty: 0.001 };
  const targets = new Map([[0, new Map([[0, 0.495], [1, 0.495]])], [5, new Map([[1, 0.495], [2, 0.495]])]]);
  const sim = simulate(p, targets, costs, 1_000_000);
  // Day 1: buy A 49,500 at 10 and B 24,750 at 20; commission 495 each.
  const buys = sim.fills.filter((f) => f.date === "2021-03-02");
  assert.deepEqual(buys.map((f) => [f.stock, f.side, f.shares, f.price, f.cost]), [["A", "buy", 49500, 10, 495], ["B", "buy", 24750, 20, 495]]);
  const cash1 = 1_000_000 - 990_000 - 990;
  assert.ok(Math.abs(sim.nav[0] - (cash1 + 49500 * 10 + 24750 * 20)) < 0.005);
  // Day 6: A is suspended (its sale is skipped), C at limit-up (its purchase skipped); B is trimmed.
  const value6 = cash1 + 49500 * 11 + 24750 * 22;
  const bShares = (0.495 * value6) / 22;
  const sold = 24750 - bShares;
  const day6 = sim.fills.filter((f) => f.date === "2021-03-07");
  assert.equal(day6.length, 1);
  assert.equal(day6[0].stock, "B");
  assert.ok(Math.abs(day6[0].shares - sold) < 1e-9 && Math.abs(day6[0].cost - sold * 22 * 0.002) < 0.005);
  assert.deepEqual(sim.blocked, { suspended: 1, limit_up: 1, limit_down: 0 });
  const cash6 = cash1 + sold * 22 * (1 - 0.002);
  assert.ok(Math.abs(sim.nav[sim.nav.length - 1] - (cash6 + 49500 * 12 + bShares * 22)) < 0.005, `${sim.nav.at(-1)}`);
  // The suspended day is marked at A's last close.
  assert.ok(Math.abs(sim.nav[5] - (cash6 + 49500 * 11 + bShares * 22)) < 0.005);
  assert.ok(Math.abs(sim.costsPaid - (990 + sold * 22 * 0.002)) < 0.005);
});

test("a perfect-foresight factor gives monotone group returns; a random factor gives spreads within noise", () => {
  const m = syntheticMarket({ ...SYNTHETIC_QUICK, stocks: 100 });
  const p = m.panel;
  const { fwd } = forwardReturns(p, 10);
  const S = p.stocks.length, D = p.calendar.length;
  const perfect = fwd.map((x) => x);
  for (let s = 0; s < S; s++) for (let d = 0; d < D; d++) if (Math.floor(d / 250) !== 1) perfect.set(s, d, NaN); // one year of signals
  const g = stratify(p, perfect, { groups: 5, every: 10, costs: { commission: 0.00002, stampDuty: 0.00015 } });
  for (let i = 0; i + 1 < 5; i++) assert.ok(g.annualExcess[i] > g.annualExcess[i + 1], `group ${i + 1} ${g.annualExcess[i]} vs ${g.annualExcess[i + 1]}`);
  assert.ok(g.annualExcess[0] > 0.5 && g.annualExcess[4] < -0.3, `G1 ${g.annualExcess[0]}, G5 ${g.annualExcess[4]}`);
  // Random factors: the spread between groups has mean about 0; tolerance: 4 standard errors over 10 seeds.
  const spreads: number[] = [];
  for (let seed = 0; seed < 10; seed++) {
    const rng = new Rng(seed);
    const rand = perfect.map((x) => (Number.isFinite(x) ? rng.normal() : NaN));
    const r = stratify(p, rand, { groups: 5, every: 10, costs: { commission: 0, stampDuty: 0 } });
    spreads.push(r.longShortAnnual);
  }
  const mean = spreads.reduce((a, b) => a + b) / spreads.length;
  const se = Math.sqrt(spreads.reduce((a, b) => a + (b - mean) ** 2, 0) / (spreads.length - 1) / spreads.length);
  assert.ok(Math.abs(mean) < 4 * se + 0.02, `random long-short ${mean} (se ${se})`);
});
