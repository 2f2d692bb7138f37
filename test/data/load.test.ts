import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { DuckDBInstance } from "@duckdb/node-api";
import { DataError, type Panel, countFlag, loadBars, syntheticMarket } from "../../src/data/index.js";
import { FIXTURES, SHARED } from "../helpers.js";

const SP500 = join(SHARED, "data/sp500-2013-2018.csv.gz");
const ASHARE = join(SHARED, "data/ashare-2017-2019.csv.gz");
const ASHARE_STOCKS = join(SHARED, "data/ashare-2017-2019-stocks.csv");

/** Gaps counted the naive way: per stock, calendar dates between its first and last row, less its rows. */
function naiveGaps(path: string): { rows: number; gaps: number } {
  const lines = gunzipSync(readFileSync(path)).toString("utf8").trim().split("\n").slice(1);
  const dates = new Set<string>();
  const byStock = new Map<string, Set<string>>();
  for (const l of lines) {
    const [d, c] = l.split(",");
    dates.add(d);
    (byStock.get(c) ?? byStock.set(c, new Set()).get(c)!).add(d);
  }
  const cal = [...dates].sort();
  let gaps = 0;
  for (const ds of byStock.values()) {
    const sorted = [...ds].sort();
    const a = cal.indexOf(sorted[0]);
    const b = cal.indexOf(sorted[sorted.length - 1]);
    gaps += b - a + 1 - ds.size;
  }
  return { rows: lines.length, gaps };
}

test("S&P 500 file: its 12 high/low violations and 60 gaps are found, and every row is accounted for", async () => {
  const { panel, quality } = await loadBars(SP500, { priceBasis: "split-adjusted" });
  assert.equal(quality.rowsIn, 619029);
  assert.equal(quality.rowsFlagged.high_low_inconsistent, 12);
  assert.ok(quality.examples.high_low_inconsistent.some((e) => e.includes("CHD 2014-05-19")));
  assert.equal(quality.cells.gap, 60);
  assert.equal(quality.cells.gap, naiveGaps(SP500).gaps);
  assert.ok(quality.examples.extreme_move.some((e) => e.startsWith("DISCA 2014-08-07")), "the DISCA split is flagged");
  const dropped = Object.values(quality.rowsDropped).reduce((a, b) => a + b, 0);
  assert.equal(quality.rowsIn, quality.rowsKept + dropped);
  assert.equal(panel.stocks.length, 505);
  assert.equal(panel.market, "us");
  // The repaired rows are consistent.
  const { high, low, open, close } = panel.fields;
  for (let k = 0; k < high!.length; k++) {
    if (!Number.isFinite(close![k])) continue;
    assert.ok(high![k] >= Math.max(open![k], close![k]) && low![k] <= Math.min(open![k], close![k]));
  }
});

test("A-share file: loads with its instruments; gaps equal a naive count; caps and turnover are derived", async () => {
  const { panel, quality } = await loadBars(ASHARE, {
    instruments: { path: ASHARE_STOCKS, map: { total_shares_10k: "total_shares" }, scale: { total_shares: 1e4 } },
  });
  const naive = naiveGaps(ASHARE);
  assert.equal(quality.rowsIn, naive.rows);
  assert.equal(quality.rowsKept + Object.values(quality.rowsDropped).reduce((a, b) => a + b, 0), quality.rowsIn);
  assert.equal(quality.cells.gap, naive.gaps);
  assert.equal(panel.market, "cn");
  assert.equal(panel.stocks.length, 772);
  // One stock has no industry in either file (SH600747 is blank in both); the report says so.
  assert.deepEqual(panel.stocks.filter((_, i) => panel.industry[i] === null), ["SH600747"]);
  assert.match(quality.notes.join(), /1 stock\(s\) without an industry: SH600747/);
  assert.ok(quality.derived.some((d) => d.field === "market_cap") && quality.derived.some((d) => d.field === "vwap"));
  assert.ok(quality.cells.limit_up > 0 && quality.cells.limit_down > 0);
});

