/**
 * Loading daily bars from long CSV or Parquet files (one row per date and stock) through DuckDB,
 * with a column mapping or a preset, into a validated, cleaned Panel and its quality report.
 *
 * Unusable input (no such file, no header, missing required columns, an unparsable date or
 * number) stops with a DataError that names the file, line and column. Everything else follows a
 * documented rule and is counted (see CLEANING_RULES in clean.ts).
 */
import { existsSync, statSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { markGaps, newPivot, pivotBlock } from "./clean.js";
import type { LoadOptions } from "./columns.js";
import { deriveFields, markPriceLimits, multiplyWhereFinite } from "./derive.js";
import { type Panel, countFlag } from "./panel.js";
import { DataError, type QualityReport, checkAccounting } from "./quality.js";
import type { SourceRows } from "./read.js";
import { type LineCount, type SourceFile, countLines, lineOfRecord, releaseSource, sniffSource } from "./source.js";

export type { LoadOptions } from "./columns.js";
export { CLEANING_RULES } from "./clean.js";

/** Loads a long bar file into a cleaned Panel and the report that accounts for every row. */
export async function loadBars(path: string, o: LoadOptions = {}): Promise<{ panel: Panel; quality: QualityReport }> {
  if (!existsSync(path)) throw new DataError(path, "no such file");
  const st = statSync(path);
  if (st.isDirectory()) throw new DataError(path, "is a folder; for a Qlib data directory use loadQlib");
  if (st.size === 0) throw new DataError(path, "empty file: expected a header line and rows of daily bars");
  const src = sniffSource(path, o.encoding);
  try {
    // The typed read, and beside it (for a text file) the file's own count of its lines: a count that
    // fails stops the load (a truncated gzip, bytes that are not UTF-8), a read that fails does not.
    const first = await inWorker(src, o, "typed").catch((e): ReaderRows => {
      if (src.format === "csv") throw e; // the count's: the file itself is broken
      return {}; // Parquet: the text reader below says what is wrong
    });
    let read = first.rows;
    const lines = first.lines;
    const expected = lines?.records ?? read?.sourceRows;
    if (!read || read.columns.rows !== expected) {
      // DuckDB's typed reader failed, or ended early without an error (it does, on a value it cannot
      // convert past its first chunks): the text reader parses every value and names the bad one.
      read = undefined;
      if (src.format === "csv") await countLines(src); // a row with the wrong field count stops here, with its line
      try {
        read = await readInWorker(src, o, "text");
      } catch (e) {
        throw placed(e, src, lines);
      }
      if (expected !== undefined && read.columns.rows !== expected)
        throw new DataError(path, `the table reader returned ${read.columns.rows} rows where the file has ${expected} ` +
          `data ${lines ? "lines" : "rows"}: nothing is loaded rather than a part of the file`);
    }
    if (lines) read.quality.lines = { physical: lines.physical, blank: lines.blank, quotedNewlines: lines.quotedNewlines };
    return buildPanel(read, o, (record) => src.format === "csv" ? `line ${lineOfRecord(lines, record)}` : `row ${record + 1}`);
  } finally {
    releaseSource(src);
  }
}

/** A reader's DataError with its place in the file: the reader counts data records from line 2. */
function placed(e: unknown, src: SourceFile, lines: LineCount | undefined): unknown {
  if (!(e instanceof DataError) || e.line === undefined) return e;
  return src.format === "csv" ? new DataError(e.file, e.reason, lineOfRecord(lines, e.line - 2), e.column)
    : new DataError(e.file, e.reason, e.line - 1, e.column, "row");
}

/** The reader thread's young generation (MiB): small, so that DuckDB's chunks go as they are used. */
const READER_YOUNG_MB = 2;

/**
 * DuckDB reads in a worker thread with a small young generation. Each result chunk it hands over
 * (~160 KiB here) is freed by the finalizer of a small JS wrapper, that is at a scavenge; in the
 * main thread, whose young generation has grown to 16 MiB semi-spaces by then, ~200 chunks piled
 * up before one (35 MB). The rows come back as transferred buffers, not copies.
 */
async function readInWorker(source: SourceFile, o: LoadOptions, mode: "typed" | "text"): Promise<SourceRows> {
  return (await inWorker(source, o, mode)).rows!;
}

async function inWorker(source: SourceFile, o: LoadOptions, mode: "typed" | "text"): Promise<ReaderRows> {
  const worker = new Worker(new URL("./read-worker.js", import.meta.url), {
    workerData: { source, options: o, mode }, resourceLimits: { maxYoungGenerationSizeMb: READER_YOUNG_MB },
  });
  try {
    const reply = await new Promise<ReaderReply>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
      worker.once("exit", (code) => reject(new Error(`${source.file}: the reader thread stopped (exit code ${code}) before sending its reply`)));
    });
    if (!("error" in reply)) return reply;
    const e = reply.error;
    throw e.dataError ? new DataError(e.dataError.file, e.dataError.reason, e.dataError.line, e.dataError.column) : new Error(e.message);
  } finally {
    await worker.terminate();
  }
}

