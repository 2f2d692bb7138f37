/** The instruments file: static attributes per stock (industry, listing date, share counts) beside the bars. */
import { existsSync } from "node:fs";
import type { DuckDBConnection } from "@duckdb/node-api";
import type { LoadOptions } from "./columns.js";
import { DataError } from "./quality.js";
import { sniffSource } from "./source.js";
import { csvExpr, dateExpr, ident, numberExpr, q, rows } from "./sql.js";

export interface Instruments {
  industry: Map<string, string>;
  listDate: Map<string, string>;
  totalShares: Map<string, number>;
  floatShares: Map<string, number>;
}

export async function loadInstruments(con: DuckDBConnection, o: NonNullable<LoadOptions["instruments"]>,
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
