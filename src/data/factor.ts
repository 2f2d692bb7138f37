/**
 * Reading a factor file (date, code, factor) onto a loaded panel, with the rigour of a bar file:
 * the file is read through DuckDB as text and parsed by us, so that a bad value is named by its
 * physical line and column; missing-value tokens are missing (never 0); codes go through the data's
 * own normaliser (a 600000.SH factor matches SH600000 data); every row is accounted for, by reason.
 *
 * The file's records are also counted by a scan of our own (quotes, blank lines, quoted newlines),
 * which gives each record its physical line; the count DuckDB returns must equal it.
 */
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import type { Panel } from "./panel.js";
import { normalizeCode } from "./presets.js";
import { DataError } from "./quality.js";
import { dateExpr } from "./read.js";

export interface FactorOptions {
  /** The factor's column (default: "factor", else the one column besides the date and the code). */
  column?: string;
  /** Pad A-share codes that lost their leading zeros (1 -> 000001) instead of stopping, as the data's --pad-codes. */
  padCodes?: boolean;
}

/** Why a factor row is not in the factor, in the order the reasons are judged. */
export const FACTOR_DROP_REASONS = ["missing_key", "unknown_date", "unknown_code", "duplicate_key", "missing_value", "infinite_value"] as const;
export type FactorDropReason = (typeof FACTOR_DROP_REASONS)[number];

/** What became of every row of a factor file: rowsIn = matched + the sum of dropped. */
export interface FactorAccounting {
  source: string;
  /** The column read as the factor. */
  column: string;
  rowsIn: number;
  /** Rows whose value is now a cell of the factor. */
  matched: number;
  /**
   * Rows left out, by reason: missing_key (no date or no code), unknown_date (not a trading date of
   * the data), unknown_code (not a stock of the data), duplicate_key (a later row of a (date, code)
   * already given: the first is kept, whatever its value), missing_value (empty or NaN, NA, N/A, #N/A,
   * null, NULL, None), infinite_value (inf: no rank or return can use it).
   */
  dropped: Record<FactorDropReason, number>;
  /** A few rows per reason: `line N: date,code,value` as the file has them. */
  examples: Partial<Record<FactorDropReason, string[]>>;
  /** physical = 1 (header) + rowsIn + blank + quotedNewlines. */
  lines: { physical: number; blank: number; quotedNewlines: number };
  /** The span of the factor's parsed dates (null: none). */
  dates: { first: string | null; last: string | null };
}

/** Values that mean "no value", as spreadsheets and pandas write them. */
export const MISSING_TOKENS = ["", "NaN", "nan", "NA", "N/A", "#N/A", "null", "NULL", "None"];

const q = (s: string): string => `'${s.replace(/'/g, "''")}'`;
const ident = (s: string): string => `"${s.replace(/"/g, '""')}"`;
const EXAMPLES = 5;

/** The file's records as our own scan finds them: the physical line of each, and the line counts. */
interface Scan {
  header: string[];
  delimiter: string;
  gzip: boolean;
  /** Physical line (1-based) on which data record i starts. */
  recordLine: Int32Array;
  lines: FactorAccounting["lines"];
}

/**
 * Decodes the file (gzip by its magic bytes, UTF-8 only) and walks it once: a record ends at a
 * newline outside quotes; an empty line is blank (DuckDB skips it too; a line of spaces is a record).
 */
