/**
 * Loading daily bars from long CSV or Parquet files (one row per date and stock) through DuckDB,
 * with a column mapping or a preset, into a validated, cleaned Panel and its quality report.
 *
 * Unusable input (no such file, no header, missing required columns, an unparsable date or
 * number) stops with a DataError that names the file, line and column. Everything else follows a
 * documented rule and is counted (see CLEANING_RULES).
 */
import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";
import { constants as zlibConstants, gunzipSync } from "node:zlib";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { type FieldName, type Market, type Panel, emptyField, looksLikeAshare, priceLimit } from "./panel.js";
import { PRESETS, SOURCE_COLUMNS, type SourceColumn, normalizeAshareCode } from "./presets.js";
import { DataError, type QualityReport, checkAccounting, count, example, newQualityReport } from "./quality.js";

/** What happens to each kind of flawed row; the quality report counts each. */
export const CLEANING_RULES = {
  missing_key: "dropped: the row has no date or no code",
  duplicate_key: "dropped: a later row with the same (date, code) as an earlier one; the first is kept",
  missing_price: "dropped: open, high, low or close is empty, NaN or infinite",
  non_positive_price: "dropped: open, high, low or close is zero or negative",
  high_low_inconsistent: "kept, repaired: high raised to max(open, high, low, close), low lowered to the min",
  zero_volume: "kept, marked suspended: a bar with zero volume",
  non_finite_value: "kept: a non-price value that is infinite becomes missing (NaN and empty values are missing values)",
  move_beyond_price_limit: "kept, flagged: a close-to-close move beyond the board's limit with no adjustment factor (likely an unadjusted corporate action)",
  extreme_move: "kept, flagged: a close-to-close move beyond 40% in a market without price limits (likely an unadjusted corporate action)",
  gap: "panel cell: a trading date inside a stock's span with no row; marked suspended, prices missing",
  unsorted_rows: "accepted: rows may come in any order",
} as const;

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
}

const REQUIRED: SourceColumn[] = ["date", "code", "open", "high", "low", "close", "volume"];
const TEXT_COLUMNS = new Set<SourceColumn>(["date", "code", "industry"]);

const q = (s: string): string => `'${s.replace(/'/g, "''")}'`;
const ident = (s: string): string => `"${s.replace(/"/g, '""')}"`;

const isParquet = (lowerPath: string): boolean => lowerPath.endsWith(".parquet") || lowerPath.endsWith(".pq");

/** The delimiter is fixed by the extension: sniffing it fails on files with a short last line. */
const delimiterOf = (lowerPath: string): string => (/\.tsv(\.gz)?$/.test(lowerPath) ? "\t" : ",");
function csvDialect(lowerPath: string): string {
  return `delim=${delimiterOf(lowerPath) === "\t" ? "'\\t'" : "','"}, quote='"'`;
}

function sourceExpr(path: string): string {
  const lower = path.toLowerCase();
  if (isParquet(lower)) return `read_parquet(${q(path)})`;
  // Everything as text: our own parsing reports the line and column of a bad value.
  return `read_csv(${q(path)}, all_varchar=true, header=true, null_padding=true, ${csvDialect(lower)})`;
}

async function rows(con: DuckDBConnection, sql: string): Promise<unknown[][]> {
  const r = await con.runAndReadAll(sql);
  return r.getRows() as unknown[][];
}

