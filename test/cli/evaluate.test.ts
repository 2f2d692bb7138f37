/** `alphanet evaluate --factor F --data D` as a user meets it: a bad factor file ends with exit 2 and its line. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { syntheticMarket } from "../../src/data/index.js";
import { alphanet, writeBars } from "../helpers.js";

const dir = mkdtempSync(join(tmpdir(), "alphanet-evaluate-"));
const m = syntheticMarket({ seed: 2, stocks: 30, start: "2019-01-01", end: "2019-08-31", industries: 3, indexSize: 10, targetIC: 0.1, horizon: 10 });
const p = m.panel, S = p.stocks.length, D = p.calendar.length;
const bars = writeBars(p, join(dir, "bars.csv"));
/** A factor file in the other common forms (600000.SH codes, YYYYMMDD dates) with value(s, d) per cell. */
function factorFile(name: string, value: (s: number, d: number) => string): string {
  const lines = ["date,code,factor"];
  for (let d = 0; d < D; d++) for (let s = 0; s < S; s++)
    lines.push(`${p.calendar[d].replace(/-/g, "")},${p.stocks[s].slice(2)}.${p.stocks[s].slice(0, 2)},${value(s, d)}`);
  const path = join(dir, name);
  writeFileSync(path, lines.join("\n") + "\n");
  return path;
}
const lastLine = (err: string): string => err.trim().split("\n").pop()!;

test("evaluate: an unparsable factor value ends with exit 2 naming its line and column; nothing matching says why", () => {
  assert.ok(D > 150);
  // Cell (s = 3, d = 150) is record 150 * S + 3, on line 150 * S + 3 + 2.
  const bad = factorFile("bad.csv", (s, d) => (s === 3 && d === 150 ? '"1,5"' : String(m.oracle.at(s, d))));
  const r = alphanet(["evaluate", "--factor", bad, "--data", bars]);
  assert.equal(r.code, 2, r.err);
  assert.equal(lastLine(r.err), `alphanet: ${bad}, line ${150 * S + 5}, column "factor": cannot parse "1,5" as a number ` +
    "(the factor; missing values may be empty or NaN, nan, NA, N/A, #N/A, null, NULL, None)");
  const other = join(dir, "other.csv");
  writeFileSync(other, "date,code,factor\n2024-01-02,SH600000,1\n2024-01-03,SH600000,2\n");
  const r2 = alphanet(["evaluate", "--factor", other, "--data", bars]);
  assert.equal(r2.code, 2, r2.err);
  assert.match(lastLine(r2.err), new RegExp(`^alphanet: ${other}: no row of the factor matches the data \\(2 rows: 2 unknown_date\\): ` +
    `no date of the factor is a trading date of the data: the factor's dates span 2024-01-02\\.\\.2024-01-03, the data's ${p.calendar[0]}\\.\\.${p.calendar[D - 1]}`));
});

test("evaluate: the factor's rows are accounted for; a constant factor has no groups and no long-short return", () => {
  const constant = factorFile("constant.csv", (s, d) => (s === 0 && d === 0 ? "NA" : "1"));
  const r = alphanet(["evaluate", "--factor", constant, "--data", bars]);
  assert.equal(r.code, 0, r.err);
  const out = JSON.parse(r.out);
  assert.equal(out.long_short_annual, null);
  assert.ok(out.group_annual_excess.every((v: unknown) => v === null));
  assert.equal(out.rebalance_dates_without_groups.count, Math.ceil(D / 10));
  assert.equal(out.factor_rows.rowsIn, S * D);
  assert.equal(out.factor_rows.matched, S * D - 1);
  assert.equal(out.factor_rows.dropped.missing_value, 1);
  assert.deepEqual(out.factor_rows.examples.missing_value, [`line 2: ${p.calendar[0].replace(/-/g, "")},${p.stocks[0].slice(2)}.${p.stocks[0].slice(0, 2)},NA`]);
  // The oracle, as the same file form: every cell matched and a long-short return measured.
  const oracle = factorFile("oracle.csv", (s, d) => (Number.isFinite(m.oracle.at(s, d)) ? String(m.oracle.at(s, d)) : ""));
  const o = JSON.parse(alphanet(["evaluate", "--factor", oracle, "--data", bars]).out);
  assert.equal(o.factor_rows.matched + o.factor_rows.dropped.missing_value, S * D);
  assert.ok(o.long_short_annual > 0, `oracle long-short ${o.long_short_annual}`);
  assert.ok(o.ic.rankIc.mean > 0.05, `oracle rank IC ${o.ic.rankIc.mean}`);
});