function scanFile(path: string): Scan {
  let bytes: Buffer = readFileSync(path);
  const gzip = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
  if (gzip) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      // A cut-off copy shows as an unexpected end; anything else is damage inside the stream.
      const msg = (e as Error).message;
      if (/unexpected end/i.test(msg)) throw new DataError(path, "truncated gzip: the file ends before its compressed data does (copy it again)");
      throw new DataError(path, `corrupt gzip: ${msg} (copy the file again)`);
    }
  }
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))
    throw new DataError(path, "the file is UTF-16 text (Excel's \"Unicode text\"); save it as CSV UTF-8");
  const magic = bytes.subarray(0, 4).toString("hex");
  if (magic === "504b0304" || magic === "d0cf11e0")
    throw new DataError(path, "the file is an Excel workbook, not a CSV; save it as CSV UTF-8 (date,code,factor)");
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    const loose = bytes.toString("utf8");
    const at = loose.indexOf("\uFFFD");
    const line = loose.slice(0, Math.max(0, at)).split("\n").length;
    throw new DataError(path, "the text is not UTF-8 (a GBK or ANSI export?); save the file as CSV UTF-8", line);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.length === 0) throw new DataError(path, "the file is empty: expected a header date,code,factor and data rows");

  const firstEnd = text.indexOf("\n");
  const headerLine = (firstEnd < 0 ? text : text.slice(0, firstEnd)).replace(/\r$/, "");
  if (headerLine.trim() === "") throw new DataError(path, "the first line is empty: expected the header date,code,factor", 1);
  // The delimiter: a comma unless the header has none and has a tab or a semicolon (a .tsv is tab-separated).
  const delimiter = /\.tsv(\.gz)?$/i.test(path) ? "\t"
    : headerLine.includes(",") ? "," : headerLine.includes("\t") ? "\t" : headerLine.includes(";") ? ";" : ",";
  const header = splitHeader(path, headerLine, delimiter);

  // The records after the header, a line at a time; a record goes on over newlines inside quotes.
  const n = text.length;
  const recordLine: number[] = [];
  let blank = 0, quotedNewlines = 0, line = 2;
  let nextQuote = text.indexOf('"'); // cached: searching again from every line would be quadratic in a file without quotes
  const quoteFrom = (i: number): number => {
    if (nextQuote >= 0 && nextQuote < i) nextQuote = text.indexOf('"', i);
    return nextQuote < 0 ? n : nextQuote;
  };
  const delimitersIn = (a: number, b: number): number => {
    let k = 0;
    for (let j = text.indexOf(delimiter, a); j >= 0 && j < b; j = text.indexOf(delimiter, j + 1)) k++;
    return k;
  };
  for (let pos = firstEnd < 0 ? n : firstEnd + 1; pos < n; line++) {
    let end = text.indexOf("\n", pos);
    if (end < 0) end = n;
    const startLine = line;
    if (end === pos || (end === pos + 1 && text.charCodeAt(pos) === 13)) blank++; // DuckDB skips an empty line too
    else {
      let fields = 1, inQuotes = false;
      for (let i = pos; ;) {
        const qt = quoteFrom(i);
        if (qt < end) {
          if (!inQuotes) fields += delimitersIn(i, qt);
          inQuotes = !inQuotes; // "" inside quotes toggles twice: the parity is all that matters
          i = qt + 1;
        } else if (inQuotes) {
          if (end >= n) throw new DataError(path, "a quote opened on this line is never closed", startLine);
          quotedNewlines++;
          line++;
          i = end + 1;
          end = text.indexOf("\n", i);
          if (end < 0) end = n;
        } else {
          fields += delimitersIn(i, end);
          break;
        }
      }
      if (fields > header.length)
        throw new DataError(path, `${fields} fields where the header has ${header.length} (${header.join(",")}); ` +
          `a value with a ${delimiter === "," ? "comma" : "delimiter"} in it must be quoted`, startLine);
      recordLine.push(startLine);
    }
    pos = end + 1;
  }
  // Physical lines counted on their own: the newlines, and a last line without one.
  let physical = text.endsWith("\n") ? 0 : 1;
  for (let j = text.indexOf("\n"); j >= 0; j = text.indexOf("\n", j + 1)) physical++;
  return { header, delimiter, gzip, recordLine: Int32Array.from(recordLine), lines: { physical, blank, quotedNewlines } };
}

/** The header's names (quotes removed, trimmed); a quote left open stops at line 1. */
function splitHeader(path: string, line: string, delimiter: string): string[] {
  const out: string[] = [];
  let cur = "", quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') (cur += '"'), i++;
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === delimiter) out.push(cur.trim()), (cur = "");
    else cur += ch;
  }
  if (quoted) throw new DataError(path, "the header has a quote that is never closed", 1);
  out.push(cur.trim());
  return out;
}