/** The header and first data row of a plain or gzip CSV/TSV, read from its first 64 KiB; null if unclear. */
function csvHead(path: string): { names: string[]; first: string[] } | null {
  const lower = path.toLowerCase();
  if (isParquet(lower) || /\.(zst|bz2|xz|zip)$/.test(lower)) return null;
  const fd = openSync(path, "r");
  let raw: Buffer;
  try {
    const b = Buffer.alloc(1 << 16);
    raw = b.subarray(0, readSync(fd, b, 0, b.length, 0));
  } finally {
    closeSync(fd);
  }
  let text: string;
  try {
    text = (lower.endsWith(".gz") ? gunzipSync(raw, { finishFlush: zlibConstants.Z_SYNC_FLUSH }) : raw).toString("utf8");
  } catch {
    return null;
  }
  const lines = text.replace(/^\uFEFF/, "").split("\n");
  if (lines.length < 3) return null; // a header and one whole row (the last piece may be cut off)
  const delim = delimiterOf(lower);
  const split = (line: string): string[] | null => {
    const out: string[] = [];
    let cur = "";
    let quoted = false;
    for (let i = 0; i < line.length; i++) {
      const ch = line[i];
      if (quoted) {
        if (ch === '"' && line[i + 1] === '"') (cur += '"'), i++;
        else if (ch === '"') quoted = false;
        else cur += ch;
      } else if (ch === '"') quoted = true;
      else if (ch === delim) out.push(cur), (cur = "");
      else cur += ch;
    }
    out.push(cur);
    return quoted ? null : out;
  };
  const names = split(lines[0].replace(/\r$/, ""));
  const first = split(lines[1].replace(/\r$/, ""));
  if (!names || !first || names.length !== first.length || names.some((n) => n === "") || new Set(names).size !== names.length) return null;
  return { names, first };
}

/** The rows a query yields, as a load reads them: integer keys, the code, numbers. */
interface RowColumns {
  rows: number;
  /** Days since 1970 (NaN: no date). */
  day: Float64Array;
  /** Index into `codes` (-1: no code). */
  code: Int32Array;
  /** Distinct codes in order of first appearance, and the first non-empty industry given for each. */
  codes: string[];
  industry: (string | null)[];
  num: Float64Array[];
}

/**
 * Streams a query of (day, code, industry, numbers...) into columns, chunk by chunk: the codes are
 * numbered as they appear, so no string per row is kept.
 */
async function readRows(con: DuckDBConnection, sql: string, nNum: number): Promise<RowColumns> {
  const res = await con.stream(sql);
  // Chunk by chunk, then one exact-size array per column.
  const parts: { day: Float64Array; code: Int32Array; num: Float64Array[] }[] = [];
  const codeId = new Map<string, number>();
  const codes: string[] = [];
  const industry: (string | null)[] = [];
  // A DOUBLE vector keeps its values in a Float64Array (a private field of the client library): one
  // copy instead of a call per value. NULLs were made NaN in SQL, so validity is not needed.
  const doubles = (v: { getItem(i: number): unknown }, m: number): Float64Array => {
    const items = (v as { items?: unknown }).items;
    if (items instanceof Float64Array && items.length >= m) return items.slice(0, m);
    return Float64Array.from({ length: m }, (_, i) => (v.getItem(i) as number | null) ?? NaN);
  };
  let n = 0;
  for (;;) {
    const chunk = await res.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const m = chunk.rowCount;
    const code = new Int32Array(m);
    const cv = chunk.getColumnVector(1);
    const iv = chunk.getColumnVector(2);
    // A VARCHAR vector holds 16 bytes per value (length, then the text itself up to 12 bytes): a row
    // whose bytes equal the previous row's has the same short code, so no string is made for it
    // (files sorted by stock repeat the code for hundreds of rows; strings per row cost 10 MB here).
    const dv = (cv as unknown as { dataView?: unknown }).dataView;
    const raw = dv instanceof DataView && dv.byteLength >= m * 16 && dv.byteOffset % 4 === 0
      ? new Int32Array(dv.buffer, dv.byteOffset, m * 4) : null;
    const sameShortAsPrevious = (i: number): boolean => raw !== null && raw[4 * i] <= 12 && raw[4 * i] === raw[4 * i - 4] &&
      raw[4 * i + 1] === raw[4 * i - 3] && raw[4 * i + 2] === raw[4 * i - 2] && raw[4 * i + 3] === raw[4 * i - 1];
    for (let i = 0; i < m; i++) {
      if (i > 0 && code[i - 1] >= 0 && sameShortAsPrevious(i)) {
        const id = (code[i] = code[i - 1]);
        if (industry[id] === null) industry[id] = iv.getItem(i) as string | null;
        continue;
      }
      const c = cv.getItem(i) as string | null;
      if (c === null || c === "") {
        code[i] = -1;
        continue;
      }
      let id = codeId.get(c);
      if (id === undefined) {
        codeId.set(c, (id = codes.length));
        codes.push(c);
        industry.push(null);
      }
      if (industry[id] === null) industry[id] = iv.getItem(i) as string | null;
      code[i] = id;
    }
    parts.push({ day: doubles(chunk.getColumnVector(0), m), code,
      num: Array.from({ length: nNum }, (_, k) => doubles(chunk.getColumnVector(3 + k), m)) });
    n += m;
  }
  const concat = <A extends Float64Array | Int32Array>(out: A, pieces: A[]): A => {
    let at = 0;
    for (const a of pieces) {
      out.set(a, at);
      at += a.length;
    }
    return out;
  };
  const day = concat(new Float64Array(n), parts.map((p) => p.day));
  const code = concat(new Int32Array(n), parts.map((p) => p.code));
  const num = Array.from({ length: nNum }, (_, k) => concat(new Float64Array(n), parts.map((p) => p.num[k])));
  return { rows: n, day, code, codes, industry, num };
}

