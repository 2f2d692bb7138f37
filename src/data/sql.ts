/** The DuckDB SQL shared by the bar reader (read.ts) and factor files (factor.ts): literals, the CSV reader, date and number parsing. */
import type { DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import type { Market } from "./panel.js";
import { type CsvSource, NA_TOKENS } from "./source.js";

/** SQL string literal and identifier. */
export const q = (s: string): string => `'${s.replace(/'/g, "''")}'`;
export const ident = (s: string): string => `"${s.replace(/"/g, '""')}"`;

/**
 * An in-memory DuckDB. The binding is imported here, on first use, not when the data stage is
 * imported: its native library costs a quarter of a second that commands reading no table (help,
 * configuration, `evaluate` before its file) should not pay.
 */
export async function openDuckDB(): Promise<DuckDBInstance> {
  const { DuckDBInstance } = await import("@duckdb/node-api");
  return DuckDBInstance.create(":memory:", { threads: "2" });
}

/**
 * DuckDB's CSV reader over a sniffed file, every column typed as given (no sniffing by DuckDB);
 * `nullTokens`: the NA tokens read as NULL; `nullPadding`: a short row's missing fields as NULL.
 */
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

export type ColumnKind = "number" | "date" | "text";

/** SQL that reads a source column as the kind it must be; typed columns are used as they are. */
export function typedExpr(col: string, sqlType: string, kind: ColumnKind): string {
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
export async function parquetDateExpr(con: DuckDBConnection, src: string, col: string, sqlType: string, market: Market,
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