/** The date, code and factor columns of the header, or a DataError saying what is expected. */
function pickColumns(path: string, header: string[], o: FactorOptions): { date: number; code: number; factor: number } {
  const find = (names: string[]): number => header.findIndex((h) => names.includes(h.toLowerCase()));
  const date = find(["date", "trade_date", "datetime"]);
  const code = find(["code", "ts_code", "instrument", "symbol"]);
  const found = `the header is ${header.join(",")}`;
  if (date < 0 || code < 0)
    throw new DataError(path, `expected the columns date,code,factor (a date column named date, a code column named code); ${found}`, 1);
  let factor: number;
  if (o.column !== undefined) {
    factor = header.indexOf(o.column);
    if (factor < 0) throw new DataError(path, `no column "${o.column}" for the factor; ${found}`, 1);
  } else {
    factor = header.findIndex((h) => h.toLowerCase() === "factor");
    if (factor < 0) {
      const others = header.map((_, i) => i).filter((i) => i !== date && i !== code && header[i] !== "");
      if (others.length !== 1)
        throw new DataError(path, `expected a column named factor, or exactly one column besides ${header[date]} and ${header[code]}; ` +
          `${found} (name the factor's column with --factor-column)`, 1);
      factor = others[0];
    }
  }
  if (factor === date || factor === code) throw new DataError(path, `the factor's column cannot be the ${factor === date ? "date" : "code"}`, 1);
  return { date, code, factor };
}

async function all(con: DuckDBConnection, sql: string): Promise<unknown[][]> {
  return (await con.runAndReadAll(sql)).getRows() as unknown[][];
}
const n = (v: unknown): number => Number(v as number | bigint);

/**
 * The factor of a file as a panel field: Float64Array [stocks x dates], stock-major (s * D + d), NaN
 * where the file gives no usable value; and what became of each of its rows.
 */
