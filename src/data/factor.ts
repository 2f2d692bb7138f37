/**
 * Reading a factor file (date, code, factor) onto a loaded panel, with the rigour of a bar file:
 * the file is read through DuckDB as text and parsed by us, so that a bad value is named by its
 * physical line and column; missing-value tokens are missing (never 0); codes go through the data's
 * own normaliser (a 600000.SH factor matches SH600000 data); every row is accounted for, by reason.
 *
 * The file is sniffed and its records counted as a bar file's are (source.ts): the count gives each
 * record its physical line, and the rows DuckDB returns must equal it.
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { type Grid, type Panel, panelGrid } from "./panel.js";
import { normalizeCode } from "./presets.js";
import { DataError } from "./quality.js";
import { csvExpr, dateExpr, ident, openDuckDB, q, rows as all } from "./sql.js";
import { type CsvSource, type Encoding, MISSING_TOKENS, countLines, lineOfRecord, releaseSource, sniffSource } from "./source.js";

export interface FactorOptions {
  /** The factor's column (default: "factor", else the one column besides the date and the code). */
  column?: string;
  /** Pad A-share codes that lost their leading zeros (1 -> 000001) instead of stopping, as the data's --pad-codes. */
  padCodes?: boolean;
  /** The text encoding (default utf8), as the data's --encoding. */
  encoding?: Encoding;
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

const EXAMPLES = 5;

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

const n = (v: unknown): number => Number(v as number | bigint);

/**
 * The factor of a file as a grid of the panel's stocks x dates, NaN where the file gives no usable
 * value; and what became of each of its rows.
 */
export async function readFactorFile(path: string, panel: Panel, o: FactorOptions = {}):
  Promise<{ factor: Grid; accounting: FactorAccounting }> {
  const file = sniffSource(path, o.encoding);
  if (file.format !== "csv") throw new DataError(path, "is a Parquet file: write the factor as a CSV (date,code,factor)");
  try {
    return await readSniffed(path, file, panel, o);
  } finally {
    releaseSource(file);
  }
}

async function readSniffed(path: string, file: CsvSource, panel: Panel, o: FactorOptions):
  Promise<{ factor: Grid; accounting: FactorAccounting }> {
  // Short rows are missing values here (a factor file's last columns may be empty and unwritten).
  const counted = await countLines(file, { shortRows: true });
  const header = file.names.map((h) => h.trim());
  const lines = { physical: counted.physical, blank: counted.blank, quotedNewlines: counted.quotedNewlines };
  const cols = pickColumns(path, header, o);
  const rowsIn = counted.records;
  if (rowsIn === 0) throw new DataError(path, "no data rows after the header");
  const lineOf = (rec: number): number => lineOfRecord(counted, rec);

  const db = await openDuckDB();
  const con = await db.connect();
  try {
    const src = csvExpr(file, file.names.map(() => "VARCHAR"), { nullPadding: true });
    const col = (i: number): string => ident(file.names[i]);
    const tokens = MISSING_TOKENS.map(q).join(", ");
    // Only this statement reads the file: what DuckDB cannot read is the file's fault, said in one line.
    // The table keeps the file's order (DuckDB preserves insertion order), so a row's rowid is its record's number.
    await con.run(`CREATE TEMP TABLE raw AS SELECT nullif(trim(${col(cols.date)}), '') AS d, ` +
      `nullif(trim(${col(cols.code)}), '') AS c, coalesce(trim(${col(cols.factor)}), '') AS v FROM ${src}`).catch((e: Error) => {
      throw new DataError(path, `cannot be read as a CSV table: ${e.message.split("\n")[0]}`);
    });
    const [[duckRows]] = await all(con, "SELECT count(*) FROM raw");
    if (n(duckRows) !== rowsIn)
      throw new DataError(path, `DuckDB read ${n(duckRows)} rows but the file has ${rowsIn} data records (${lines.physical} lines: ` +
        `1 header, ${lines.blank} blank, ${lines.quotedNewlines} inside quotes); check the quoting of the file`);

    // Values that are not numbers and dates that are not dates stop the reading, at their line.
    const badValue = await all(con, `SELECT rowid, v FROM raw WHERE v NOT IN (${tokens}) AND TRY_CAST(v AS DOUBLE) IS NULL ORDER BY rowid LIMIT 1`);
    if (badValue.length)
      throw new DataError(path, `cannot parse "${badValue[0][1]}" as a number (the factor; missing values may be empty or ` +
        `${MISSING_TOKENS.slice(1).join(", ")})`, lineOf(n(badValue[0][0])), header[cols.factor]);
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
        lineOf(n(badDate[0][0])), header[cols.date]);

    // Codes through the data's normaliser, each distinct code once; an error names its first line.
    const codeRows = await all(con, "SELECT c, min(rowid) AS first FROM raw WHERE c IS NOT NULL GROUP BY c ORDER BY first");
    const stockIndex = new Map(panel.stocks.map((s, i) => [s, i]));
    const codeMap: [string, number][] = [];
    for (const [c, first] of codeRows) {
      const r = normalizeCode(String(c), panel.market, o.padCodes ?? false);
      if ("error" in r) throw new DataError(path, r.error, lineOf(n(first)), header[cols.code]);
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
      source: path, column: header[cols.factor], rowsIn, matched, dropped, examples, lines,
      dates: { first: first === null ? null : String(first), last: last === null ? null : String(last) },
    };
    const droppedSum = Object.values(dropped).reduce((a, b) => a + b, 0);
    if (matched + droppedSum !== rowsIn)
      throw new Error(`${path}: ${rowsIn} rows in, but ${matched} matched + ${droppedSum} dropped`);
    if (matched === 0) throw new DataError(path, await whyNothingMatches(con, panel, accounting));

    const factor = panelGrid(panel);
    const res = await con.stream("SELECT s, t, x FROM fate WHERE reason = 'matched'");
    for (;;) {
      const chunk = await res.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      const sv = chunk.getColumnVector(0), tv = chunk.getColumnVector(1), xv = chunk.getColumnVector(2);
      for (let i = 0; i < chunk.rowCount; i++) factor.set(sv.getItem(i) as number, tv.getItem(i) as number, xv.getItem(i) as number);
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