/**
 * What the reader thread sends back: the rows (none when a typed read failed) and, with a typed read
 * of a text file, the file's count of its lines; or the error (a DataError's parts to rebuild it).
 */
export interface ReaderRows {
  rows?: SourceRows;
  lines?: LineCount;
}
export type ReaderReply = ReaderRows | {
  error: { message: string; dataError?: { file: string; reason: string; line?: number; column?: string } };
};

/**
 * Pivots validated rows into a Panel, applying CLEANING_RULES and deriving what can be derived. Each
 * phase is its own function: V8 optimises a small function's loop at once, where one large one was
 * compiled and thrown away several times (0.3 s each), its loops meanwhile boxing every double.
 */
function buildPanel(read: SourceRows, o: LoadOptions, place: (record: number) => string): { panel: Panel; quality: QualityReport } {
  const { columns: c, market, instruments: inst, quality } = read;
  const { calendar, stocks } = c;
  const S = stocks.length;
  const D = calendar.length;
  const pv = newPivot(c, quality, place);
  for (let b = 0; b * c.blockRows < c.rows; b++) pivotBlock(pv, c, b);
  // The rows are used only above: let them go before the derived fields are made.
  c.num.clear();
  c.dateIdx = c.stockIdx = [];
  if (!pv.sorted) quality.notes.push("rows were not sorted by (date, code): accepted as they are, nothing lost");
  const { out, flags } = pv;
  const first = markGaps(pv);
  deriveFields(pv, inst);
  markPriceLimits(pv, market, first);
  quality.cells.suspended = countFlag(pv.suspended);

  // Adjustment: adjusted = raw x adj_factor (backward adjustment: no look-ahead); volume / factor.
  let priceBasis = o.priceBasis ?? "raw: as given in the source, no adjustment factor";
  if (out.adj_factor) {
    for (const p of ["open", "high", "low", "close", "vwap"] as const) multiplyWhereFinite(out[p]!, out.adj_factor, false);
    multiplyWhereFinite(out.volume!, out.adj_factor, true);
    priceBasis = "adjusted: raw x adj_factor (backward adjusted, no look-ahead); volume / adj_factor";
  }
  const industry: (string | null)[] = stocks.map((s) => inst?.industry.get(s) ?? c.industryOf.get(s) ?? null);
  const noIndustry = stocks.filter((_, i) => industry[i] === null);
  if (noIndustry.length)
    quality.notes.push(`${noIndustry.length} stock(s) without an industry: ${noIndustry.slice(0, 10).join(", ")}` +
      `${noIndustry.length > 10 ? ", ..." : ""} (they form an "unknown" industry downstream)`);
  quality.priceBasis = priceBasis;
  quality.stocks = S;
  quality.dates = D;
  checkAccounting(quality);
  const listDate = stocks.map((s, i) => inst?.listDate.get(s) ?? (first[i] >= 0 ? calendar[first[i]] : null));
  // The pivot keeps every flag slot (one record shape for its row loop); the Panel holds the flags it has.
  const given = Object.fromEntries(Object.entries(flags).filter(([, f]) => f !== undefined)) as Panel["flags"];
  const panel: Panel = { calendar, stocks, fields: out, flags: given, industry, listDate, indexWeights: {}, universe: pv.universe, priceBasis, market };
  return { panel, quality };
}