export async function readFactorFile(path: string, panel: Panel, o: FactorOptions = {}):
  Promise<{ factor: Float64Array; accounting: FactorAccounting }> {
  const scan = scanFile(path);
  const cols = pickColumns(path, scan.header, o);
  const rowsIn = scan.recordLine.length;
  if (rowsIn === 0) throw new DataError(path, "no data rows after the header");
  const lineOf = (rec: number): number => scan.recordLine[rec];

  const db = await DuckDBInstance.create(":memory:", { threads: "2" });
  const con = await db.connect();
  try {
    const delim = scan.delimiter === "\t" ? "'\\t'" : q(scan.delimiter);
    const src = `read_csv(${q(path)}, all_varchar=true, header=true, null_padding=true, auto_detect=false, delim=${delim}, ` +
      `quote='"', escape='"', columns={${scan.header.map((h, i) => `${q(h === "" ? `column${i}` : h)}: 'VARCHAR'`).join(", ")}}` +
      `, compression='${scan.gzip ? "gzip" : "none"}')`;
    const col = (i: number): string => ident(scan.header[i] === "" ? `column${i}` : scan.header[i]);
    const tokens = MISSING_TOKENS.map(q).join(", ");
    // Only this statement reads the file: what DuckDB cannot read is the file's fault, said in one line.
    // The table keeps the file's order (DuckDB preserves insertion order), so a row's rowid is its record's number.
    await con.run(`CREATE TEMP TABLE raw AS SELECT nullif(trim(${col(cols.date)}), '') AS d, ` +
      `nullif(trim(${col(cols.code)}), '') AS c, coalesce(trim(${col(cols.factor)}), '') AS v FROM ${src}`).catch((e: Error) => {
      throw new DataError(path, `cannot be read as a CSV table: ${e.message.split("\n")[0]}`);
    });
    const [[duckRows]] = await all(con, "SELECT count(*) FROM raw");
    if (n(duckRows) !== rowsIn)
      throw new DataError(path, `DuckDB read ${n(duckRows)} rows but the file has ${rowsIn} data records (${scan.lines.physical} lines: ` +
        `1 header, ${scan.lines.blank} blank, ${scan.lines.quotedNewlines} inside quotes); check the quoting of the file`);

    // Values that are not numbers and dates that are not dates stop the reading, at their line.
    const badValue = await all(con, `SELECT rowid, v FROM raw WHERE v NOT IN (${tokens}) AND TRY_CAST(v AS DOUBLE) IS NULL ORDER BY rowid LIMIT 1`);
    if (badValue.length)
      throw new DataError(path, `cannot parse "${badValue[0][1]}" as a number (the factor; missing values may be empty or ` +
        `${MISSING_TOKENS.slice(1).join(", ")})`, lineOf(n(badValue[0][0])), scan.header[cols.factor]);
    // Each distinct date parsed once, and matched to the data's calendar.
    await con.run("CREATE TEMP TABLE cal (day DATE, t INTEGER)");
    const insert = async (table: string, values: string[]): Promise<void> => {
      for (let i = 0; i < values.length; i += 5000) await con.run(`INSERT INTO ${table} VALUES ${values.slice(i, i + 5000).join(", ")}`);
    };
    await insert("cal", panel.calendar.map((d, t) => `(DATE ${q(d)}, ${t})`));
    await con.run(`CREATE TEMP TABLE dates AS SELECT d, day, t FROM (SELECT d, ${dateExpr("d")} AS day FROM (SELECT DISTINCT d FROM raw ` +
      `WHERE d IS NOT NULL)) LEFT JOIN cal USING (day)`);
    const badDate = await all(con, `SELECT min(rowid), d FROM raw WHERE d IN (SELECT d FROM dates WHERE day IS NULL) GROUP BY d ORDER BY 1 LIMIT 1`);
    if (badDate.length)
      throw new DataError(path, `cannot parse date "${badDate[0][1]}": expected YYYY-MM-DD, YYYYMMDD or YYYY/MM/DD`,
        lineOf(n(badDate[0][0])), scan.header[cols.date]);

    // Codes through the data's normaliser, each distinct code once; an error names its first line.
    const codeRows = await all(con, "SELECT c, min(rowid) AS first FROM raw WHERE c IS NOT NULL GROUP BY c ORDER BY first");
    const stockIndex = new Map(panel.stocks.map((s, i) => [s, i]));
    const codeMap: [string, number][] = [];
    for (const [c, first] of codeRows) {
      const r = normalizeCode(String(c), panel.market, o.padCodes ?? false);
      if ("error" in r) throw new DataError(path, r.error, lineOf(n(first)), scan.header[cols.code]);
      codeMap.push([String(c), stockIndex.get(r.code) ?? -1]);
    }
    await con.run("CREATE TEMP TABLE codes (c VARCHAR, s INTEGER)");
    await insert("codes", codeMap.map(([c, s]) => `(${q(c)}, ${s < 0 ? "NULL" : s})`));

    // Each row's fate, judged in FACTOR_DROP_REASONS' order; duplicates on the panel's keys, so
    // 600000.SH and SH600000 on one date are one stock given twice.
    await con.run(`CREATE TEMP TABLE fate AS SELECT rec, t, s, x, CASE
        WHEN d IS NULL OR c IS NULL THEN 'missing_key'
        WHEN t IS NULL THEN 'unknown_date'
        WHEN s IS NULL THEN 'unknown_code'
        WHEN row_number() OVER (PARTITION BY t, s ORDER BY rec) > 1 THEN 'duplicate_key'
        WHEN v IN (${tokens}) OR isnan(x) THEN 'missing_value'
        WHEN isinf(x) THEN 'infinite_value'
        ELSE 'matched' END AS reason, d, c, v
      FROM (SELECT rowid AS rec, d, c, v, TRY_CAST(v AS DOUBLE) AS x FROM raw) LEFT JOIN dates USING (d) LEFT JOIN codes USING (c)`);
    const dropped = Object.fromEntries(FACTOR_DROP_REASONS.map((r) => [r, 0])) as Record<FactorDropReason, number>;
    let matched = 0;
    for (const [reason, count] of await all(con, "SELECT reason, count(*) FROM fate GROUP BY reason")) {
      if (reason === "matched") matched = n(count);
      else dropped[reason as FactorDropReason] = n(count);
    }
    const examples: FactorAccounting["examples"] = {};
    const exampleRows = await all(con, `SELECT reason, rec, d, c, v FROM (SELECT *, row_number() OVER (PARTITION BY reason ORDER BY rec) AS k ` +
      `FROM fate WHERE reason <> 'matched') WHERE k <= ${EXAMPLES} ORDER BY reason, rec`);
    for (const [reason, rec, d, c, v] of exampleRows)
      (examples[reason as FactorDropReason] ??= []).push(`line ${lineOf(n(rec))}: ${d ?? ""},${c ?? ""},${v}`);
    const [[first, last]] = await all(con, "SELECT CAST(min(day) AS VARCHAR), CAST(max(day) AS VARCHAR) FROM dates");
    const accounting: FactorAccounting = {
      source: path, column: scan.header[cols.factor], rowsIn, matched, dropped, examples, lines: scan.lines,
      dates: { first: first === null ? null : String(first), last: last === null ? null : String(last) },
    };
    const droppedSum = Object.values(dropped).reduce((a, b) => a + b, 0);
    if (matched + droppedSum !== rowsIn)
      throw new Error(`${path}: ${rowsIn} rows in, but ${matched} matched + ${droppedSum} dropped`);
    if (scan.lines.physical !== 1 + rowsIn + scan.lines.blank + scan.lines.quotedNewlines)
      throw new Error(`${path}: ${scan.lines.physical} lines, but 1 header + ${rowsIn} rows + ${scan.lines.blank} blank + ` +
        `${scan.lines.quotedNewlines} inside quotes`);
    if (matched === 0) throw new DataError(path, await whyNothingMatches(con, panel, accounting));

    const S = panel.stocks.length, D = panel.calendar.length;
    const factor = new Float64Array(S * D).fill(NaN);
    const res = await con.stream("SELECT s, t, x FROM fate WHERE reason = 'matched'");
    for (;;) {
      const chunk = await res.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      const sv = chunk.getColumnVector(0), tv = chunk.getColumnVector(1), xv = chunk.getColumnVector(2);
      for (let i = 0; i < chunk.rowCount; i++) factor[(sv.getItem(i) as number) * D + (tv.getItem(i) as number)] = xv.getItem(i) as number;
    }
    return { factor, accounting };
  } finally {
    con.closeSync();
    db.closeSync();
  }
}

