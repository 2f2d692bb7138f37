/** Factor files read as bar files are: missing tokens, duplicates, physical lines, code forms, nothing silently lost. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { DataError, type Grid, MISSING_TOKENS, type Panel, gridOf, loadBars, readFactorFile, syntheticMarket } from "../../src/data/index.js";
import { groupWeights, stratify } from "../../src/evaluate/index.js";

const dir = mkdtempSync(join(tmpdir(), "alphanet-factor-"));
let files = 0;
/** Writes lines (joined with \n, a final newline) to a new file in the temp dir. */
function write(lines: string[], ext = ".csv"): string {
  const path = join(dir, `f${files++}${ext}`);
  writeFileSync(path, lines.join("\n") + "\n");
  return path;
}

const STOCKS = ["SH600000", "SH601398", "SZ000001", "SZ000002", "SZ300750"];
const DATES = ["2019-01-02", "2019-01-03", "2019-01-04", "2019-01-07", "2019-01-08", "2019-01-09"];

/** A small A-share panel loaded from a bar file, as the CLI loads its --data. */
async function smallPanel(): Promise<Panel> {
  const rows = ["date,code,open,high,low,close,volume,amount"];
  STOCKS.forEach((c, s) => DATES.forEach((d, t) => {
    const px = 10 + s + 0.1 * t;
    rows.push(`${d},${c},${px},${px + 0.2},${px - 0.2},${px + 0.05},${1000 * (s + 1)},${1000 * (s + 1) * px}`);
  }));
  const { panel } = await loadBars(write(rows));
  assert.deepEqual(panel.stocks, STOCKS);
  assert.deepEqual(panel.calendar, DATES);
  return panel;
}
const panelP = smallPanel();

/** The cell of the factor at (code, date), by the panel's own lists. */
const cell = (p: Panel, f: Grid, code: string, date: string): number => {
  assert.deepEqual([f.stocks, f.dates], [p.stocks.length, p.calendar.length]);
  return f.at(p.stocks.indexOf(code), p.calendar.indexOf(date));
};
const finiteCells = (f: Grid): number => f.values.reduce((k, v) => k + (Number.isFinite(v) ? 1 : 0), 0);
const sumDropped = (d: Record<string, number>): number => Object.values(d).reduce((a, b) => a + b, 0);

async function dataError(p: Promise<unknown>): Promise<DataError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof DataError, `expected a DataError, got ${(e as Error).stack}`);
    return e;
  }
  assert.fail("expected a DataError, but the file was read");
}

test("missing-value tokens are missing (not 0), every other number is the cell's value, and the rows add up", async () => {
  const p = await panelP;
  const lines = ["date,code,factor"];
  const want = new Map<string, number>();
  let k = 0;
  // One token per cell; quoted and spaced forms too; then numbers in the remaining cells.
  for (const c of STOCKS) for (const d of DATES) {
    if (k < MISSING_TOKENS.length) lines.push(`${d},${c},${MISSING_TOKENS[k]}`);
    else if (k === MISSING_TOKENS.length) lines.push(`${d},${c}," NA "`);
    else if (k === MISSING_TOKENS.length + 1) lines.push(`${d},${c}`); // a short row: its value is missing too
    else {
      const v = k % 5 === 0 ? 0 : (k % 7) - 3 + k / 100; // a real 0 stays 0
      lines.push(`${d},${c},${v}`);
      want.set(`${c} ${d}`, v);
    }
    k++;
  }
  assert.ok([...want.values()].includes(0));
  const { factor, accounting } = await readFactorFile(write(lines), p);
  const tokens = MISSING_TOKENS.length + 2;
  assert.equal(accounting.rowsIn, STOCKS.length * DATES.length);
  assert.equal(accounting.dropped.missing_value, tokens);
  assert.equal(accounting.matched, want.size);
  assert.equal(accounting.rowsIn, accounting.matched + sumDropped(accounting.dropped));
  assert.equal(finiteCells(factor), want.size);
  for (const c of STOCKS) for (const d of DATES) {
    const v = cell(p, factor, c, d);
    const w = want.get(`${c} ${d}`);
    if (w === undefined) assert.ok(Number.isNaN(v), `${c} ${d}: ${v}, expected missing`);
    else assert.equal(v, w, `${c} ${d}`);
  }
  assert.equal(accounting.examples.missing_value?.[0], `line 2: ${DATES[0]},${STOCKS[0]},`);
  assert.deepEqual(accounting.lines, { physical: lines.length, blank: 0, quotedNewlines: 0 });
});

