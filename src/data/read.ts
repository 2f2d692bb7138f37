/**
 * Reading a long bar file (CSV, TSV, gzip, Parquet) through DuckDB into row columns: dates and codes
 * as integer keys, the mapped numbers in canonical units. A value that cannot be parsed stops with a
 * DataError naming the file, line and column. The Panel is built from these rows in load.ts.
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { type LoadOptions, TEXT_COLUMNS, describeSource } from "./columns.js";
import { type Instruments, loadInstruments } from "./instruments.js";
import type { Market } from "./panel.js";
import { PRESETS, type SourceColumn, marketOfCodes, normalizeCode } from "./presets.js";
import { DataError, type QualityReport, newQualityReport } from "./quality.js";
import { type Columns, NO_CODE, NO_DAY, ROW_BLOCK, firstRowOf, forEachRow, readRows } from "./rows.js";
import { MISSING_TOKENS, type SourceFile } from "./source.js";
import { type ColumnKind, ident, openDuckDB, parquetDateExpr, q, rows, typedExpr } from "./sql.js";

/**
 * Reads a bar file's rows with DuckDB (closed again before returning: its buffers go with it).
 * `typed` is the fast path; `text` parses every value itself and names the first that does not
 * parse. Lines in errors count data records from line 2; the caller maps them to the file's lines.
 */
export async function readSource(src: SourceFile, o: LoadOptions, mode: "typed" | "text"): Promise<SourceRows> {
  const db = await openDuckDB();
  const con = await db.connect();
  try {
    // Instants become dates in the market's zone, named explicitly: never the machine's zone.
    await con.run("SET TimeZone = 'UTC'");
    try {
      return await parseSource(con, src, o, mode);
    } catch (e) {
      if (e instanceof DataError || mode === "typed") throw e;
      throw new DataError(src.file, `cannot be read as a table: ${(e as Error).message.split("\n")[0]}`);
    }
  } finally {
    con.closeSync();
    db.closeSync();
  }
}

/** What reading a source yields: its rows keyed by panel indices, and what was learnt on the way. */
export interface SourceRows {
  columns: Columns;
  market: Market;
  instruments: Instruments | undefined;
  quality: QualityReport;
  /** The rows the source holds by its own count, where the reader can tell (Parquet's metadata). */
  sourceRows?: number;
}