/** Why no row of the factor became a cell: the dates, the codes, or the values, with examples of each side. */
async function whyNothingMatches(con: DuckDBConnection, panel: Panel, a: FactorAccounting): Promise<string> {
  const counts = Object.entries(a.dropped).filter(([, k]) => k > 0).map(([r, k]) => `${k} ${r}`).join(", ");
  const head = `no row of the factor matches the data (${a.rowsIn} row${a.rowsIn === 1 ? "" : "s"}: ${counts})`;
  const dataSpan = `${panel.calendar[0]}..${panel.calendar[panel.calendar.length - 1]}`;
  const [[knownDate, knownCode]] = await all(con, "SELECT count(t), count(s) FROM fate");
  const reasons: string[] = [];
  if (n(knownDate) === 0)
    reasons.push(a.dates.first === null ? "no row has a date"
      : `no date of the factor is a trading date of the data: the factor's dates span ${a.dates.first}..${a.dates.last}, the data's ${dataSpan}`);
  if (n(knownCode) === 0) {
    const theirs = (await all(con, "SELECT c FROM codes ORDER BY c LIMIT 3")).map((r) => String(r[0]));
    reasons.push(theirs.length === 0 ? "no row has a code"
      : `no code of the factor is a stock of the data: the factor's codes are e.g. ${theirs.join(", ")}, the data's ${panel.stocks.slice(0, 3).join(", ")}`);
  }
  if (reasons.length === 0) {
    if (a.dropped.missing_value + a.dropped.infinite_value + a.dropped.duplicate_key > 0 && a.dropped.unknown_code + a.dropped.unknown_date === 0)
      reasons.push("every row that matches a date and a stock of the data has no usable value");
    else reasons.push(`its dates (${a.dates.first}..${a.dates.last}) and codes each occur in the data (${dataSpan}), but never together`);
  }
  return `${head}: ${reasons.join("; ")}`;
}