const BROKEN: Record<string, { error?: RegExp; dropped?: Record<string, number>; flagged?: Record<string, number> }> = {
  "empty.csv": { error: /empty\.csv: empty file/ },
  "header_only.csv": { error: /header_only\.csv: no data rows/ },
  "missing_column.csv": { error: /missing_column\.csv: missing required column\(s\) "volume"/ },
  "wrong_types.csv": { error: /wrong_types\.csv, line 3, column "close": cannot parse "abc" as a number/ },
  "bad_date.csv": { error: /bad_date\.csv, line 3, column "date": cannot parse date "2019-13-45"/ },
  "duplicate_keys.csv": { dropped: { duplicate_key: 1 } },
  "unsorted.csv": { dropped: {} },
  "bom.csv": { dropped: {} },
  "crlf.csv": { dropped: {} },
  "quoted_commas.csv": { dropped: {} },
  "nan_inf.csv": { dropped: { missing_price: 1 }, flagged: { non_finite_value: 1 } },
  "negative_price.csv": { dropped: { non_positive_price: 2 } },
  // A file cut off mid-line (an interrupted copy) stops: its last row is not padded with missing values.
  "truncated.csv": { error: /truncated\.csv, line 4: the last line is cut off/ },
};

for (const [file, want] of Object.entries(BROKEN)) {
  test(`broken input ${file}: ${want.error ? "a DataError naming the file" : "its documented outcome"}`, async () => {
    const path = join(FIXTURES, "broken", file);
    if (want.error) {
      await assert.rejects(loadBars(path), (e: Error) => e instanceof DataError && want.error!.test(e.message));
      return;
    }
    const { quality } = await loadBars(path);
    assert.deepEqual(quality.rowsDropped, want.dropped);
    if (want.flagged) assert.deepEqual(quality.rowsFlagged, want.flagged);
    assert.equal(quality.rowsKept + Object.values(quality.rowsDropped).reduce((a, b) => a + b, 0), quality.rowsIn);
  });
}

test("unsorted, BOM and CRLF files load to the same panel as the sorted file", async () => {
  const ref = (await loadBars(join(FIXTURES, "broken", "sorted.csv"))).panel;
  for (const f of ["unsorted.csv", "bom.csv", "crlf.csv"]) {
    const { panel, quality } = await loadBars(join(FIXTURES, "broken", f));
    assert.deepEqual(panel.calendar, ref.calendar, f);
    assert.deepEqual(panel.stocks, ref.stocks, f);
    assert.deepEqual([...panel.fields.close!], [...ref.fields.close!], f);
    assert.deepEqual(panel.industry, ref.industry, f);
    if (f === "unsorted.csv") assert.match(quality.notes.join(), /not sorted/);
  }
  const q = (await loadBars(join(FIXTURES, "broken", "quoted_commas.csv"))).panel;
  assert.deepEqual(q.industry, ["Banks, regional"]);
});

test("bad mappings say what to fix", async () => {
  const path = join(FIXTURES, "broken", "sorted.csv");
  await assert.rejects(loadBars(path, { map: { nosuch: "close" } }), /--map nosuch=close: the file has no column "nosuch"/);
  await assert.rejects(loadBars(path, { map: { close: "closing" } }), /"closing" is not a field/);
  await assert.rejects(loadBars(path, { preset: "bloomberg" }), /unknown preset "bloomberg"/);
  await assert.rejects(loadBars(join(FIXTURES, "broken", "nosuch.csv")), /nosuch\.csv: no such file/);
});