test("codes in any A-share form and dates as YYYYMMDD or YYYY/MM/DD match the data; duplicates keep the first; other rows are counted by reason", async () => {
  const p = await panelP;
  const lines = [
    "date,code,factor",
    "20190102,600000.SH,1.5", // line 2
    "2019/01/03,sh.600000,2.5",
    "2019-01-04,600000,3.5",
    "20190102,000001.SZ,-1",
    "2019-01-02,SH600000,99", // line 6: the same stock and date as line 2, another form: a duplicate
    "2019-01-02,SZ000001,98", // line 7: a duplicate of line 5
    "2019-01-05,SH600000,4", // a Saturday: no such trading date
    "2019-02-01,SH600000,4", // after the data
    "2019-01-07,SH600004,4", // not a stock of the data
    ",SH600000,4",
    "2019-01-07,,4",
    "2019-01-08,SZ300750,inf",
    "2019-01-09,sz300750,0.25",
  ];
  const { factor, accounting } = await readFactorFile(write(lines), p);
  assert.equal(cell(p, factor, "SH600000", "2019-01-02"), 1.5);
  assert.equal(cell(p, factor, "SH600000", "2019-01-03"), 2.5);
  assert.equal(cell(p, factor, "SH600000", "2019-01-04"), 3.5);
  assert.equal(cell(p, factor, "SZ000001", "2019-01-02"), -1);
  assert.equal(cell(p, factor, "SZ300750", "2019-01-09"), 0.25);
  assert.ok(Number.isNaN(cell(p, factor, "SZ300750", "2019-01-08")));
  assert.equal(finiteCells(factor), 5);
  assert.deepEqual(accounting.dropped, { missing_key: 2, unknown_date: 2, unknown_code: 1, duplicate_key: 2, missing_value: 0, infinite_value: 1 });
  assert.equal(accounting.matched, 5);
  assert.equal(accounting.rowsIn, lines.length - 1);
  assert.deepEqual(accounting.examples.duplicate_key, ["line 6: 2019-01-02,SH600000,99", "line 7: 2019-01-02,SZ000001,98"]);
  assert.deepEqual(accounting.examples.unknown_code, ["line 10: 2019-01-07,SH600004,4"]);
  assert.deepEqual(accounting.dates, { first: "2019-01-02", last: "2019-02-01" });
  // The same file gzipped (and named without .gz) reads the same.
  const gz = join(dir, "same-gzip.csv");
  writeFileSync(gz, gzipSync(readFileSync(write(lines))));
  const again = await readFactorFile(gz, p);
  assert.deepEqual(again.accounting.dropped, accounting.dropped);
  assert.deepEqual([...again.factor.values].map(String), [...factor.values].map(String));
});

test("another column name for the factor: the one column besides date and code, or the one named", async () => {
  const p = await panelP;
  const one = await readFactorFile(write(["date,code,momentum_20", "2019-01-02,SH600000,0.5"]), p);
  assert.equal(one.accounting.column, "momentum_20");
  assert.equal(cell(p, one.factor, "SH600000", "2019-01-02"), 0.5);
  const two = write(["date,code,a,b", "2019-01-02,SH600000,0.5,7"]);
  const e = await dataError(readFactorFile(two, p));
  assert.match(e.message, /line 1: expected a column named factor, or exactly one column besides date and code; the header is date,code,a,b/);
  assert.equal(cell(p, (await readFactorFile(two, p, { column: "b" })).factor, "SH600000", "2019-01-02"), 7);
  const e2 = await dataError(readFactorFile(write(["day,ticker,factor", "2019-01-02,SH600000,1"]), p));
  assert.match(e2.message, /expected the columns date,code,factor/);
});

