/** Grid: a stock x date array, stock-major, read and written by (stock, date) or through its flat index. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { type Panel, Grid, fieldGrid, grid, gridOf, panelGrid } from "../../src/data/index.js";

test("at, set, index and row agree with the flat stock-major index s * dates + d", () => {
  const S = 3, D = 5;
  const values = Float64Array.from({ length: S * D }, (_, k) => k * 1.5);
  const g = gridOf(values, S, D);
  assert.ok(g instanceof Grid);
  assert.equal(g.values, values, "not copied");
  assert.deepEqual([g.stocks, g.dates], [S, D]);
  for (let s = 0; s < S; s++) for (let d = 0; d < D; d++) {
    assert.equal(g.index(s, d), s * D + d);
    assert.equal(g.at(s, d), values[s * D + d]);
  }
  g.set(2, 3, -7);
  assert.equal(values[2 * D + 3], -7);
  const row = g.row(1);
  assert.deepEqual([...row], [...values.subarray(D, 2 * D)]);
  row[4] = 99;
  assert.equal(g.at(1, 4), 99, "a row is a view");
  const twice = g.map((x, k) => (k === 0 ? NaN : 2 * x));
  assert.deepEqual([twice.stocks, twice.dates], [S, D]);
  assert.ok(Number.isNaN(twice.at(0, 0)) && twice.at(2, 3) === -14 && g.at(0, 0) === 0, "map makes a new grid");
});

test("grid fills; a length that is not stocks x dates throws", () => {
  assert.deepEqual([...grid(2, 2, 0).values], [0, 0, 0, 0]);
  assert.ok(grid(2, 3).values.every(Number.isNaN));
  assert.throws(() => gridOf(new Float64Array(7), 2, 3), /2 stocks x 3 dates needs 6 values, not 7/);
  assert.throws(() => new Grid(new Float64Array(6), 3, 3), /needs 9 values/);
});

test("fieldGrid wraps a panel field without copying; panelGrid has the panel's shape", () => {
  const close = Float64Array.from({ length: 6 }, (_, k) => k);
  const p = { calendar: ["2020-01-02", "2020-01-03", "2020-01-06"], stocks: ["A", "B"], fields: { close } } as unknown as Panel;
  const g = fieldGrid(p, "close");
  assert.equal(g.values, close);
  assert.equal(g.at(1, 2), 5);
  assert.deepEqual([panelGrid(p).stocks, panelGrid(p).dates], [2, 3]);
  assert.throws(() => fieldGrid(p, "open"), /no field "open"/);
});
