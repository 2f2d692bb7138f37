import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng, SYNTHETIC_QUICK, fieldGrid, forwardIC, gridOf, syntheticMarket } from "../../src/data/index.js";
import { icTest } from "../../src/evaluate/index.js";
import { forwardReturns } from "../../src/dataset/index.js";

test("IC and rank IC equal an independent computation on random data", () => {
  const rng = new Rng(5);
  const S = 60, D = 45;
  const cal = Array.from({ length: D }, (_, d) => `2020-01-${String(d + 1).padStart(2, "0")}`.replace(/-(\d\d)$/, (m, x) => (Number(x) > 28 ? `-${x}` : m)));
  const factor = Float64Array.from({ length: S * D }, () => (rng.uniform() < 0.1 ? NaN : rng.normal()));
  const ret = Float64Array.from(factor, (f) => (Number.isFinite(f) ? 0.3 * f + rng.normal() : rng.normal()));
  const t = icTest(gridOf(factor, S, D), gridOf(ret, S, D), cal, 10);
  assert.deepEqual(t.dates, [cal[0], cal[10], cal[20], cal[30], cal[40]]);
  t.dates.forEach((_, i) => {
    const d = i * 10;
    const xs: number[] = [], ys: number[] = [];
    for (let s = 0; s < S; s++) if (Number.isFinite(factor[s * D + d])) { xs.push(factor[s * D + d]); ys.push(ret[s * D + d]); }
    const n = xs.length;
    const mx = xs.reduce((a, b) => a + b) / n, my = ys.reduce((a, b) => a + b) / n;
    const cov = xs.reduce((a, x, j) => a + (x - mx) * (ys[j] - my), 0);
    const ic = cov / Math.sqrt(xs.reduce((a, x) => a + (x - mx) ** 2, 0) * ys.reduce((a, y) => a + (y - my) ** 2, 0));
    assert.ok(Math.abs(t.ic[i] - ic) < 1e-12);
    // Spearman without ties: 1 - 6 sum d^2 / (n (n^2 - 1))
    const rank = (v: number[]): number[] => { const o = v.map((_, j) => j).sort((a, b) => v[a] - v[b]); const r = new Array(n); o.forEach((j, k) => (r[j] = k + 1)); return r; };
    const rx = rank(xs), ry = rank(ys);
    const rho = 1 - (6 * rx.reduce((a, r, j) => a + (r - ry[j]) ** 2, 0)) / (n * (n * n - 1));
    assert.ok(Math.abs(t.rankIc[i] - rho) < 1e-12);
  });
  const m = t.ic.reduce((a, b) => a + b) / t.ic.length;
  const sd = Math.sqrt(t.ic.reduce((a, b) => a + (b - m) ** 2, 0) / (t.ic.length - 1));
  assert.ok(Math.abs(t.summary.ic.mean - m) < 1e-12 && Math.abs(t.summary.ic.ir - m / sd) < 1e-12);
  assert.ok(Math.abs(t.summary.ic.t - (m / sd) * Math.sqrt(5)) < 1e-12);
});

test("on synthetic data the oracle factor reaches its configured IC", () => {
  const m = syntheticMarket(SYNTHETIC_QUICK);
  const { fwd } = forwardReturns(m.panel, 10);
  const t = icTest(m.oracle, fwd, m.panel.calendar, 10);
  assert.ok(Math.abs(t.summary.ic.mean - forwardIC(m.oracle, fieldGrid(m.panel, "vwap"), 10, 10)) < 0.01);
  assert.ok(t.summary.ic.mean > 0.5 * SYNTHETIC_QUICK.targetIC && t.summary.ic.mean < 1.5 * SYNTHETIC_QUICK.targetIC, `IC ${t.summary.ic.mean}`);
});