test("an unparsable number stops with its physical line and column: after blank lines and quoted newlines, and 10,000 lines deep", async () => {
  const p = await panelP;
  // After a blank line: record 3 is on line 4.
  let e = await dataError(readFactorFile(write(["date,code,factor", "2019-01-02,SH600000,1", "", "2019-01-03,SH600000,1,5"]), p));
  assert.equal(e.line, 4);
  e = await dataError(readFactorFile(write(["date,code,factor", "2019-01-02,SH600000,1", "", "2019-01-03,SH600000,x1"]), p));
  assert.equal(e.message, `${e.file}, line 4, column "factor": cannot parse "x1" as a number (the factor; missing values may be empty or ` +
    "NaN, nan, NA, N/A, #N/A, null, NULL, None)");
  // A quoted name spanning three lines: the bad value two records later is on line 6, not 4.
  const quoted = ["date,code,name,factor", '2019-01-02,SH600000,"Shanghai', "Pudong", 'Bank",1', "2019-01-03,SH600000,SPDB,2", "2019-01-04,SH600000,SPDB,-"];
  e = await dataError(readFactorFile(write(quoted), p));
  assert.equal(e.line, 6);
  assert.equal(e.column, "factor");
  assert.match(e.reason, /cannot parse "-" as a number/);
  // The same file with a good last value: three quoted lines, 3 records, 6 physical lines.
  const good = await readFactorFile(write([...quoted.slice(0, -1), "2019-01-04,SH600000,SPDB,3"]), p);
  assert.deepEqual(good.accounting.lines, { physical: 6, blank: 0, quotedNewlines: 2 });
  assert.equal(good.accounting.rowsIn, 3);
  assert.equal(cell(p, good.factor, "SH600000", "2019-01-02"), 1);

  // Deep: 12,000 rows with blank lines every 1,000 rows, a quoted newline near the top, the bad value
  // on the line the test counts itself.
  const deep = ["date,code,name,factor"];
  let badLine = -1;
  for (let i = 0; i < 12000; i++) {
    if (i > 0 && i % 1000 === 0) deep.push("");
    const d = DATES[i % DATES.length], c = STOCKS[Math.floor(i / DATES.length) % STOCKS.length];
    if (i === 5) deep.push(`${d},${c},"two`, `lines",${i}`);
    else if (i === 10500) {
      deep.push(`${d},${c},x,1e-3e`);
      badLine = deep.length; // 1-based: the line just written
    } else deep.push(`${d},${c},x,${i / 10}`);
  }
  assert.ok(badLine > 10000);
  e = await dataError(readFactorFile(write(deep), p));
  assert.equal(e.line, badLine);
  assert.equal(readFileSync(e.file, "utf8").split("\n")[badLine - 1], `${DATES[10500 % 6]},${STOCKS[Math.floor(10500 / 6) % 5]},x,1e-3e`);
  assert.match(e.reason, /cannot parse "1e-3e" as a number/);
  // Without the bad value: every row accounted for, duplicates first kept.
  deep[badLine - 1] = deep[badLine - 1].replace("1e-3e", "1");
  const all = await readFactorFile(write(deep), p);
  const a = all.accounting;
  assert.equal(a.rowsIn, 12000);
  assert.deepEqual(a.lines, { physical: deep.length, blank: 11, quotedNewlines: 1 });
  assert.equal(a.matched, STOCKS.length * DATES.length);
  assert.equal(a.dropped.duplicate_key, 12000 - STOCKS.length * DATES.length);
  assert.equal(cell(p, all.factor, STOCKS[0], DATES[0]), 0); // row 0, the first of its key
  assert.equal(cell(p, all.factor, STOCKS[0], DATES[1]), 0.1);
});

