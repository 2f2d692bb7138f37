/**
 * Reading a long bar file (CSV, TSV, gzip, Parquet) through DuckDB into row columns: dates and codes
 * as integer keys, the mapped numbers in canonical units. A value that cannot be parsed stops with a
 * DataError naming the file, line and column. The Panel is built from these rows in load.ts.
 */
import { existsSync } from "node:fs";
import type { DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import type { Market } from "./panel.js";
import { PRESETS, SOURCE_COLUMNS, type SourceColumn, marketOfCodes, normalizeCode } from "./presets.js";
import { DataError, type QualityReport, newQualityReport } from "./quality.js";
import { type CsvSource, MISSING_TOKENS, NA_TOKENS, type SourceFile, sniffSource } from "./source.js";

export interface LoadOptions {
  /** A preset name (tushare, akshare, baostock, canonical). Default: canonical column names. */
  preset?: string;
  /** Source column -> canonical column, overriding the preset (the CLI's --map col=field,...). */
  map?: Record<string, string>;
  /** Market rules (price limits, code forms); "auto" infers them from the codes. */
  market?: Market | "auto";
  /** What the prices are, when the source has no adjustment factor (e.g. "split-adjusted"). */
  priceBasis?: string;
  /** Static attributes per stock: code plus any of industry, list_date, total_shares, float_shares. */
  instruments?: { path: string; map?: Record<string, string>; scale?: Record<string, number> };
  /** A 0/1 column giving point-in-time universe membership. */
  universeColumn?: string;
  /** The text encoding of a CSV (default utf8; gbk for Excel and AKShare exports on Chinese Windows). */
  encoding?: "utf8" | "gbk";
  /** Pad A-share codes that lost their leading zeros (1 -> 000001) instead of stopping. */
  padCodes?: boolean;
}

const REQUIRED: SourceColumn[] = ["date", "code", "open", "high", "low", "close", "volume"];
const TEXT_COLUMNS = new Set<SourceColumn>(["date", "code", "industry"]);

/** SQL string literal and identifier. */
export const q = (s: string): string => `'${s.replace(/'/g, "''")}'`;
export const ident = (s: string): string => `"${s.replace(/"/g, '""')}"`;

/**
 * DuckDB's CSV reader over a sniffed file, every column typed as given (no sniffing by DuckDB);
 * `nullTokens`: the NA tokens read as NULL; `nullPadding`: a short row's missing fields as NULL.
 */
/**
 * An in-memory DuckDB. The binding is imported here, on first use, not when the data stage is
 * imported: its native library costs a quarter of a second that commands reading no table (help,
 * configuration, `evaluate` before its file) should not pay.
 */
export async function openDuckDB(): Promise<DuckDBInstance> {
  const { DuckDBInstance } = await import("@duckdb/node-api");
  return DuckDBInstance.create(":memory:", { threads: "2" });
}

export function csvExpr(src: CsvSource, types: string[], o: { nullTokens?: boolean; nullPadding?: boolean } = {}): string {
  const delim = src.delimiter === "\t" ? "'\\t'" : q(src.delimiter);
  const columns = src.names.map((n, i) => `${q(n)}: '${types[i]}'`).join(", ");
  return `read_csv(${q(src.path)}, header=true, auto_detect=false, delim=${delim}, quote='"', escape='"', ` +
    `compression=${src.gzip ? "'gzip'" : "'none'"}, buffer_size=1048576, columns={${columns}}` +
    // A nullstr list replaces DuckDB's default (empty is NULL): empty is listed again.
    `${o.nullTokens ? `, nullstr=[${["", ...NA_TOKENS].map(q).join(", ")}]` : ""}${o.nullPadding ? ", null_padding=true" : ""})`;
}

/** The rows of a query. */
export async function rows(con: DuckDBConnection, sql: string): Promise<unknown[][]> {
  const r = await con.runAndReadAll(sql);
  return r.getRows() as unknown[][];
}

/**
 * Rows are kept in blocks of ROW_BLOCK rows per column, filled in place as DuckDB's chunks arrive:
 * no chunk-sized pieces to join at the end (which held every row twice), and no guess of the row
 * count. Row i is at [i >>> ROW_SHIFT][i & ROW_MASK].
 */
const ROW_SHIFT = 16;
const ROW_BLOCK = 1 << ROW_SHIFT;
const ROW_MASK = ROW_BLOCK - 1;
/** A row without a code, or without a date (-1 would be 1969-12-31), in the integer key columns. */
const NO_CODE = -1;
const NO_DAY = -0x80000000;
const MISSING_CODE = new Set(MISSING_TOKENS);

/** The rows a query yields, as a load reads them: integer keys, the code, numbers. */
interface RowColumns {
  rows: number;
  /** Days since 1970 (NO_DAY: no date), in blocks. */
  day: Int32Array[];
  /** The first and last day seen (Infinity, -Infinity: none). */
  firstDay: number;
  lastDay: number;
  /** Index into `codes` (NO_CODE: no code), in blocks. */
  code: Int32Array[];
  /** Distinct codes in order of first appearance, and the first non-empty industry given for each. */
  codes: string[];
  industry: (string | null)[];
  /** One list of blocks per numeric column. */
  num: Float64Array[][];
}

/**
 * Streams a query of (day, code, industry, numbers...) into columns, chunk by chunk: the codes are
 * numbered as they appear, so no string per row is kept.
 */
async function readRows(con: DuckDBConnection, sql: string, nNum: number): Promise<RowColumns> {
  const res = await con.stream(sql);
  const day: Int32Array[] = [];
  const code: Int32Array[] = [];
  const num: Float64Array[][] = Array.from({ length: nNum }, () => []);
  const codeId = new Map<string, number>();
  const codes: string[] = [];
  const industry: (string | null)[] = [];
  // A DOUBLE vector keeps its values in a Float64Array (a private field of the client library): one
  // copy instead of a call per value. NULLs were made NaN in SQL, so validity is not needed.
  const doubles = (v: { getItem(i: number): unknown }, from: number, m: number, to: Float64Array, at: number): void => {
    const items = (v as { items?: unknown }).items;
    if (items instanceof Float64Array && items.length >= from + m) to.set(items.subarray(from, from + m), at);
    else for (let i = 0; i < m; i++) to[at + i] = (v.getItem(from + i) as number | null) ?? NaN;
  };
  const dayTmp = new Float64Array(ROW_BLOCK);
  let prevCode = NO_CODE;
  let firstDay = Infinity;
  let lastDay = -Infinity;
  let n = 0;
  for (;;) {
    const chunk = await res.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const cv = chunk.getColumnVector(1);
    const iv = chunk.getColumnVector(2);
    // A VARCHAR vector holds 16 bytes per value (length, then the text itself up to 12 bytes): a row
    // whose bytes equal the previous row's has the same short code, so no string is made for it
    // (files sorted by stock repeat the code for hundreds of rows; strings per row cost 10 MB here).
    const dv = (cv as unknown as { dataView?: unknown }).dataView;
    const raw = dv instanceof DataView && dv.byteLength >= chunk.rowCount * 16 && dv.byteOffset % 4 === 0
      ? new Int32Array(dv.buffer, dv.byteOffset, chunk.rowCount * 4) : null;
    const sameShortAsPrevious = (i: number): boolean => raw !== null && raw[4 * i] <= 12 && raw[4 * i] === raw[4 * i - 4] &&
      raw[4 * i + 1] === raw[4 * i - 3] && raw[4 * i + 2] === raw[4 * i - 2] && raw[4 * i + 3] === raw[4 * i - 1];
    // A chunk may straddle two blocks: copy it in pieces that each fit the current block.
    for (let from = 0; from < chunk.rowCount;) {
      const at = n & ROW_MASK;
      if (at === 0) {
        day.push(new Int32Array(ROW_BLOCK));
        code.push(new Int32Array(ROW_BLOCK));
        for (const col of num) col.push(new Float64Array(ROW_BLOCK));
      }
      const b = n >>> ROW_SHIFT;
      const m = Math.min(chunk.rowCount - from, ROW_BLOCK - at);
      const codeB = code[b];
      for (let i = from; i < from + m; i++) {
        let id: number | undefined = prevCode;
        if (!(i > 0 && id !== NO_CODE && sameShortAsPrevious(i))) {
          const c = cv.getItem(i) as string | null;
          // A missing-value token is no code, whichever reader read it (nullstr or not).
          if (c === null || MISSING_CODE.has(c)) id = NO_CODE;
          else if ((id = codeId.get(c)) === undefined) {
            codeId.set(c, (id = codes.length));
            codes.push(c);
            industry.push(null);
          }
        }
        if (id !== NO_CODE && industry[id] === null) industry[id] = iv.getItem(i) as string | null;
        codeB[at + i - from] = prevCode = id;
      }
      doubles(chunk.getColumnVector(0), from, m, dayTmp, 0);
      const dayB = day[b];
      for (let j = 0; j < m; j++) {
        const d = dayTmp[j];
        if (d !== d) {
          dayB[at + j] = NO_DAY;
          continue;
        }
        dayB[at + j] = d;
        if (d < firstDay) firstDay = d;
        if (d > lastDay) lastDay = d;
      }
      for (let k = 0; k < nNum; k++) doubles(chunk.getColumnVector(3 + k), from, m, num[k][b], at);
      from += m;
      n += m;
    }
  }
  return { rows: n, day, firstDay, lastDay, code, codes, industry, num };
}

/** SQL that parses a text date in YYYY-MM-DD, YYYYMMDD or YYYY/MM/DD form; NULL if unparsable. */
export function dateExpr(col: string): string {
  const t = `trim(CAST(${col} AS VARCHAR))`;
  return `COALESCE(TRY_CAST(${t} AS DATE), CAST(TRY_STRPTIME(${t}, '%Y%m%d') AS DATE), CAST(TRY_STRPTIME(${t}, '%Y/%m/%d') AS DATE))`;
}
/** SQL that parses a number (NaN and Inf strings included; 'true'/'false' for flags). */
export function numberExpr(col: string): string {
  const t = `trim(CAST(${col} AS VARCHAR))`;
  return `CASE WHEN lower(${t}) IN ('true', 't', 'yes', 'y') THEN 1.0 WHEN lower(${t}) IN ('false', 'f', 'no', 'n') THEN 0.0 ` +
    `ELSE TRY_CAST(${t} AS DOUBLE) END`;
}

/** Resolves which source column feeds each canonical column, or says what is wrong. */
function resolveMapping(file: string, header: string[], o: LoadOptions): Map<SourceColumn, string> {
  const preset = PRESETS[o.preset ?? "canonical"];
  if (!preset) throw new DataError(file, `unknown preset "${o.preset}" (known: ${Object.keys(PRESETS).join(", ")})`);
  const have = new Set(header);
  const m = new Map<SourceColumn, string>();
  for (const [canon, src] of Object.entries(preset.columns) as [SourceColumn, string][]) if (have.has(src)) m.set(canon, src);
  for (const [src, canon] of Object.entries(o.map ?? {})) {
    if (!SOURCE_COLUMNS.includes(canon as SourceColumn))
      throw new DataError(file, `--map ${src}=${canon}: "${canon}" is not a field (fields: ${SOURCE_COLUMNS.join(", ")})`);
    if (!have.has(src))
      throw new DataError(file, `--map ${src}=${canon}: the file has no column "${src}" (columns: ${header.join(", ")})`);
    m.set(canon as SourceColumn, src);
  }
  if (o.universeColumn) {
    if (!have.has(o.universeColumn))
      throw new DataError(file, `universe column "${o.universeColumn}" is not in the file (columns: ${header.join(", ")})`);
    m.set("universe", o.universeColumn);
  }
  const missing = REQUIRED.filter((c) => !m.has(c));
  if (missing.length)
    throw new DataError(file, `missing required column(s) ${missing.map((c) => `"${preset.columns[c] ?? c}"`).join(", ")} ` +
      `for ${missing.join(", ")} (the file has: ${header.join(", ")}); map them with --map source=field or a preset`);
  return m;
}

export interface Instruments {
  industry: Map<string, string>;
  listDate: Map<string, string>;
  totalShares: Map<string, number>;
  floatShares: Map<string, number>;
}

async function loadInstruments(con: DuckDBConnection, o: NonNullable<LoadOptions["instruments"]>,
  norm: (c: string) => string): Promise<Instruments> {
  if (!existsSync(o.path)) throw new DataError(o.path, "no such file (instruments)");
  // Parquet as it is, a CSV with every column as text.
  const src = sniffSource(o.path);
  const table = src.format === "parquet" ? `read_parquet(${q(src.path)})` : csvExpr(src, src.names.map(() => "VARCHAR"));
  const header = (await rows(con, `DESCRIBE SELECT * FROM ${table}`)).map((r) => String(r[0]));
  const col = (name: string): string | undefined => {
    const mapped = Object.entries(o.map ?? {}).find(([, canon]) => canon === name)?.[0];
    return mapped ?? (header.includes(name) ? name : undefined);
  };
  const code = col("code");
  if (!code) throw new DataError(o.path, `no "code" column (columns: ${header.join(", ")})`);
  const pick = ["industry", "list_date", "total_shares", "float_shares"].map((n) => [n, col(n)] as const);
  const sel = [ident(code), ...pick.map(([n, c]) => (c ? (n === "list_date" ? `CAST(${dateExpr(ident(c))} AS VARCHAR)`
    : n === "industry" ? ident(c) : numberExpr(ident(c))) : "NULL"))];
  const data = await rows(con, `SELECT ${sel.join(", ")} FROM ${table}`);
  const out: Instruments = { industry: new Map(), listDate: new Map(), totalShares: new Map(), floatShares: new Map() };
  const sTotal = o.scale?.total_shares ?? 1;
  const sFloat = o.scale?.float_shares ?? 1;
  for (const [c, ind, ld, ts, fs] of data) {
    const k = norm(String(c));
    if (ind !== null) out.industry.set(k, String(ind));
    if (ld !== null) out.listDate.set(k, String(ld));
    if (ts !== null && Number.isFinite(Number(ts))) out.totalShares.set(k, Number(ts) * sTotal);
    if (fs !== null && Number.isFinite(Number(fs))) out.floatShares.set(k, Number(fs) * sFloat);
  }
  return out;
}

type ColumnKind = "number" | "date" | "text";

/** SQL that reads a source column as the kind it must be; typed columns are used as they are. */
function typedExpr(col: string, sqlType: string, kind: ColumnKind): string {
  const t = sqlType.toUpperCase();
  if (kind === "text") return `CAST(${col} AS VARCHAR)`;
  if (kind === "date") return t === "DATE" ? col : t.startsWith("TIMESTAMP") ? `CAST(${col} AS DATE)` : dateExpr(col);
  if (INTEGER_TYPE.test(t) || /^(DOUBLE|FLOAT|REAL|DECIMAL)/.test(t)) return `CAST(${col} AS DOUBLE)`;
  if (t === "BOOLEAN") return `CAST(${col} AS DOUBLE)`;
  return numberExpr(col);
}
const INTEGER_TYPE = /^(BIGINT|INTEGER|SMALLINT|TINYINT|HUGEINT|UBIGINT|UINTEGER|USMALLINT|UTINYINT|INT)/;

/** The time zone whose calendar dates a market trades on. */
const MARKET_TZ: Record<Market, string> = { cn: "Asia/Shanghai", us: "America/New_York", other: "UTC" };

/**
 * A typed (Parquet) date column as the market's calendar date. Instants (TIMESTAMP WITH TIME ZONE,
 * integer epochs) are read in the market's time zone: a Shanghai midnight stored as 16:00 UTC the
 * day before is that Shanghai date, not the UTC one. Instants that are all UTC midnights are dates
 * written as instants, and keep their UTC date. Integers between 19000101 and 21001231 are YYYYMMDD;
 * other integers are epochs whose unit (s, ms, us, ns) follows from their size. A naive TIMESTAMP
 * is a wall-clock time: its date as written.
 */
async function parquetDateExpr(con: DuckDBConnection, src: string, col: string, sqlType: string, market: Market,
  notes: string[]): Promise<string> {
  const t = sqlType.toUpperCase();
  const tz = MARKET_TZ[market];
  const asDate = (instant: string, perDay: string, epoch: string): Promise<string> =>
    rows(con, `SELECT coalesce(bool_and(${epoch} % ${perDay} = 0), true) FROM ${src}`).then(([[midnights]]) => {
      notes.push(midnights === true ? `date column ${col}: instants at UTC midnight, read as their UTC dates`
        : `date column ${col}: instants, read as dates in ${tz} (the market's time zone)`);
      return midnights === true ? `CAST(${instant} AS DATE)` : `CAST(timezone(${q(tz)}, ${instant}) AS DATE)`;
    });
  if (t === "TIMESTAMP WITH TIME ZONE" || t === "TIMESTAMPTZ") return asDate(col, "86400000000", `epoch_us(${col})`);
  if (!INTEGER_TYPE.test(t)) return typedExpr(col, sqlType, "date");
  const [[lo, hi]] = await rows(con, `SELECT min(${col}), max(${col}) FROM ${src}`);
  const min = Number(lo), max = Number(hi);
  if (min >= 19000101 && max <= 21001231) {
    notes.push(`date column ${col}: integers read as YYYYMMDD`);
    return `CAST(TRY_STRPTIME(CAST(${col} AS VARCHAR), '%Y%m%d') AS DATE)`;
  }
  const [unit, perSecond] = max < 1e11 ? ["s", 1] : max < 1e14 ? ["ms", 1e3] : max < 1e17 ? ["us", 1e6] : ["ns", 1e9];
  notes.push(`date column ${col}: integers read as epoch ${unit}`);
  const instant = `to_timestamp(CAST(${col} AS DOUBLE) / ${perSecond})`;
  return asDate(instant, String(86400 * perSecond), col);
}

/** A table source in SQL, its columns and their SQL types. */
interface Source {
  sql: string;
  described: (readonly [string, string])[];
  /** Column names as the user sees them, and which feeds each canonical column. */
  header: string[];
  mapping: Map<SourceColumn, string>;
}

/**
 * The source as DuckDB reads it. `text`: every column as text, for our own parsing and error
 * messages. `typed`: DuckDB's typed, parallel reader, the types taken from the file's first row (the
 * sniffer DuckDB would otherwise run reads and parses a sample of the file first, a third of the load
 * time of a gzip file); missing-value tokens read as NULL.
 */
async function describeSource(con: DuckDBConnection, src: SourceFile, mode: "typed" | "text", o: LoadOptions): Promise<Source> {
  if (src.format === "parquet") {
    const sql = `read_parquet(${q(src.path)})`;
    const described = (await rows(con, `DESCRIBE SELECT * FROM ${sql}`)).map((r) => [String(r[0]), String(r[1])] as const);
    const header = described.map(([n]) => n);
    return { sql, described, header, mapping: resolveMapping(src.file, header, o) };
  }
  const mapping = resolveMapping(src.file, src.names, o);
  const byName = new Map([...mapping].map(([canon, name]) => [name, canon]));
  let dateFormat = "";
  const first = mode === "typed" && src.first?.length === src.names.length ? src.first : null;
  const types = src.names.map((name, i) => {
    if (!first) return "VARCHAR";
    const v = first[i].trim();
    if (byName.get(name) === "date") {
      if (/^\d{4}-\d{2}-\d{2}$/.test(v)) return "DATE";
      if (/^\d{8}$/.test(v)) return (dateFormat = "%Y%m%d"), "DATE";
      if (/^\d{4}\/\d{2}\/\d{2}$/.test(v)) return (dateFormat = "%Y/%m/%d"), "DATE";
      return "VARCHAR";
    }
    // A number DuckDB cannot read (a flag as true/false, say) stays text and is parsed in SQL.
    const numeric = byName.has(name) && !TEXT_COLUMNS.has(byName.get(name)!);
    return numeric && (MISSING_TOKENS.includes(v) || !Number.isNaN(Number(v)) || /^[+-]?inf(inity)?$/i.test(v)) ? "DOUBLE" : "VARCHAR";
  });
  // NA tokens as NULL only where the first rows hold them (the option slows the reader by ~10%);
  // elsewhere a deep NA ends the typed read and the text reader takes it as a missing value.
  let sql = csvExpr(src, types, { nullTokens: mode === "typed" && src.naTokens });
  if (dateFormat) sql = sql.replace(/\)$/, `, dateformat=${q(dateFormat)})`);
  return { sql, described: src.names.map((n, i) => [n, types[i]] as const), header: src.names, mapping };
}

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

/** The first row (0-based) that has code number `id`. */
function firstRowOf(r: RowColumns, id: number): number {
  for (let b = 0; b < r.code.length; b++) {
    const i = r.code[b].indexOf(id);
    if (i >= 0 && b * ROW_BLOCK + i < r.rows) return b * ROW_BLOCK + i;
  }
  return -1;
}

/** Row i is (block i >>> ROW_SHIFT, offset i & ROW_MASK); f runs over the rows in order. */
function forEachRow(rows: number, f: (block: number, j: number) => void): void {
  for (let b = 0; b * ROW_BLOCK < rows; b++) {
    const m = Math.min(ROW_BLOCK, rows - b * ROW_BLOCK);
    for (let j = 0; j < m; j++) f(b, j);
  }
}

/** The rows, keyed by panel indices (-1: no such key), in blocks of ROW_BLOCK. */
export interface Columns {
  rows: number;
  /** Rows per block: row i is at [Math.floor(i / blockRows)][i % blockRows]. */
  blockRows: number;
  dateIdx: Int32Array[];
  stockIdx: Int32Array[];
  num: Map<SourceColumn, Float64Array[]>;
  calendar: string[];
  stocks: string[];
  industryOf: Map<string, string>;
}

