/**
 * The data-quality report: every input row is accounted for. rowsIn = rowsKept + the sum of
 * rowsDropped; flagged rows are kept (and repaired or marked), cells count what the panel filled.
 */
export interface QualityReport {
  source: string;
  rowsIn: number;
  rowsKept: number;
  /** Rows removed, by reason. */
  rowsDropped: Record<string, number>;
  /** Rows kept but repaired or marked, by reason. */
  rowsFlagged: Record<string, number>;
  /** Panel cells, by what they are (gaps inside a stock's span, cells at a price limit...). */
  cells: Record<string, number>;
  /** Fields derived from others, and how. */
  derived: { field: string; how: string }[];
  /** Unit conversions applied to the source's columns. */
  conversions: { column: string; field: string; factor: number; note: string }[];
  priceBasis: string;
  stocks: number;
  dates: number;
  /**
   * The text file's own count of its lines, independent of the table reader: physical = 1 (the
   * header) + rowsIn + blank + quotedNewlines. Absent for Parquet, whose row count is its metadata's.
   */
  lines?: { physical: number; blank: number; quotedNewlines: number };
  /** Remarks that need no count (e.g. unsorted input). */
  notes: string[];
  /** Examples of each reason (file line numbers or stock/date), a few per reason. */
  examples: Record<string, string[]>;
}

export function newQualityReport(source: string): QualityReport {
  return {
    source, rowsIn: 0, rowsKept: 0, rowsDropped: {}, rowsFlagged: {}, cells: {}, derived: [], conversions: [],
    priceBasis: "", stocks: 0, dates: 0, notes: [], examples: {},
  };
}

export function count(bucket: Record<string, number>, reason: string, n = 1): void {
  bucket[reason] = (bucket[reason] ?? 0) + n;
}

export function example(q: QualityReport, reason: string, where: string): void {
  const list = (q.examples[reason] ??= []);
  if (list.length < 5) list.push(where);
}

/** rowsIn = rowsKept + dropped, or an error that says by how much it fails. */
export function checkAccounting(q: QualityReport): void {
  const dropped = Object.values(q.rowsDropped).reduce((a, b) => a + b, 0);
  if (q.rowsIn !== q.rowsKept + dropped)
    throw new Error(`${q.source}: ${q.rowsIn} rows in, but ${q.rowsKept} kept + ${dropped} dropped`);
  const l = q.lines;
  if (l && l.physical !== 1 + q.rowsIn + l.blank + l.quotedNewlines)
    throw new Error(`${q.source}: ${l.physical} lines, but 1 header + ${q.rowsIn} rows + ${l.blank} empty + ${l.quotedNewlines} inside quotes`);
}

/** Unusable input: names the file, line and column, and what was expected. */
export class DataError extends Error {
  /** `reason` is what was wrong, without the place (the message has both). */
  /** `place`: "line" for text files (physical lines, the header is line 1), "row" for Parquet rows. */
  constructor(readonly file: string, readonly reason: string, readonly line?: number, readonly column?: string,
    readonly place: "line" | "row" = "line") {
    super(`${file}${line !== undefined ? `, ${place} ${line}` : ""}${column ? `, column "${column}"` : ""}: ${reason}`);
    this.name = "DataError";
  }
}
