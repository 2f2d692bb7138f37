/** How a bar file's columns map to the canonical fields (preset, --map, options) and the SQL types DuckDB reads them as. */
import type { DuckDBConnection } from "@duckdb/node-api";
import type { Market } from "./panel.js";
import { PRESETS, SOURCE_COLUMNS, type SourceColumn } from "./presets.js";
import { DataError } from "./quality.js";
import { MISSING_TOKENS, type SourceFile } from "./source.js";
import { csvExpr, q, rows } from "./sql.js";

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
export const TEXT_COLUMNS = new Set<SourceColumn>(["date", "code", "industry"]);

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

/** A table source in SQL, its columns and their SQL types. */
export interface Source {
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
export async function describeSource(con: DuckDBConnection, src: SourceFile, mode: "typed" | "text", o: LoadOptions): Promise<Source> {
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