test("bad dates and codes stop at their line; nothing matching says why", async () => {
  const p = await panelP;
  let e = await dataError(readFactorFile(write(["date,code,factor", "2019-01-02,SH600000,1", "02/01/2019,SH600000,1"]), p));
  assert.equal(e.line, 3);
  assert.equal(e.column, "date");
  assert.match(e.reason, /cannot parse date "02\/01\/2019": expected YYYY-MM-DD, YYYYMMDD or YYYY\/MM\/DD/);
  e = await dataError(readFactorFile(write(["date,code,factor", "2019-01-02,SH600000,1", "2019-01-02,1,1"]), p));
  assert.equal(e.line, 3);
  assert.equal(e.column, "code");
  assert.match(e.reason, /lost its leading zeros/);
  const padded = await readFactorFile(write(["date,code,factor", "2019-01-02,1,4"]), p, { padCodes: true });
  assert.equal(cell(p, padded.factor, "SZ000001", "2019-01-02"), 4);
  // Dates outside the data.
  e = await dataError(readFactorFile(write(["date,code,factor", "2020-03-02,SH600000,1", "2020-03-03,SZ000001,2"]), p));
  assert.match(e.message, /no row of the factor matches the data \(2 rows: 2 unknown_date\)/);
  assert.match(e.message, /the factor's dates span 2020-03-02\.\.2020-03-03, the data's 2019-01-02\.\.2019-01-09/);
  // Codes not in the data.
  e = await dataError(readFactorFile(write(["date,code,factor", "2019-01-02,SH600519,1", "2019-01-03,000858.SZ,2"]), p));
  assert.match(e.message, /no code of the factor is a stock of the data: the factor's codes are e\.g\. 000858\.SZ, SH600519, the data's SH600000/);
  // Every matching row without a value.
  e = await dataError(readFactorFile(write(["date,code,factor", "2019-01-02,SH600000,NA", "2019-01-03,SH600000,"]), p));
  assert.match(e.message, /every row that matches a date and a stock of the data has no usable value/);
  e = await dataError(readFactorFile(write(["date,code,factor"]), p));
  assert.match(e.message, /no data rows after the header/);
});

test("the file's form: a byte-order mark, CRLF, semicolons, a line of spaces, no final newline; a quote never closed; a workbook or UTF-16", async () => {
  const p = await panelP;
  const path = join(dir, "form.csv");
  // Lines: 1 header, 2 row, 3 empty (CRLF only), 4 spaces (a record without a key), 5 row; no newline at the end.
  writeFileSync(path, "\uFEFFdate;code;factor\r\n2019-01-02;SH600000;1.25\r\n\r\n   \r\n2019-01-03;SZ000001;-2");
  const { factor, accounting } = await readFactorFile(path, p);
  assert.deepEqual(accounting.lines, { physical: 5, blank: 1, quotedNewlines: 0 });
  assert.equal(accounting.rowsIn, 3);
  assert.equal(accounting.matched, 2);
  assert.equal(accounting.dropped.missing_key, 1);
  assert.deepEqual(accounting.examples.missing_key, ["line 4: ,,"]);
  assert.equal(cell(p, factor, "SH600000", "2019-01-02"), 1.25);
  assert.equal(cell(p, factor, "SZ000001", "2019-01-03"), -2);
  let e = await dataError(readFactorFile(write(["date,code,factor", "2019-01-02,SH600000,1", '2019-01-03,"SH600000,2', "2019-01-04,SH600000,3"]), p));
  assert.equal(e.line, 3);
  assert.match(e.reason, /opened on this line is never closed/);
  const xlsx = join(dir, "book.xlsx");
  writeFileSync(xlsx, Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00]));
  e = await dataError(readFactorFile(xlsx, p));
  assert.match(e.reason, /Excel workbook, not a CSV/);
  const utf16 = join(dir, "unicode.txt");
  writeFileSync(utf16, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("date,code,factor\n", "utf16le")]));
  e = await dataError(readFactorFile(utf16, p));
  assert.match(e.reason, /UTF-16.*UTF-8/);
});

