/**
 * Issue 15's corpus of bad and awkward bar files (test/fixtures/corpus, made by make.ts): each file
 * through `alphanet ingest` as a user runs it, with its documented outcome. Errors: exit 2 and one line
 * naming the file, the physical line and the column. Accepted files: data_quality.json accounts for
 * every physical line and every record, and the panel equals what a naive reader of the file (below,
 * written for this test: quotes, CRLF, BOM, blank lines, gzip, delimiters, GBK) keeps under the
 * documented rules. Then the truncation class on the shared A-share file: a bad close at four depths.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { gunzipSync, gzipSync } from "node:zlib";
import { DuckDBInstance } from "@duckdb/node-api";
import { loadBars, type LoadOptions } from "../../src/data/index.js";
import { PRESETS, type SourceColumn, marketOfCodes, normalizeCode } from "../../src/data/presets.js";
import { type Case, makeCorpus } from "../fixtures/corpus/make.js";
import { FIXTURES, SHARED, alphanet } from "../helpers.js";

const CORPUS = join(FIXTURES, "corpus");
const CASES: Case[] = JSON.parse(readFileSync(join(CORPUS, "cases.json"), "utf8"));
const fileOf = (c: Case): string => join(CORPUS, "files", c.file);

/** `alphanet ingest` on a file: exit code, the last line of stderr, and the quality report when written. */
function ingest(path: string, args: string[]): { code: number; message: string; quality: Quality | null; err: string } {
  const out = mkdtempSync(join(tmpdir(), "alphanet-corpus-"));
  try {
    const r = alphanet(["ingest", "--data", path, "--out", out, ...args]);
    const lines = r.err.trim().split("\n");
    let quality: Quality | null = null;
    try {
      quality = JSON.parse(readFileSync(join(out, "data_quality.json"), "utf8"));
    } catch {
      quality = null;
    }
    return { code: r.code, message: lines[lines.length - 1], quality, err: r.err };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

interface Quality {
  rowsIn: number;
  rowsKept: number;
  rowsDropped: Record<string, number>;
  rowsFlagged: Record<string, number>;
  cells: Record<string, number>;
  notes: string[];
  stocks: number;
  lines?: { physical: number; blank: number; quotedNewlines: number };
}

// ---------------------------------------------------------------------------------------------------
// The naive reader: text in, records with their first physical line out.

interface Text {
  header: string[];
  records: { fields: string[]; line: number }[];
  lines: { physical: number; blank: number; quotedNewlines: number };
}

function naiveText(path: string, encoding: "utf8" | "gbk"): Text {
  let bytes: Uint8Array = readFileSync(path);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
  // TextDecoder drops a leading UTF-8 BOM.
  const text = new TextDecoder(encoding === "gbk" ? "gbk" : "utf-8", { fatal: true }).decode(bytes);
  const first = text.slice(0, text.indexOf("\n") < 0 ? text.length : text.indexOf("\n"));
  const delim = /\.tsv(\.gz)?$/i.test(path) ? "\t" : first.includes(",") ? "," : first.includes("\t") ? "\t" : first.includes(";") ? ";" : ",";
  const records: { fields: string[]; line: number }[] = [];
  let fields: string[] = [];
  let field = "";
  let quoted = false;
  let sawQuote = false;
  let line = 1;
  let start = 1;
  let blank = 0;
  let quotedNewlines = 0;
  const end = (): void => {
    if (fields.length === 0 && field === "" && !sawQuote) blank++;
    else records.push({ fields: [...fields, field], line: start });
    fields = [];
    field = "";
    sawQuote = false;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else {
        if (ch === "\n") quotedNewlines++, line++;
        field += ch;
      }
    } else if (ch === '"') quoted = sawQuote = true;
    else if (ch === delim) fields.push(field), (field = "");
    else if (ch === "\r" && text[i + 1] === "\n") continue;
    else if (ch === "\n") {
      end();
      start = ++line;
    } else field += ch;
  }
  if (fields.length > 0 || field !== "" || sawQuote) end();
  const newlines = (text.match(/\n/g) ?? []).length;
  const physical = newlines + (text.length > 0 && !text.endsWith("\n") ? 1 : 0);
  // The header is a record like the others; blank lines before it do not occur in the corpus.
  const [head, ...data] = records;
  return { header: head.fields, records: data, lines: { physical, blank, quotedNewlines } };
}

/** A Parquet file's rows as text fields, dates as the market's (Shanghai) local date where the type is an instant. */
async function naiveParquet(path: string): Promise<Text> {
  const db = await DuckDBInstance.create(":memory:", { threads: "1" });
  const con = await db.connect();
  try {
    const src = `read_parquet('${path.replace(/'/g, "''")}')`;
    const types = (await con.runAndReadAll(`DESCRIBE SELECT * FROM ${src}`)).getRows().map((r) => [String(r[0]), String(r[1])] as const);
    const sel = types.map(([n, t]) => {
      const c = `"${n}"`;
      // Numbers as the double they are read as (a FLOAT 12.61 is 12.609999656677246).
      if (n !== "date") return n === "code" || t === "VARCHAR" ? `CAST(${c} AS VARCHAR)` : `CAST(CAST(${c} AS DOUBLE) AS VARCHAR)`;
      if (t === "DATE" || t === "INTEGER") return `CAST(${c} AS VARCHAR)`;
      if (t === "TIMESTAMP") return `CAST(CAST(${c} AS VARCHAR) AS VARCHAR)`;
      if (t === "TIMESTAMP WITH TIME ZONE") return `CAST(epoch_ms(${c}) AS VARCHAR)`;
      if (t === "BIGINT") return `CAST(${c} AS VARCHAR)`;
      throw new Error(`date type ${t}`);
    });
    const rows = (await con.runAndReadAll(`SELECT ${sel.join(", ")} FROM ${src}`)).getRows();
    const dateType = types.find(([n]) => n === "date")![1];
    const dateOf = (v: string): string => {
      if (dateType === "DATE") return v;
      if (dateType === "INTEGER") return v;
      if (dateType === "TIMESTAMP") return v.slice(0, 10);
      // An instant (epoch milliseconds): the Shanghai calendar date, UTC+8 all year.
      return new Date(Number(v) + 8 * 3600_000).toISOString().slice(0, 10);
    };
    const di = types.findIndex(([n]) => n === "date");
    return {
      header: types.map(([n]) => n),
      records: rows.map((r, k) => ({ fields: r.map((v, j) => (j === di ? dateOf(String(v)) : v === null ? "" : String(v))), line: k + 2 })),
      lines: { physical: -1, blank: 0, quotedNewlines: 0 },
    };
  } finally {
    con.closeSync();
    db.closeSync();
  }
}

const NA = new Set(["", "NaN", "nan", "NA", "N/A", "#N/A", "null", "NULL", "None"]);

function num(s: string): number {
  const t = s.trim();
  if (NA.has(t)) return NaN;
  if (/^[+-]?inf(inity)?$/i.test(t)) return t.startsWith("-") ? -Infinity : Infinity;
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return Number(t);
  throw new Error(`naive reader: "${s}" is not a number`);
}

function isoDate(s: string): string | null {
  const t = s.trim();
  if (NA.has(t)) return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(t) ?? /^(\d{4})(\d{2})(\d{2})$/.exec(t) ?? /^(\d{4})\/(\d{2})\/(\d{2})$/.exec(t);
  if (!m) throw new Error(`naive reader: "${s}" is not a date`);
  const iso = `${m[1]}-${m[2]}-${m[3]}`;
  if (new Date(`${iso}T00:00:00Z`).toISOString().slice(0, 10) !== iso) throw new Error(`naive reader: "${s}" is no such day`);
  return iso;
}

interface Bar { open: number; high: number; low: number; close: number; volume: number }

/** What the documented rules keep of a file's records, and the counts by reason. */
function reference(t: Text, c: Case) {
  const arg = (flag: string): string | undefined => (c.args.includes(flag) ? c.args[c.args.indexOf(flag) + 1] : undefined);
  const preset = PRESETS[arg("--preset") ?? "canonical"];
  const idx = new Map<SourceColumn, number>();
  for (const [canon, src] of Object.entries(preset.columns) as [SourceColumn, string][]) if (t.header.includes(src)) idx.set(canon, t.header.indexOf(src));
  const raw = (r: string[], f: SourceColumn): string => (idx.has(f) ? r[idx.get(f)!] ?? "" : "");
  const value = (r: string[], f: SourceColumn): number => (idx.has(f) ? num(raw(r, f)) * (preset.scale[f] ?? 1) : NaN);
  const codeOf = (r: string[]): string | null => (NA.has(raw(r, "code").trim()) ? null : raw(r, "code").trim());
  const codes = new Set(t.records.map((r) => codeOf(r.fields)).filter((x): x is string => x !== null));
  const m = arg("--market");
  const market = m === "cn" || m === "us" || m === "other" ? m : marketOfCodes(codes);
  const pad = c.args.includes("--pad-codes");
  const kept = new Map<string, Map<string, Bar>>();
  const dated = new Set<string>();
  const dropped: Record<string, number> = {};
  const flagged: Record<string, number> = {};
  const bump = (b: Record<string, number>, k: string): void => void (b[k] = (b[k] ?? 0) + 1);
  for (const { fields: r } of t.records) {
    const date = isoDate(raw(r, "date"));
    const rawCode = codeOf(r);
    if (date) dated.add(date);
    if (date === null || rawCode === null) {
      bump(dropped, "missing_key");
      continue;
    }
    const n = normalizeCode(rawCode, market, pad);
    if ("error" in n) throw new Error(`naive reader: ${n.error}`);
    const byDate = kept.get(n.code) ?? kept.set(n.code, new Map()).get(n.code)!;
    if (byDate.has(date)) {
      bump(dropped, "duplicate_key");
      continue;
    }
    const [o, h, l, cl] = (["open", "high", "low", "close"] as const).map((f) => value(r, f));
    const volume = value(r, "volume");
    const amount = value(r, "amount");
    if (![o, h, l, cl].every(Number.isFinite)) {
      bump(dropped, "missing_price");
      continue;
    }
    if (o <= 0 || h <= 0 || l <= 0 || cl <= 0) {
      bump(dropped, "non_positive_price");
      continue;
    }
    if (volume < 0 || amount < 0) {
      bump(dropped, "negative_volume");
      continue;
    }
    let high = h, low = l;
    if (h < Math.max(o, cl, l) || l > Math.min(o, cl, h)) {
      bump(flagged, "high_low_inconsistent");
      high = Math.max(o, h, l, cl);
      low = Math.min(o, high, l, cl);
    }
    if (volume === 0) bump(flagged, "zero_volume");
    if (Math.abs(volume) === Infinity) bump(flagged, "non_finite_value");
    byDate.set(date, { open: o, high, low, close: cl, volume: Number.isFinite(volume) ? volume : NaN });
  }
  const rowsKept = [...kept.values()].reduce((a, m) => a + m.size, 0);
  return { kept, dated, dropped, flagged, rowsKept, market };
}

/** The physical line of the first value in a column that the documented rules cannot read. */
function firstBad(t: Text, column: string, c: Case): number {
  const k = t.header.indexOf(column);
  assert.ok(k >= 0, `no column ${column}`);
  const pad = c.args.includes("--pad-codes");
  const codes = t.records.map((r) => (r.fields[k] ?? "").trim()).filter((v) => !NA.has(v));
  const market = marketOfCodes(new Set(codes));
  for (const { fields, line } of t.records) {
    const v = fields[k] ?? "";
    try {
      if (column === "code" || column === "ts_code") {
        if (!NA.has(v.trim()) && "error" in normalizeCode(v, market, pad)) return line;
      } else if (column === "date" || column === "trade_date") isoDate(v);
      else num(v);
    } catch {
      return line;
    }
  }
  return -1;
}

const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);
const nonZero = (r: Record<string, number> | undefined): Record<string, number> => Object.fromEntries(Object.entries(r ?? {}).filter(([, v]) => v !== 0));
const same = (a: number, b: number): boolean => (Number.isNaN(a) && Number.isNaN(b)) || a === b || Math.abs(a - b) <= 1e-12 * Math.abs(b);