/** Writes a few stocks of a synthetic market in Tushare's, AKShare's and Baostock's own columns and units. */
function writeVendorFiles(p: Panel, dir: string): { tushare: string; akshare: string; baostock: string } {
  const D = p.calendar.length;
  const F = p.fields;
  const ts = ["ts_code,trade_date,open,high,low,close,vol,amount,turnover_rate"];
  const ak = ["日期,股票代码,开盘,收盘,最高,最低,成交量,成交额,换手率"];
  const bs = ["date,code,open,high,low,close,preclose,volume,amount,adjustflag,turn,tradestatus,pctChg,isST"];
  for (let s = 0; s < 8; s++) {
    const code = p.stocks[s];
    for (let d = 0; d < 40; d++) {
      const k = s * D + d;
      if (!Number.isFinite(F.close![k]) || F.volume![k] === 0) continue;
      const [o, h, l, c, v, a, t] = [F.open, F.high, F.low, F.close, F.volume, F.amount, F.turnover].map((x) => x![k]);
      ts.push(`${code.slice(2)}.${code.slice(0, 2)},${p.calendar[d].replace(/-/g, "")},${o},${h},${l},${c},${v / 100},${a / 1000},${t * 100}`);
      ak.push(`${p.calendar[d]},${code.slice(2)},${o},${c},${h},${l},${v / 100},${a},${t * 100}`);
      // Baostock: sh.600000, volume in shares, amount in CNY, turnover in percent, 0/1 flags.
      const pc = d > 0 && Number.isFinite(F.close![k - 1]) ? F.close![k - 1] : "";
      bs.push(`${p.calendar[d]},${code.slice(0, 2).toLowerCase()}.${code.slice(2)},${o},${h},${l},${c},${pc},${v},${a},3,${t * 100},1,,` +
        `${p.flags.is_st![k]}`);
    }
  }
  const tushare = join(dir, "tushare.csv");
  const akshare = join(dir, "akshare.csv");
  writeFileSync(tushare, ts.join("\n") + "\n");
  writeFileSync(akshare, ak.join("\n") + "\n");
  const baostock = join(dir, "baostock.csv");
  writeFileSync(baostock, bs.join("\n") + "\n");
  return { tushare, akshare, baostock };
}

test("Tushare, AKShare and Baostock files of the same numbers in their own units load to the same panel", async () => {
  const m = syntheticMarket({ stocks: 12, start: "2019-01-01", end: "2019-04-01", seed: 3 });
  // An ST spell over days 5-14 for a written stock that trades on them, so that Baostock's isST has ones.
  const D0 = m.panel.calendar.length;
  const traded = (k: number): boolean => Number.isFinite(m.panel.fields.close![k]) && m.panel.fields.volume![k] > 0;
  const spell = [0, 1, 2, 3, 4, 5, 6, 7].find((s) => [5, 6, 7, 8, 9, 10, 11, 12, 13, 14].every((d) => traded(s * D0 + d)))!;
  for (let d = 5; d < 15; d++) m.panel.flags.is_st![spell * D0 + d] = 1;
  const files = writeVendorFiles(m.panel, mkdtempSync(join(tmpdir(), "alphanet-vendor-")));
  const a = await loadBars(files.tushare, { preset: "tushare" });
  assert.ok(a.quality.conversions.some((c) => c.field === "volume" && c.factor === 100));
  for (const [name, other] of [["akshare", files.akshare], ["baostock", files.baostock]] as const) {
    const b = await loadBars(other, { preset: name });
    assert.deepEqual(a.panel.stocks, b.panel.stocks, name);
    assert.deepEqual(a.panel.calendar, b.panel.calendar, name);
    for (const f of ["open", "high", "low", "close", "volume", "amount", "turnover", "vwap"] as const) {
      const x = a.panel.fields[f]!;
      const y = b.panel.fields[f]!;
      for (let k = 0; k < x.length; k++) {
        if (Number.isNaN(x[k])) assert.ok(Number.isNaN(y[k]), `${name} ${f}[${k}]`);
        else assert.ok(Math.abs(x[k] - y[k]) <= 1e-9 * Math.abs(x[k]), `${name} ${f}[${k}]: ${x[k]} vs ${y[k]}`);
      }
    }
    assert.deepEqual(b.panel.flags.is_suspended, a.panel.flags.is_suspended, name);
    if (name === "akshare") assert.deepEqual(b.panel.flags, a.panel.flags);
  }
  // Baostock's isST column is read (Tushare's daily has none: no stock is ST there), cell for cell.
  const b = await loadBars(files.baostock, { preset: "baostock" });
  assert.ok(b.quality.conversions.some((c) => c.field === "turnover" && c.factor === 0.01));
  const D = b.panel.calendar.length;
  let st = 0;
  b.panel.stocks.forEach((code, s) => b.panel.calendar.forEach((date, d) => {
    if (!Number.isFinite(b.panel.fields.close![s * D + d])) return;
    const k0 = m.panel.stocks.indexOf(code) * D0 + m.panel.calendar.indexOf(date);
    assert.equal(b.panel.flags.is_st![s * D + d], m.panel.flags.is_st![k0], `${code} ${date}`);
    st += b.panel.flags.is_st![s * D + d];
  }));
  assert.equal(countFlag(a.panel.flags.is_st), 0);
  // and in canonical units: volume in shares, as the generator made it
  const s = a.panel.stocks.indexOf(m.panel.stocks[0]);
  const d = a.panel.calendar.indexOf(m.panel.calendar[5]);
  const orig = m.panel.fields.volume![5];
  if (orig > 0) assert.ok(Math.abs(a.panel.fields.volume![s * a.panel.calendar.length + d] - orig) < 1e-6);
  assert.ok(st >= 10, `${st} ST cells read, 10 written in the spell`);
});

