import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng, SYNTHETIC_QUICK, syntheticMarket } from "../../src/data/index.js";
import { type RebalanceProblem, DEFAULT_ENHANCE, PAPER_COSTS, constraintViolation, enhanceIndex, solveRebalance } from "../../src/evaluate/index.js";
import { styleExposures } from "../../src/risk/index.js";

function randomProblem(rng: Rng, n: number, tight: boolean, withPrev: boolean): RebalanceProblem {
  const I = 2 + rng.int(8);
  const bench = Array.from({ length: n }, () => (rng.uniform() < 0.6 ? rng.uniform() : 0));
  const tot = bench.reduce((a, b) => a + b, 0);
  let prev: number[] | null = null;
  if (withPrev) {
    const p = Array.from({ length: n }, () => (rng.uniform() < 0.3 ? rng.uniform() : 0));
    const pt = p.reduce((a, b) => a + b, 0);
    prev = p.map((x) => x / pt);
  }
  return {
    score: Array.from({ length: n }, () => rng.normal()), industry: Array.from({ length: n }, () => rng.int(I)),
    size: Array.from({ length: n }, () => rng.normal()), bench: bench.map((b) => b / tot), prev,
    maxWeight: tight ? Math.max(1.5 / n, 0.02) : 0.05, industryTolerance: tight ? 0.002 : 0.02, sizeTolerance: tight ? 0.02 : 0.2,
    maxTurnover: tight ? 0.05 : 0.3,
  };
}

test("every rebalance satisfies its constraints on random inputs, also when they are tight and turnover binds", async () => {
  const rng = new Rng(11);
  let relaxed = 0, binding = 0;
  for (let trial = 0; trial < 40; trial++) {
    const p = randomProblem(rng, 60 + rng.int(100), trial % 2 === 1, trial % 4 >= 2);
    const sol = await solveRebalance(p);
    const v = constraintViolation(p, sol.weights);
    if (sol.status === "optimal") assert.ok(v < 1e-6, `trial ${trial}: violation ${v}`);
    else relaxed++;
    // Independent checks of each constraint.
    const w = sol.weights;
    assert.ok(Math.abs(w.reduce((a, b) => a + b, 0) - 1) < 1e-6);
    assert.ok(w.every((x) => x >= -1e-9 && x <= p.maxWeight + 1e-9));
    if (sol.status === "optimal" && p.prev) {
      const turn = w.reduce((a, x, i) => a + Math.abs(x - p.prev![i]), 0) / 2;
      assert.ok(turn <= p.maxTurnover + 1e-6);
      if (turn > p.maxTurnover - 1e-6) binding++;
    }
  }
  assert.ok(binding > 0, "the turnover limit binds in some trials");
  assert.ok(relaxed < 40);
});

test("the enhanced portfolio on the synthetic market meets its constraints at every rebalance", async () => {
  const m = syntheticMarket({ ...SYNTHETIC_QUICK, stocks: 80 });
  const styles = styleExposures(m.panel);
  const D = m.panel.calendar.length;
  const factor = m.oracle.map((x, k) => ((k % D) >= 300 ? x : NaN));
  const r = await enhanceIndex(m.panel, factor, styles.values[styles.names.indexOf("size")], { ...DEFAULT_ENHANCE, maxWeight: 0.05, costs: PAPER_COSTS });
  assert.ok(r.rebalances > 10);
  assert.ok(r.maxConstraintViolation < 1e-6 || r.relaxed > 0, `violation ${r.maxConstraintViolation}`);
  assert.ok(r.byYear.length >= 1 && r.byYear.every((y) => Number.isFinite(y.excess_return) && y.holdings > 0));
  assert.equal(r.nav.length, r.benchmark.length);
});