/** SQL that parses a text date in YYYY-MM-DD, YYYYMMDD or YYYY/MM/DD form; NULL if unparsable. */
function dateExpr(col: string): string {
  const t = `trim(CAST(${col} AS VARCHAR))`;
  return `COALESCE(TRY_CAST(${t} AS DATE), CAST(TRY_STRPTIME(${t}, '%Y%m%d') AS DATE), CAST(TRY_STRPTIME(${t}, '%Y/%m/%d') AS DATE))`;
}
/** SQL that parses a number (NaN and Inf strings included; 'true'/'false' for flags). */
function numberExpr(col: string): string {
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

interface Instruments {
  industry: Map<string, string>;
  listDate: Map<string, string>;
  totalShares: Map<string, number>;
  floatShares: Map<string, number>;
}

async function loadInstruments(con: DuckDBConnection, o: NonNullable<LoadOptions["instruments"]>,
  norm: (c: string) => string): Promise<Instruments> {
  if (!existsSync(o.path)) throw new DataError(o.path, "no such file (instruments)");
  const header = (await rows(con, `DESCRIBE SELECT * FROM ${sourceExpr(o.path)}`)).map((r) => String(r[0]));
  const col = (name: string): string | undefined => {
    const mapped = Object.entries(o.map ?? {}).find(([, canon]) => canon === name)?.[0];
    return mapped ?? (header.includes(name) ? name : undefined);
  };
  const code = col("code");
  if (!code) throw new DataError(o.path, `no "code" column (columns: ${header.join(", ")})`);
  const pick = ["industry", "list_date", "total_shares", "float_shares"].map((n) => [n, col(n)] as const);
  const sel = [ident(code), ...pick.map(([n, c]) => (c ? (n === "list_date" ? `CAST(${dateExpr(ident(c))} AS VARCHAR)`
    : n === "industry" ? ident(c) : numberExpr(ident(c))) : "NULL"))];
  const data = await rows(con, `SELECT ${sel.join(", ")} FROM ${sourceExpr(o.path)}`);
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
  if (/^(DOUBLE|FLOAT|REAL|DECIMAL|BIGINT|INTEGER|SMALLINT|TINYINT|HUGEINT|UBIGINT|UINTEGER)/.test(t)) return `CAST(${col} AS DOUBLE)`;
  if (t === "BOOLEAN") return `CAST(${col} AS DOUBLE)`;
  return numberExpr(col);
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
 * messages. `typed`: DuckDB's typed, parallel reader; the types come from the file's first row
 * where we can read it ourselves (the sniffer DuckDB would otherwise run reads and parses a sample
 * of the file first, a third of the load time of a gzip file), else from the sniffer.
 */
async function describeSource(con: DuckDBConnection, path: string, mode: "typed" | "text", o: LoadOptions): Promise<Source> {
  const lower = path.toLowerCase();
  const head = mode === "typed" ? csvHead(path) : null;
  let sql: string;
  if (head) {
    const mapping = resolveMapping(path, head.names, o);
    const byName = new Map([...mapping].map(([canon, src]) => [src, canon]));
    const dateColumn = (name: string): boolean => byName.get(name) === "date";
    const numeric = (name: string): boolean => byName.has(name) && !TEXT_COLUMNS.has(byName.get(name)!);
    let dateFormat = "";
    const types = head.names.map((name, i) => {
      const v = head.first[i].trim();
      if (dateColumn(name)) {
        if (/^\d{4}-\d{2}-\d{2}$/.test(v)) return "DATE";
        if (/^\d{8}$/.test(v)) return (dateFormat = "%Y%m%d"), "DATE";
        if (/^\d{4}\/\d{2}\/\d{2}$/.test(v)) return (dateFormat = "%Y/%m/%d"), "DATE";
        return "VARCHAR";
      }
      // A number DuckDB cannot read (a flag as true/false, say) stays text and is parsed in SQL.
      return numeric(name) && (v === "" || !Number.isNaN(Number(v)) || /^[+-]?(nan|inf(inity)?)$/i.test(v)) ? "DOUBLE" : "VARCHAR";
    });
    const columns = head.names.map((n, i) => `${q(n)}: '${types[i]}'`).join(", ");
    sql = `read_csv(${q(path)}, header=true, auto_detect=false, ${csvDialect(lower)}, buffer_size=1048576, ` +
      `columns={${columns}}${dateFormat ? `, dateformat=${q(dateFormat)}` : ""})`;
    return { sql, described: head.names.map((n, i) => [n, types[i]] as const), header: head.names, mapping };
  }
  sql = mode === "text" || isParquet(lower) ? sourceExpr(path)
    : `read_csv(${q(path)}, header=true, ${csvDialect(lower)})`;
  const described = (await rows(con, `DESCRIBE SELECT * FROM ${sql}`)).map((r) => [String(r[0]), String(r[1])] as const);
  // A UTF-8 byte-order mark may stay in the first column's name.
  const header = described.map(([n]) => n.replace(/^\uFEFF/, ""));
  return { sql, described, header, mapping: resolveMapping(path, header, o) };
}

/** Loads a long bar file into a cleaned Panel and the report that accounts for every row. */
export async function loadBars(path: string, o: LoadOptions = {}): Promise<{ panel: Panel; quality: QualityReport }> {
  if (!existsSync(path)) throw new DataError(path, "no such file");
  if (statSync(path).isDirectory()) throw new DataError(path, "is a folder; for a Qlib data directory use loadQlib");
  if (statSync(path).size === 0) throw new DataError(path, "empty file: expected a header line and rows of daily bars");
  const db = await DuckDBInstance.create(":memory:", { threads: "2" });
  const con = await db.connect();
  let read: Awaited<ReturnType<typeof parseSource>>;
  try {
    read = await readWith(con, path, o);
  } finally {
    // DuckDB's buffers go before the panel is built: they would add to the load's peak memory.
    con.closeSync();
    db.closeSync();
  }
  return buildPanel(read.columns, read.market, read.instruments, o, read.quality);
}

async function readWith(con: DuckDBConnection, path: string, o: LoadOptions): ReturnType<typeof parseSource> {
  // Fast path: DuckDB's typed reader. A value it cannot convert makes it fail; the text path then
  // finds the line and names it.
  try {
    return await parseSource(con, path, o, "typed");
  } catch (e) {
    if (e instanceof DataError) throw e;
  }
  try {
    return await parseSource(con, path, o, "text");
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(path, `cannot be read as a table: ${(e as Error).message.split("\n")[0]}`);
  }
}

async function parseSource(con: DuckDBConnection, path: string, o: LoadOptions, mode: "typed" | "text"):
  Promise<{ columns: Columns; market: Market; instruments: Instruments | undefined; quality: QualityReport }> {
  const quality = newQualityReport(path);
  await con.run("DROP TABLE IF EXISTS typed"); // a typed attempt that failed may have left it
  const { sql: src, described, header, mapping } = await describeSource(con, path, mode, o);
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
  let select: string;
  if (parsedCols.every(([c]) => srcType(c).toUpperCase() !== "VARCHAR")) {
    // Every value arrives typed: nothing can fail to parse, so the rows stream straight out.
    select = `SELECT ${[days(typedExpr(srcCol("date"), srcType("date"), "date")), `trim(CAST(${srcCol("code")} AS VARCHAR))`,
      industryExpr, ...numericCols.map((c) => number(typedExpr(srcCol(c), srcType(c), "number"), c))].join(", ")} FROM ${src}`;
  } else {
    // Parse once into a typed table, keeping a flag for every value that would not parse.
    const nonEmpty = (c: SourceColumn): string => `${srcCol(c)} IS NOT NULL AND trim(CAST(${srcCol(c)} AS VARCHAR)) <> ''`;
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
  let lo = Infinity;
  let hi = -Infinity;
  for (const d of r.day) {
    if (d < lo) lo = d; // NaN (no date) fails both
    if (d > hi) hi = d;
  }
  const present = new Uint8Array(Number.isFinite(lo) ? hi - lo + 1 : 0);
  for (const d of r.day) if (d === d) present[d - lo] = 1;
  const dayToIdx = new Int32Array(present.length).fill(-1);
  const calendar: string[] = [];
  present.forEach((on, k) => {
    if (on) (dayToIdx[k] = calendar.length), calendar.push(new Date((lo + k) * 86400000).toISOString().slice(0, 10));
  });
  const sortedCodes = [...r.codes].sort();
  const market: Market = o.market && o.market !== "auto" ? o.market
    : looksLikeAshare(sortedCodes) || sortedCodes.slice(0, 50).every((c) => /^\d{6}$/.test(c)) ? "cn"
    : sortedCodes.slice(0, 50).every((c) => /^[A-Z][A-Z0-9.\-]{0,6}$/.test(c)) ? "us" : "other";
  const norm = market === "cn" ? normalizeAshareCode : (c: string): string => c;
  const stocks = [...new Set(r.codes.map(norm))].sort();
  const stockIndex = new Map(stocks.map((s, i) => [s, i]));
  const stockOfCode = Int32Array.from(r.codes, (c) => stockIndex.get(norm(c))!);
  const industryOf = new Map<string, string>();
  r.codes.forEach((c, i) => {
    const ind = r.industry[i];
    if (ind !== null && !industryOf.has(norm(c))) industryOf.set(norm(c), ind);
  });
  const stockIdx = r.code; // renumbered in place
  const dateIdx = new Int32Array(r.rows);
  for (let i = 0; i < r.rows; i++) {
    const k = stockIdx[i];
    if (k >= 0) stockIdx[i] = stockOfCode[k];
    const d = r.day[i];
    dateIdx[i] = d === d ? dayToIdx[d - lo] : -1;
  }
  const instruments = o.instruments ? await loadInstruments(con, o.instruments, norm) : undefined;
  const num = new Map<SourceColumn, Float64Array>(numericCols.map((c, i) => [c, r.num[i]]));
  return { columns: { dateIdx, stockIdx, num, calendar, stocks, industryOf }, market, instruments, quality };
}

interface Columns {
  dateIdx: Int32Array;
  stockIdx: Int32Array;
  num: Map<SourceColumn, Float64Array>;
  calendar: string[];
  stocks: string[];
  industryOf: Map<string, string>;
}

/** Pivots validated rows into a Panel, applying CLEANING_RULES and deriving what can be derived. */
function buildPanel(c: Columns, market: Market, inst: Instruments | undefined, o: LoadOptions,
  quality: QualityReport): { panel: Panel; quality: QualityReport } {
  const { calendar, stocks } = c;
  const n = c.dateIdx.length;
  const D = calendar.length;
  const S = stocks.length;
  const line = (i: number): string => `line ${i + 2}`;
  const where = (i: number): string => `${line(i)} (${stocks[c.stockIdx[i]]} ${calendar[c.dateIdx[i]]})`;

  const get = (f: SourceColumn): Float64Array | undefined => c.num.get(f);
  const out: Partial<Record<FieldName, Float64Array>> = {};
  const panelFields: FieldName[] = ["open", "high", "low", "close", "vwap", "volume", "amount", "turnover", "free_turnover",
    "market_cap", "float_cap", "is_st", "is_suspended", "limit_up", "limit_down", "adj_factor", "pe_ttm", "pb", "growth", "leverage"];
  const copied = panelFields.filter((f) => get(f as SourceColumn) && !["open", "high", "low", "close"].includes(f));
  for (const f of panelFields) if (get(f as SourceColumn)) out[f] = emptyField(S, D);
  out.is_suspended ??= emptyField(S, D, 0);
  const preClose = get("pre_close") ? emptyField(S, D) : undefined;
  const universe = get("universe") ? new Uint8Array(S * D) : undefined;
  const totalSharesCol = get("total_shares") ? emptyField(S, D) : undefined;
  const floatSharesCol = get("float_shares") ? emptyField(S, D) : undefined;
  const seen = new Uint8Array(S * D);
  const industry: (string | null)[] = stocks.map((s) => inst?.industry.get(s) ?? c.industryOf.get(s) ?? null);
  // The rows' columns are used only here: a block lets them go before the derived fields are made.
  let sorted = true;
  {
    const [O, H, L, C] = (["open", "high", "low", "close"] as const).map((f) => get(f)!);
    const vol = get("volume")!;
    const isTrading = get("is_trading");
    const uni = get("universe");
    let prevKey = -1;

    for (let i = 0; i < n; i++) {
      const s = c.stockIdx[i];
      const d = c.dateIdx[i];
      if (s < 0 || d < 0) {
        count(quality.rowsDropped, "missing_key");
        example(quality, "missing_key", line(i));
        continue;
      }
      const cell = s * D + d;
      if (d * S + s < prevKey) sorted = false;
      prevKey = d * S + s;
      if (seen[cell]) {
        count(quality.rowsDropped, "duplicate_key");
        example(quality, "duplicate_key", where(i));
        continue;
      }
      const op = O[i];
      let hi = H[i];
      let lo = L[i];
      const cl = C[i];
      if (!(Number.isFinite(op) && Number.isFinite(hi) && Number.isFinite(lo) && Number.isFinite(cl))) {
        count(quality.rowsDropped, "missing_price");
        example(quality, "missing_price", where(i));
        continue;
      }
      if (op <= 0 || hi <= 0 || lo <= 0 || cl <= 0) {
        count(quality.rowsDropped, "non_positive_price");
        example(quality, "non_positive_price", where(i));
        continue;
      }
      seen[cell] = 1;
      quality.rowsKept++;
      if (hi < Math.max(op, cl, lo) || lo > Math.min(op, cl, hi)) {
        count(quality.rowsFlagged, "high_low_inconsistent");
        example(quality, "high_low_inconsistent", where(i));
        hi = Math.max(op, hi, lo, cl);
        lo = Math.min(op, hi, lo, cl);
      }
      out.open![cell] = op;
      out.high![cell] = hi;
      out.low![cell] = lo;
      out.close![cell] = cl;
      let inf = false;
      for (const f of copied) {
        const v = get(f as SourceColumn)![i];
        if (v === Infinity || v === -Infinity) inf = true;
        out[f]![cell] = Number.isFinite(v) ? v : NaN;
      }
      if (preClose) preClose[cell] = get("pre_close")![i];
      if (totalSharesCol) totalSharesCol[cell] = get("total_shares")![i];
      if (floatSharesCol) floatSharesCol[cell] = get("float_shares")![i];
      if (inf) {
        count(quality.rowsFlagged, "non_finite_value");
        example(quality, "non_finite_value", where(i));
      }
      if (isTrading && isTrading[i] === 0) out.is_suspended[cell] = 1;
      if (universe) universe[cell] = uni![i] === 1 ? 1 : 0;
      if (vol[i] === 0) {
        out.is_suspended[cell] = 1;
        count(quality.rowsFlagged, "zero_volume");
      }
    }
  }
  c.num.clear();
  c.dateIdx = c.stockIdx = new Int32Array(0);
  if (!sorted) quality.notes.push("rows were not sorted by (date, code): accepted as they are, nothing lost");

  // Gaps inside each stock's span: the stock was listed but has no bar. Marked suspended.
  const first = new Int32Array(S).fill(-1);
  const last = new Int32Array(S).fill(-1);
  for (let s = 0; s < S; s++) {
    for (let d = 0; d < D; d++) if (seen[s * D + d]) { if (first[s] < 0) first[s] = d; last[s] = d; }
    for (let d = first[s] + 1; d < last[s]; d++) {
      if (seen[s * D + d]) continue;
      out.is_suspended[s * D + d] = 1;
      count(quality.cells, "gap");
      example(quality, "gap", `${stocks[s]} ${calendar[d]}`);
    }
  }

  const derived = quality.derived;
  // Market capitalisation and turnover from share counts (a column, or one static count per stock
  // from the instruments file), on raw prices (before any adjustment).
  const sharesAt = (col: Float64Array | undefined, m: Map<string, number> | undefined): ((s: number, k: number) => number) | null =>
    col ? (_s, k) => col[k] : m?.size ? (s) => m.get(stocks[s]) ?? NaN : null;
  const total = sharesAt(totalSharesCol, inst?.totalShares);
  const float = sharesAt(floatSharesCol, inst?.floatShares);
  const fromShares = (f: FieldName, shares: ReturnType<typeof sharesAt>, value: (k: number, n: number) => number, how: string): void => {
    if (out[f] || !shares) return;
    const x = (out[f] = emptyField(S, D));
    for (let s = 0; s < S; s++) for (let d = 0; d < D; d++) x[s * D + d] = value(s * D + d, shares(s, s * D + d));
    derived.push({ field: f, how });
  };
  fromShares("market_cap", total, (k, n) => out.close![k] * n,
    `close x total shares${totalSharesCol ? "" : " (one static share count per stock from the instruments file)"}`);
  fromShares("float_cap", float, (k, n) => out.close![k] * n, "close x float shares");
  fromShares("turnover", total, (k, n) => out.volume![k] / n, "volume / total shares");
  fromShares("free_turnover", float, (k, n) => out.volume![k] / n, "volume / float shares");
  if (!out.vwap) {
    out.vwap = emptyField(S, D);
    if (out.amount) {
      let typical = 0;
      for (let k = 0; k < S * D; k++) {
        const v = out.amount[k] / out.volume![k];
        const ok = Number.isFinite(v) && v >= out.low![k] * 0.999 && v <= out.high![k] * 1.001;
        out.vwap[k] = ok ? v : (out.high![k] + out.low![k] + out.close![k]) / 3;
        if (!ok && Number.isFinite(out.close![k])) typical++;
      }
      derived.push({ field: "vwap", how: `amount / volume (typical price (h + l + c) / 3 on ${typical} bars where that fell outside [low, high] or volume was 0)` });
    } else {
      for (let k = 0; k < S * D; k++) out.vwap[k] = (out.high![k] + out.low![k] + out.close![k]) / 3;
      derived.push({ field: "vwap", how: "typical price (high + low + close) / 3: the source has no amount" });
    }
  }
  if (!out.amount) {
    out.amount = emptyField(S, D);
    for (let k = 0; k < S * D; k++) out.amount[k] = out.vwap[k] * out.volume![k];
    derived.push({ field: "amount", how: "vwap x volume" });
  }
  if (!out.is_st) {
    out.is_st = emptyField(S, D, 0);
    derived.push({ field: "is_st", how: "not in the source: no stock is treated as ST" });
  }

  // Price limits and suspicious moves, on raw prices.
  const lim = market === "cn";
  const inferLimits = lim && !out.limit_up;
  if (inferLimits) {
    out.limit_up = emptyField(S, D, 0);
    out.limit_down = emptyField(S, D, 0);
    derived.push({ field: "limit_up, limit_down", how: "inferred: close at the board's limit price from the previous close (main 10%, ST 5%, ChiNext and STAR 20% after their reforms)" });
  }
  for (let s = 0; s < S; s++) {
    let prev = NaN;
    for (let d = 0; d < D; d++) {
      const k = s * D + d;
      const cl = out.close![k];
      if (!Number.isFinite(cl)) continue;
      const pc = preClose && Number.isFinite(preClose[k]) ? preClose[k] : prev;
      if (Number.isFinite(pc) && d !== first[s]) {
        const r = cl / pc - 1;
        if (lim) {
          const L = priceLimit(stocks[s], calendar[d], out.is_st![k] === 1);
          const up = Math.round(pc * (1 + L) * 100) / 100;
          const down = Math.round(pc * (1 - L) * 100) / 100;
          if (inferLimits) {
            if (cl >= up - 0.005) out.limit_up![k] = 1;
            if (cl <= down + 0.005) out.limit_down![k] = 1;
          }
          if (!out.adj_factor && Math.abs(r) > L + 0.011) {
            count(quality.rowsFlagged, "move_beyond_price_limit");
            example(quality, "move_beyond_price_limit", `${stocks[s]} ${calendar[d]} (${(r * 100).toFixed(1)}%)`);
          }
        } else if (!out.adj_factor && Math.abs(r) > 0.4) {
          count(quality.rowsFlagged, "extreme_move");
          example(quality, "extreme_move", `${stocks[s]} ${calendar[d]} (${(r * 100).toFixed(1)}%)`);
        }
      }
      prev = cl;
    }
  }
  if (out.limit_up && out.limit_down) {
    quality.cells.limit_up = out.limit_up.reduce((a, b) => a + (b === 1 ? 1 : 0), 0);
    quality.cells.limit_down = out.limit_down.reduce((a, b) => a + (b === 1 ? 1 : 0), 0);
  }
  quality.cells.suspended = out.is_suspended.reduce((a, b) => a + b, 0);

  // Adjustment: adjusted = raw x adj_factor (backward adjustment: no look-ahead); volume / factor.
  let priceBasis = o.priceBasis ?? "raw: as given in the source, no adjustment factor";
  if (out.adj_factor) {
    for (let k = 0; k < S * D; k++) {
      const f = out.adj_factor[k];
      if (!Number.isFinite(f)) continue;
      for (const p of ["open", "high", "low", "close", "vwap"] as const) out[p]![k] *= f;
      out.volume![k] /= f;
    }
    priceBasis = "adjusted: raw x adj_factor (backward adjusted, no look-ahead); volume / adj_factor";
  }
  const noIndustry = stocks.filter((_, i) => industry[i] === null);
  if (noIndustry.length)
    quality.notes.push(`${noIndustry.length} stock(s) without an industry: ${noIndustry.slice(0, 10).join(", ")}` +
      `${noIndustry.length > 10 ? ", ..." : ""} (they form an "unknown" industry downstream)`);
  quality.priceBasis = priceBasis;
  quality.stocks = S;
  quality.dates = D;
  checkAccounting(quality);
  const listDate = stocks.map((s, i) => inst?.listDate.get(s) ?? (first[i] >= 0 ? calendar[first[i]] : null));
  const panel: Panel = { calendar, stocks, fields: out, industry, listDate, indexWeights: {}, universe, priceBasis, market };
  return { panel, quality };
}