async function parseSource(con: DuckDBConnection, file: SourceFile, o: LoadOptions, mode: "typed" | "text"): Promise<SourceRows> {
  const path = file.file;
  const quality = newQualityReport(path);
  quality.notes.push(...file.notes);
  const { sql: src, described, header, mapping } = await describeSource(con, file, mode, o);
  const preset = PRESETS[o.preset ?? "canonical"];
  const srcCol = (canon: SourceColumn): string => ident(described[header.indexOf(mapping.get(canon)!)][0]);
  const srcType = (canon: SourceColumn): string => described[header.indexOf(mapping.get(canon)!)][1];
  const numericCols = [...mapping.keys()].filter((c) => !TEXT_COLUMNS.has(c));
  const scaleOf = (c: SourceColumn): number => (o.map?.[mapping.get(c)!] ? 1 : preset.scale[c] ?? 1);
  for (const c of numericCols) {
    const f = scaleOf(c);
    if (f !== 1) quality.conversions.push({ column: mapping.get(c)!, field: c, factor: f, note: `${preset.units[c]} -> canonical units` });
  }
  const parsedCols: [SourceColumn, ColumnKind][] = [["date", "date"], ...numericCols.map((c) => [c, "number"] as [SourceColumn, ColumnKind])];
  const days = (e: string): string => `coalesce(CAST(date_diff('day', DATE '1970-01-01', ${e}) AS DOUBLE), 'NaN'::DOUBLE)`;
  const number = (e: string, c: SourceColumn): string => {
    const f = scaleOf(c);
    return `coalesce(${e}, 'NaN'::DOUBLE)${f === 1 ? "" : ` * ${f}`}`;
  };
  const industryExpr = mapping.has("industry") ? `CAST(${srcCol("industry")} AS VARCHAR)` : "NULL";
  // Parquet: the market (from every code) before the dates, whose instants are read in its time zone.
  let market: Market | undefined = o.market && o.market !== "auto" ? o.market : undefined;
  let sourceRows: number | undefined;
  let dateSql = typedExpr(srcCol("date"), srcType("date"), "date");
  if (file.format === "parquet") {
    sourceRows = Number((await rows(con, `SELECT count(*) FROM ${src}`))[0][0]);
    market ??= marketOfCodes((await rows(con, `SELECT DISTINCT trim(CAST(${srcCol("code")} AS VARCHAR)) FROM ${src} WHERE ${srcCol("code")} IS NOT NULL`))
      .map((r) => String(r[0])));
    dateSql = await parquetDateExpr(con, src, srcCol("date"), srcType("date"), market, quality.notes);
  }
  let select: string;
  if (parsedCols.every(([c]) => srcType(c).toUpperCase() !== "VARCHAR")) {
    // Every value arrives typed: nothing can fail to parse, so the rows stream straight out.
    select = `SELECT ${[days(dateSql), `trim(CAST(${srcCol("code")} AS VARCHAR))`,
      industryExpr, ...numericCols.map((c) => number(typedExpr(srcCol(c), srcType(c), "number"), c))].join(", ")} FROM ${src}`;
  } else {
    // Parse once into a typed table, keeping a flag for every value that would not parse.
    const tokens = MISSING_TOKENS.map(q).join(", ");
    const nonEmpty = (c: SourceColumn): string => `${srcCol(c)} IS NOT NULL AND trim(CAST(${srcCol(c)} AS VARCHAR)) NOT IN (${tokens})`;
    // No row numbers: DuckDB keeps insertion order, so a row's position is its line (plus the header).
    const parts = [`trim(CAST(${srcCol("code")} AS VARCHAR)) AS code`, `${industryExpr} AS industry`];
    parsedCols.forEach(([c, kind], i) => {
      const e = typedExpr(srcCol(c), srcType(c), kind);
      parts.push(`${e} AS v${i}`);
      parts.push(srcType(c).toUpperCase() === "VARCHAR" ? `(${nonEmpty(c)} AND (${e}) IS NULL) AS bad${i}` : `false AS bad${i}`);
    });
    await con.run(`CREATE TEMP TABLE typed AS SELECT ${parts.join(", ")} FROM ${src}`);
    const [anyBad] = await rows(con, `SELECT ${parsedCols.map((_, i) => `bool_or(bad${i})`).join(", ")} FROM typed`);
    for (let i = 0; i < parsedCols.length; i++) {
      if (anyBad[i] !== true) continue;
      const [c] = parsedCols[i];
      const [[rn, value]] = await rows(con, `SELECT rn, CAST(${srcCol(c)} AS VARCHAR) FROM (SELECT row_number() OVER () AS rn, * ` +
        `FROM ${src}) WHERE ${nonEmpty(c)} AND (${typedExpr(srcCol(c), srcType(c), parsedCols[i][1])}) IS NULL ORDER BY rn LIMIT 1`);
      throw new DataError(path, c === "date"
        ? `cannot parse date "${value}": expected YYYY-MM-DD, YYYYMMDD or YYYY/MM/DD`
        : `cannot parse "${value}" as a number (${c})`, Number(rn) + 1, mapping.get(c));
    }
    select = `SELECT ${[days("v0"), "code", "industry", ...numericCols.map((c, i) => number(`v${i + 1}`, c))].join(", ")} FROM typed`;
  }
  const r = await readRows(con, select, numericCols.length);
  quality.rowsIn = r.rows;
  if (r.rows === 0) throw new DataError(path, "no data rows after the header");

  // Keys as small integers: the calendar (days since 1970, sorted) and the stocks (codes normalised, sorted).
  const lo = r.firstDay;
  const hi = r.lastDay;
  const present = new Uint8Array(Number.isFinite(lo) ? hi - lo + 1 : 0);
  forEachRow(r.rows, (b, j) => {
    const d = r.day[b][j];
    if (d !== NO_DAY) present[d - lo] = 1;
  });
  const dayToIdx = new Int32Array(present.length).fill(-1);
  const calendar: string[] = [];
  present.forEach((on, k) => {
    if (on) (dayToIdx[k] = calendar.length), calendar.push(new Date((lo + k) * 86400000).toISOString().slice(0, 10));
  });
  // Codes are normalised one by one (a file may mix 600000.SH, sh600000 and 600000); a code that
  // cannot be stops with the line of its first row.
  market ??= marketOfCodes(r.codes);
  const normalized = r.codes.map((c, id) => {
    const n = normalizeCode(c, market!, o.padCodes);
    if ("error" in n) throw new DataError(path, n.error, firstRowOf(r, id) + 2, mapping.get("code"));
    return n.code;
  });
  if (o.padCodes && r.codes.some((c, id) => normalized[id] !== c && /^\d{1,5}$/.test(c)))
    quality.notes.push("codes with lost leading zeros were padded to 6 digits (--pad-codes)");
  const stocks = [...new Set(normalized)].sort();
  const stockIndex = new Map(stocks.map((s, i) => [s, i]));
  const stockOfCode = Int32Array.from(normalized, (c) => stockIndex.get(c)!);
  const industryOf = new Map<string, string>();
  r.codes.forEach((_, i) => {
    const ind = r.industry[i];
    if (ind !== null && !industryOf.has(normalized[i])) industryOf.set(normalized[i], ind);
  });
  const norm = (c: string): string => {
    const n = normalizeCode(c, market!, true);
    return "code" in n ? n.code : c.trim();
  };
  // The key columns become panel indices in place (-1: no such key): days to dates, codes to stocks.
  forEachRow(r.rows, (b, j) => {
    const k = r.code[b][j];
    if (k !== NO_CODE) r.code[b][j] = stockOfCode[k];
    const d = r.day[b][j];
    r.day[b][j] = d === NO_DAY ? -1 : dayToIdx[d - lo];
  });
  const instruments = o.instruments ? await loadInstruments(con, o.instruments, norm) : undefined;
  const num = new Map<SourceColumn, Float64Array[]>(numericCols.map((c, i) => [c, r.num[i]]));
  return { columns: { rows: r.rows, blockRows: ROW_BLOCK, dateIdx: r.day, stockIdx: r.code, num, calendar, stocks, industryOf },
    market, instruments, quality, sourceRows };
}