test("CSV, gzip CSV, TSV and Parquet of the same bars, sorted by stock or by date, load to one panel that equals a naive pivot", async () => {
  const lines = gunzipSync(readFileSync(SP500)).toString("utf8").trim().split("\n");
  const header = lines[0];
  const body = lines.slice(1, 12001); // the first stocks (the file is sorted by stock)
  const dir = mkdtempSync(join(tmpdir(), "alphanet-formats-"));
  const byDate = [...body].sort((a, b) => (a.slice(0, 10) < b.slice(0, 10) ? -1 : a.slice(0, 10) > b.slice(0, 10) ? 1 : 0));
  const files: Record<string, string> = {
    csv: join(dir, "bars.csv"), gz: join(dir, "bars.csv.gz"), tsv: join(dir, "bars.tsv"),
    byDate: join(dir, "by-date.csv"), parquet: join(dir, "bars.parquet"),
  };
  writeFileSync(files.csv, [header, ...body].join("\n") + "\n");
  writeFileSync(files.gz, gzipSync([header, ...body].join("\n") + "\n"));
  writeFileSync(files.tsv, [header, ...body].map((l) => l.replaceAll(",", "\t")).join("\n") + "\n");
  writeFileSync(files.byDate, [header, ...byDate].join("\n") + "\n");
  const db = await DuckDBInstance.create(":memory:");
  const con = await db.connect();
  await con.run(`COPY (SELECT * FROM read_csv('${files.csv}', header=true)) TO '${files.parquet}' (FORMAT parquet)`);
  con.closeSync();
  // The reference: close prices pivoted by a loop over the lines.
  const cal = [...new Set(body.map((l) => l.split(",")[0]))].sort();
  const codes = [...new Set(body.map((l) => l.split(",")[1]))].sort();
  const close = new Float64Array(codes.length * cal.length).fill(NaN);
  for (const l of body) {
    const [d, c, , , , cl] = l.split(",");
    close[codes.indexOf(c) * cal.length + cal.indexOf(d)] = Number(cl);
  }
  for (const [kind, path] of Object.entries(files)) {
    const { panel, quality } = await loadBars(path);
    assert.equal(quality.rowsIn, body.length, kind);
    assert.deepEqual(panel.calendar, cal, kind);
    assert.deepEqual(panel.stocks, codes, kind);
    assert.deepEqual([...panel.fields.close!], [...close], kind);
    if (kind === "byDate") assert.ok(!quality.notes.some((n) => n.includes("not sorted")), "sorted by date is sorted");
  }
});

test("a value the typed reader cannot convert past the first row still stops with its line and column", async () => {
  const dir = mkdtempSync(join(tmpdir(), "alphanet-late-bad-"));
  const rows = ["trade_date,ts_code,open,high,low,close,vol"];
  for (let i = 1; i <= 3000; i++) rows.push(`2019${String(1 + (i % 12)).padStart(2, "0")}${String(1 + (i % 28)).padStart(2, "0")},S${i % 50},10,11,9,10.5,100`);
  rows[2500] = "2019-13-45,S1,10,11,9,10.5,100"; // line 2501 of the file
  const path = join(dir, "late.csv");
  writeFileSync(path, rows.join("\n") + "\n");
  await assert.rejects(loadBars(path, { preset: "tushare" }), (e: unknown) =>
    e instanceof DataError && /line 2501/.test(e.message) && /trade_date/.test(e.message) && /2019-13-45/.test(e.message));
  rows[2500] = "20190301,S1,10,11,9,ten,100";
  writeFileSync(path, rows.join("\n") + "\n");
  await assert.rejects(loadBars(path, { preset: "tushare" }), (e: unknown) =>
    e instanceof DataError && /line 2501/.test(e.message) && /close/.test(e.message) && /"ten"/.test(e.message));
});
