/** A factor's whole evaluation (evaluateFactor) and the tables made from it (icTable, significanceTables, drawdowns). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { SYNTHETIC_QUICK, fieldGrid, syntheticMarket } from "../../src/data/index.js";
import { forwardReturns } from "../../src/dataset/index.js";
import {
  DEFAULT_ENHANCE, PAPER_COSTS, type Significance, drawdownSeries, enhanceIndex, evaluateFactor, icColumn, icDecay, icTable, icTest,
  maxDrawdown, significanceTables, stratify, styleExposure,
} from "../../src/evaluate/index.js";
import { styleExposures } from "../../src/risk/index.js";

test("drawdowns: each date's NAV below its running peak; the largest is maxDrawdown", () => {
  const nav = [1, 1.2, 0.9, 1.0, 1.3, 1.17];
  const dd = drawdownSeries(nav);
  const want = [0, 0, 0.9 / 1.2 - 1, 1.0 / 1.2 - 1, 0, 1.17 / 1.3 - 1];
  dd.forEach((x, i) => assert.ok(Math.abs(x - want[i]) < 1e-15, `date ${i}: ${x} vs ${want[i]}`));
  assert.equal(maxDrawdown(nav), -Math.min(...dd));
  assert.equal(maxDrawdown([1, 2, 3]), 0);
});

test("significance tables: the mean |weight| of each operator and window (NaN where none), inputs largest first", () => {
  const f = (operator: string, window: number, value: number): Significance["features"][number] =>
    ({ feature: 0, operator, inputs: ["close"], window, value });
  const sig: Significance = {
    features: [f("corr", 10, 1), f("corr", 10, 3), f("std", 10, 5), f("corr", 20, 7)],
    byOperator: {}, byInput: { close: 0.2, div_volume: 0.5, open: 0.1 }, byWindow: {},
  };
  const t = significanceTables(sig);
  assert.deepEqual(t.operators, ["corr", "std"]);
  assert.deepEqual(t.windows, ["10", "20"]);
  assert.deepEqual(t.grid, [[2, 7], [5, NaN]]);
  assert.deepEqual(t.byInput, [{ input: "div_volume", value: 0.5 }, { input: "close", value: 0.2 }, { input: "open", value: 0.1 }]);
});

test("evaluateFactor: the IC test, decay, groups, style exposure, enhancement with its drawdown and the factor beside, as each piece computes them", async () => {
  const m = syntheticMarket({ ...SYNTHETIC_QUICK, stocks: 60 });
  const p = m.panel, D = p.calendar.length;
  const factor = m.oracle.map((x, k) => ((k % D) >= 400 ? x : NaN));
  const beside = factor.map((x) => -x);
  const { fwd } = forwardReturns(p, 10);
  const styles = styleExposures(p);
  const enhance = { ...DEFAULT_ENHANCE, index: Object.keys(p.indexWeights)[0] };
  const o = { every: 10, groups: 5, costs: PAPER_COSTS };
  const ev = await evaluateFactor(p, factor, { forward: fwd, styles },
    { ...o, decay: [1, 10], enhance, beside: { factor: beside, label: "raw" } });
  assert.deepEqual(ev.ic, icTest(factor, fwd, p.calendar, 10));
  assert.deepEqual(ev.decay, icDecay(factor, fieldGrid(p, "vwap"), [1, 10], 10));
  assert.deepEqual(ev.groups, stratify(p, factor, o));
  assert.deepEqual(ev.styleExposure, styleExposure(factor, styles, 10));
  const e = await enhanceIndex(p, factor, styles.values[styles.names.indexOf("size")], { ...enhance, ...o });
  assert.ok(ev.enhancement && e.dates.length > 5);
  assert.deepEqual({ ...ev.enhancement, excessDrawdown: undefined }, { ...e, excessDrawdown: undefined });
  assert.deepEqual(ev.enhancement.excessDrawdown, drawdownSeries(e.nav.map((v, i) => v / e.benchmark[i])));
  const b = icTest(beside, fwd, p.calendar, 10).summary;
  assert.deepEqual(ev.neutral, { ic: b.ic.mean, rankIc: b.rankIc.mean, styleExposure: styleExposure(beside, styles, 10), label: "raw" });
  assert.equal(ev.significance, null);
  // Without styles, decay horizons or enhancement settings (`alphanet evaluate`): those parts are empty.
  const bare = await evaluateFactor(p, factor, { forward: fwd }, o);
  assert.deepEqual([bare.decay, bare.enhancement, bare.styleExposure, bare.neutral], [[], null, {}, undefined]);
  assert.deepEqual(bare.ic, ev.ic);
  // Table 1-1 of the two: its columns are the CSV's, its values the IC test's summary.
  const t = icTable([{ name: "a", ic: ev.ic }, { name: "b", ic: icTest(beside, fwd, p.calendar, 10) }]);
  assert.deepEqual(t.columns.map((c) => c.key), ["ic_mean", "ic_std", "ir", "rank_ic_mean", "rank_ic_std", "rank_ir", "ic_t", "ic_positive"]);
  assert.deepEqual(t.rows.map((r) => r.name), ["a", "b"]);
  const s = ev.ic.summary;
  assert.deepEqual(t.rows[0].values, [s.ic.mean, s.ic.std, s.ic.ir, s.rankIc.mean, s.rankIc.std, s.rankIc.ir, s.ic.t, s.ic.positive]);
  assert.deepEqual(icColumn(t, "rank_ic_mean"), [s.rankIc.mean, b.rankIc.mean]);
});
