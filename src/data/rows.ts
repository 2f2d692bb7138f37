/** A bar file's rows in blocks of typed arrays, streamed from DuckDB: the one copy of the rows, with no string or object per row. */
import type { DuckDBConnection } from "@duckdb/node-api";
import type { SourceColumn } from "./presets.js";
import { MISSING_TOKENS } from "./source.js";

/**
 * Rows are kept in blocks of ROW_BLOCK rows per column, filled in place as DuckDB's chunks arrive:
 * no chunk-sized pieces to join at the end (which held every row twice), and no guess of the row
 * count. Row i is at [i >>> ROW_SHIFT][i & ROW_MASK].
 */
const ROW_SHIFT = 16;
export const ROW_BLOCK = 1 << ROW_SHIFT;
const ROW_MASK = ROW_BLOCK - 1;
/** A row without a code, or without a date (-1 would be 1969-12-31), in the integer key columns. */
export const NO_CODE = -1;
export const NO_DAY = -0x80000000;
const MISSING_CODE = new Set(MISSING_TOKENS);

/** The rows a query yields, as a load reads them: integer keys, the code, numbers. */
export interface RowColumns {
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
export async function readRows(con: DuckDBConnection, sql: string, nNum: number): Promise<RowColumns> {
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

/** The first row (0-based) that has code number `id`. */
export function firstRowOf(r: RowColumns, id: number): number {
  for (let b = 0; b < r.code.length; b++) {
    const i = r.code[b].indexOf(id);
    if (i >= 0 && b * ROW_BLOCK + i < r.rows) return b * ROW_BLOCK + i;
  }
  return -1;
}

/** Row i is (block i >>> ROW_SHIFT, offset i & ROW_MASK); f runs over the rows in order. */
export function forEachRow(rows: number, f: (block: number, j: number) => void): void {
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