test("gzip cut short and non-UTF-8 text are named", async () => {
  const p = await panelP;
  const rows = ["date,code,factor", ...Array.from({ length: 3000 }, (_, i) => `2019-01-02,SH600000,${i}`)];
  const whole = gzipSync(Buffer.from(rows.join("\n")));
  const cut = join(dir, "cut.csv.gz");
  writeFileSync(cut, whole.subarray(0, whole.length >> 1));
  assert.match((await dataError(readFactorFile(cut, p))).message, /cut\.csv\.gz: truncated gzip/);
  const gbk = join(dir, "gbk.csv");
  writeFileSync(gbk, Buffer.concat([Buffer.from("date,code,factor\n2019-01-02,SH600000,1\n2019-01-03,SH600000,"), Buffer.from([0xc4, 0xe3]), Buffer.from("\n")]));
  const e = await dataError(readFactorFile(gbk, p));
  assert.equal(e.line, 3);
  assert.match(e.reason, /not UTF-8/);
});

test("tied values share a group; a date whose values cannot fill the groups gets none", () => {
  const S = 10, D = 1;
  // No ties: floor(rank * G / n), highest first.
  const distinct = Float64Array.from({ length: S }, (_, s) => (s * 7) % 10);
  const g = groupWeights(gridOf(distinct, S, D), 0, 5)!;
  for (let s = 0; s < S; s++) {
    const rank = 9 - distinct[s];
    assert.ok(g[Math.floor(rank / 2)].has(s), `stock ${s} (rank ${rank})`);
  }
  // Ties: 4 stocks share 5.0 at ranks 3..6 (middle 4.5): all in group floor(4.5 * 5 / 10) = 2 (0-based).
  const tied = Float64Array.from([9, 8, 7, 5, 5, 5, 5, 2, 1, 0]);
  const t = groupWeights(gridOf(tied, S, D), 0, 5)!;
  assert.deepEqual(t.map((m) => [...m.keys()].sort((a, b) => a - b)), [[0, 1], [2], [3, 4, 5, 6], [7], [8, 9]]);
  // The same values in another stock order: the same groups of values.
  const perm = [9, 3, 0, 7, 5, 1, 8, 2, 6, 4];
  const shuffled = Float64Array.from(perm, (i) => tied[i]);
  const u = groupWeights(gridOf(shuffled, S, D), 0, 5)!;
  assert.deepEqual(u.map((m) => [...m.keys()].map((s) => shuffled[s]).sort()), t.map((m) => [...m.keys()].map((s) => tied[s]).sort()));
  assert.equal(groupWeights(gridOf(new Float64Array(S).fill(3), S, D), 0, 5), null, "constant");
  assert.equal(groupWeights(gridOf(Float64Array.from({ length: S }, (_, s) => s % 2), S, D), 0, 5), null, "two values for five groups");
  assert.ok(groupWeights(gridOf(Float64Array.from({ length: S }, (_, s) => s % 2), S, D), 0, 2), "two values for two groups");
});

test("a constant factor has no groups and no long-short return; a varying one has both", () => {
  const m = syntheticMarket({ seed: 5, stocks: 40, start: "2019-01-01", end: "2019-12-31", industries: 4, indexSize: 10, targetIC: 0.1, horizon: 10 });
  const p = m.panel, S = p.stocks.length, D = p.calendar.length;
  const constant = gridOf(new Float64Array(S * D).fill(1), S, D);
  const costs = { commission: 0.00002, stampDuty: 0.00015 };
  const c = stratify(p, constant, { groups: 5, every: 10, costs });
  assert.ok(Number.isNaN(c.longShortAnnual));
  assert.ok(c.annualExcess.every(Number.isNaN));
  assert.equal(c.ungrouped.length, Math.ceil(D / 10));
  // Constant on some dates only: those dates are left out, the others traded.
  const partly = m.oracle.map((x) => x);
  for (let s = 0; s < S; s++) for (let d = 0; d < 100; d++) partly.set(s, d, 1);
  const r = stratify(p, partly, { groups: 5, every: 10, costs });
  assert.equal(r.ungrouped.length, 10);
  assert.equal(r.ungrouped[0], p.calendar[0]);
  assert.ok(Number.isFinite(r.longShortAnnual) && r.longShortAnnual !== 0);
  assert.equal(r.dates[0], p.calendar[101]); // the first trade: the day after the first grouped date (100)
});