function loadOptions(c: Case): LoadOptions {
  const arg = (flag: string): string | undefined => (c.args.includes(flag) ? c.args[c.args.indexOf(flag) + 1] : undefined);
  return {
    preset: arg("--preset"), market: arg("--market") as LoadOptions["market"], encoding: arg("--encoding") as LoadOptions["encoding"],
    padCodes: c.args.includes("--pad-codes"),
  };
}

test("the committed corpus is what make.ts writes (nothing hand-edited), and it has at least 60 files", async () => {
  assert.ok(CASES.length >= 60, `${CASES.length} cases`);
  const dir = mkdtempSync(join(tmpdir(), "alphanet-corpus-make-"));
  try {
    const fresh = await makeCorpus(dir);
    assert.deepEqual(fresh, CASES);
    const files = readdirSync(join(CORPUS, "files")).sort();
    assert.deepEqual(files, CASES.map((c) => c.file).sort(), "every file has a case and every case a file");
    for (const f of files) assert.ok(readFileSync(join(dir, "files", f)).equals(readFileSync(join(CORPUS, "files", f))), `${f} differs from make.ts's`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const c of CASES) {
  test(`corpus ${c.file} ${c.args.join(" ")}: ${c.what}`, async () => {
    const r = ingest(fileOf(c), c.args);
    if (c.exit === 2) {
      const q = r.quality;
      assert.equal(r.code, 2, `exit ${r.code}, expected 2: ${r.message}${q ? ` (rowsIn ${q.rowsIn}, kept ${q.rowsKept}, stocks ${q.stocks})` : ""}`);
      assert.ok(!/\n\s+at /.test(r.err), `a stack trace:\n${r.err}`);
      // Where the manifest names a line and a column, the naive reader finds the file's first bad value there.
      const line = (c.error ?? []).map((re) => /^, line (\d+)/.exec(re)).find((m) => m)?.[1];
      const column = (c.error ?? []).map((re) => /^column "(.+)"$/.exec(re)).find((m) => m)?.[1];
      if (line && column && !c.file.endsWith(".parquet")) assert.equal(firstBad(naiveText(fileOf(c), "utf8"), column, c), Number(line), "the naive reader's first bad value");
      const missing = ["^alphanet: ", ...(c.error ?? [])].filter((re) => !new RegExp(re).test(r.message));
      assert.deepEqual(missing, [], `the message ${JSON.stringify(r.message)} does not match ${missing.map((m) => `/${m}/`).join(" ")}`);
      return;
    }
    assert.equal(r.code, 0, `exit ${r.code}: ${r.message}`);
    // Every check runs and every failure is reported together: one case shows all that is wrong with it.
    const problems: string[] = [];
    const eq = (actual: unknown, expected: unknown, what: string): void => {
      if (!isDeepStrictEqual(actual, expected)) problems.push(`${what}: ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
    };
    const q = r.quality!;
    const parquet = c.file.endsWith(".parquet");
    const t = parquet ? await naiveParquet(fileOf(c)) : naiveText(fileOf(c), c.encoding ?? "utf8");
    // The reference itself agrees with what the generator wrote.
    assert.equal(t.records.length, c.rows, "the naive reader's records = the generator's rows");
    if (!parquet) {
      assert.deepEqual(t.lines, c.lines, "the naive reader's line counts = the generator's");
      assert.equal(t.lines.physical, 1 + t.records.length + t.lines.blank + t.lines.quotedNewlines);
    }
    const ref = reference(t, c);
    assert.deepEqual(ref.dropped, c.dropped, "the naive reference's drops = the manifest's");
    assert.deepEqual([...ref.kept.keys()].sort(), c.stocks, "the naive reference's stocks = the manifest's");
    // (a) rows in = the file's data records; (b) every physical line accounted for.
    eq(q.rowsIn, t.records.length, "rowsIn (the file's data records)");
    if (!parquet) eq(q.lines, t.lines, "data_quality.json lines");
    // (c) rows in = kept + dropped, and the counts by reason.
    eq(q.rowsIn, q.rowsKept + sum(q.rowsDropped), "rowsIn = rowsKept + sum(rowsDropped)");
    eq(nonZero(q.rowsDropped), ref.dropped, "rowsDropped");
    eq(q.rowsKept, ref.rowsKept, "rowsKept");
    for (const k of ["high_low_inconsistent", "zero_volume", "non_finite_value"]) {
      eq(q.rowsFlagged[k] ?? 0, ref.flagged[k] ?? 0, `rowsFlagged.${k}`);
      if (c.flagged) eq(q.rowsFlagged[k] ?? 0, c.flagged[k] ?? 0, `rowsFlagged.${k} (manifest)`);
    }
    for (const re of c.notes ?? []) if (!q.notes.some((n) => new RegExp(re, "i").test(n))) problems.push(`no note matching /${re}/i in ${JSON.stringify(q.notes)}`);
    // (d) the panel equals the naive reference.
    const { panel } = await loadBars(fileOf(c), loadOptions(c));
    eq(panel.stocks, c.stocks, "panel stocks");
    eq(q.stocks, panel.stocks.length, "quality stocks");
    const cal = new Set(panel.calendar);
    for (const m of ref.kept.values()) for (const d of m.keys()) if (!cal.has(d)) problems.push(`kept date ${d} is not in the calendar`);
    for (const d of panel.calendar) if (!ref.dated.has(d)) problems.push(`calendar date ${d} is no date of the file`);
    const D = panel.calendar.length;
    let gaps = 0;
    const wrong: string[] = [];
    panel.stocks.forEach((s, i) => {
      const mine = ref.kept.get(s) ?? new Map<string, Bar>();
      const idx = panel.calendar.map((d, k) => (mine.has(d) ? k : -1)).filter((k) => k >= 0);
      if (idx.length) gaps += idx[idx.length - 1] - idx[0] + 1 - idx.length;
      panel.calendar.forEach((d, k) => {
        const bar = mine.get(d);
        if (!bar) {
          if (!Number.isNaN(panel.fields.close![i * D + k])) wrong.push(`${s} ${d}: close ${panel.fields.close![i * D + k]} where no row is kept`);
          return;
        }
        for (const f of ["open", "high", "low", "close", "volume"] as const)
          if (!same(panel.fields[f]![i * D + k], bar[f])) wrong.push(`${s} ${d} ${f}: ${panel.fields[f]![i * D + k]}, expected ${bar[f]}`);
      });
    });
    if (wrong.length) problems.push(`${wrong.length} panel values differ from the naive reference, e.g. ${wrong.slice(0, 3).join("; ")}`);
    eq(q.cells.gap ?? 0, gaps, "gap cells (naive reference on the panel's calendar)");
    if (c.gaps !== undefined) eq(gaps, c.gaps, "gap cells (manifest)");
    assert.deepEqual(problems, [], problems.join("\n"));
  });
}

// ---------------------------------------------------------------------------------------------------
// The truncation class: one bad close deep in the shared A-share file.

const ASHARE = join(SHARED, "data/ashare-2017-2019.csv.gz");
const ASHARE_ROWS = 460_869;

/** The shared file with the close of each given physical line replaced; gzip, as the original. */
function withCloses(text: Buffer, lines: number[], close: string, path: string): void {
  const starts = [0];
  for (let i = text.indexOf(10); i >= 0 && i < text.length - 1; i = text.indexOf(10, i + 1)) starts.push(i + 1);
  const last = starts.length;
  const parts: Buffer[] = [];
  let from = 0;
  for (const n of [...lines].map((l) => (l < 0 ? last : l)).sort((a, b) => a - b)) {
    const s = starts[n - 1];
    const e = text.indexOf(10, s) < 0 ? text.length : text.indexOf(10, s);
    const f = text.subarray(s, e).toString("utf8").split(",");
    f[5] = close;
    parts.push(text.subarray(from, s), Buffer.from(f.join(","), "utf8"));
    from = e;
  }
  parts.push(text.subarray(from));
  writeFileSync(path, gzipSync(Buffer.concat(parts), { level: 1 }));
}

test("truncation class: a '-' close at line 2, 10,000, 300,000 and the last line stops with that line, every time", () => {
  const text = gunzipSync(readFileSync(ASHARE));
  const lastLine = ASHARE_ROWS + 1;
  const dir = mkdtempSync(join(tmpdir(), "alphanet-truncation-"));
  const problems: string[] = [];
  try {
    for (const line of [2, 10_000, 300_000, lastLine]) {
      const path = join(dir, `ashare-dash-at-${line}.csv.gz`);
      withCloses(text, [line], "-", path);
      for (let run = 0; run < 3; run++) {
        const r = ingest(path, []);
        const want = new RegExp(`ashare-dash-at-${line}\\.csv\\.gz, line ${line}, column "close": cannot parse "-" as a number \\(close\\)`);
        if (r.code !== 2 || !want.test(r.message))
          problems.push(`line ${line}, run ${run + 1}: exit ${r.code}, ${r.code === 0 ? `rowsIn ${r.quality?.rowsIn}, stocks ${r.quality?.stocks}` : r.message}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(problems, [], problems.join("\n"));
});

test("truncation class: empty closes at the same four lines are counted as missing_price, all 460,869 rows in, every time", () => {
  const text = gunzipSync(readFileSync(ASHARE));
  const dir = mkdtempSync(join(tmpdir(), "alphanet-truncation-"));
  try {
    const path = join(dir, "ashare-empty-closes.csv.gz");
    withCloses(text, [2, 10_000, 300_000, -1], "", path);
    for (let run = 0; run < 3; run++) {
      const r = ingest(path, []);
      assert.equal(r.code, 0, `run ${run + 1}: exit ${r.code} (${r.message})`);
      const q = r.quality!;
      assert.equal(q.rowsIn, ASHARE_ROWS);
      assert.deepEqual(nonZero(q.rowsDropped), { missing_price: 4 });
      assert.equal(q.rowsKept, ASHARE_ROWS - 4);
      assert.equal(q.stocks, 772);
      if (q.lines) assert.deepEqual(q.lines, { physical: ASHARE_ROWS + 1, blank: 0, quotedNewlines: 0 });
      else assert.fail("data_quality.json has no lines");
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
