/**
 * Loading daily bars from long CSV or Parquet files (one row per date and stock) through DuckDB,
 * with a column mapping or a preset, into a validated, cleaned Panel and its quality report.
 *
 * Unusable input (no such file, no header, missing required columns, an unparsable date or
 * number) stops with a DataError that names the file, line and column. Everything else follows a
 * documented rule and is counted (see CLEANING_RULES).
 */
import { existsSync, statSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { FLAG_NAMES, type FieldName, type FlagName, type Market, type Panel, boardOf, countFlag, emptyField, priceLimit } from "./panel.js";
import type { SourceColumn } from "./presets.js";
import { DataError, type QualityReport, checkAccounting, count, example } from "./quality.js";
import type { Columns, Instruments, LoadOptions, SourceRows } from "./read.js";
import { type LineCount, type SourceFile, countLines, lineOfRecord, releaseSource, sniffSource } from "./source.js";

export type { LoadOptions } from "./read.js";

/** What happens to each kind of flawed row; the quality report counts each. */
export const CLEANING_RULES = {
  missing_key: "dropped: the row has no date or no code",
  duplicate_key: "dropped: a later row with the same (date, code) as an earlier one; the first is kept",
  missing_price: "dropped: open, high, low or close is empty, NaN, infinite or a missing-value token (NA, N/A, #N/A, null, None)",
  non_positive_price: "dropped: open, high, low or close is zero or negative",
  negative_volume: "dropped: volume or amount is negative (no honest repair exists)",
  high_low_inconsistent: "kept, repaired: high raised to max(open, high, low, close), low lowered to the min",
  zero_volume: "kept, marked suspended: a bar with zero volume",
  non_finite_value: "kept: a non-price value that is infinite becomes missing (NaN and empty values are missing values)",
  move_beyond_price_limit: "kept, flagged: a close-to-close move beyond the board's limit with no adjustment factor (likely an unadjusted corporate action)",
  extreme_move: "kept, flagged: a close-to-close move beyond 40% in a market without price limits (likely an unadjusted corporate action)",
  gap: "panel cell: a trading date inside a stock's span with no row; marked suspended, prices missing",
  unsorted_rows: "accepted: rows may come in any order",
} as const;

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
  const panel: Panel = { calendar, stocks, fields: out, flags, industry, listDate, indexWeights: {}, universe: pv.universe, priceBasis, market };
  return { panel, quality };
}

/** The panel being filled from the rows, and what the pivot keeps track of. */
interface Pivot {
  S: number;
  D: number;
  stocks: string[];
  calendar: string[];
  quality: QualityReport;
  out: Partial<Record<FieldName, Float64Array>>;
  flags: Partial<Record<FlagName, Uint8Array>>;
  suspended: Uint8Array;
  /** Cells that got a row. */
  seen: Uint8Array;
  universe: Uint8Array | undefined;
  /** Columns used for cleaning and derivation only, not kept in the panel. */
  preClose: Float64Array | undefined;
  totalShares: Float64Array | undefined;
  floatShares: Float64Array | undefined;
  /** Fields copied as they are (after open, high, low, close), and flags given by the source. */
  copied: FieldName[];
  flagsGiven: FlagName[];
  /** Where record i is in the file ("line N" or "row N"). */
  place: (record: number) => string;
  sorted: boolean;
  prevKey: number;
}

function newPivot(c: Columns, quality: QualityReport, place: (record: number) => string): Pivot {
  const S = c.stocks.length;
  const D = c.calendar.length;
  const has = (f: SourceColumn): boolean => c.num.has(f);
  const out: Partial<Record<FieldName, Float64Array>> = {};
  const panelFields: FieldName[] = ["open", "high", "low", "close", "vwap", "volume", "amount", "turnover", "free_turnover",
    "market_cap", "float_cap", "adj_factor", "pe_ttm", "pb", "growth", "leverage"];
  for (const f of panelFields) if (has(f as SourceColumn)) out[f] = emptyField(S, D);
  const flagsGiven = FLAG_NAMES.filter(has);
  // Every flag slot exists from the start, so that the record keeps one shape.
  const flags: Partial<Record<FlagName, Uint8Array>> = { is_st: undefined, is_suspended: undefined, limit_up: undefined, limit_down: undefined };
  for (const f of flagsGiven) flags[f] = new Uint8Array(S * D);
  const suspended = (flags.is_suspended ??= new Uint8Array(S * D));
  const column = (f: SourceColumn): Float64Array | undefined => (has(f) ? emptyField(S, D) : undefined);
  return {
    S, D, stocks: c.stocks, calendar: c.calendar, quality, out, flags, suspended, seen: new Uint8Array(S * D),
    universe: has("universe") ? new Uint8Array(S * D) : undefined,
    preClose: column("pre_close"), totalShares: column("total_shares"), floatShares: column("float_shares"),
    copied: panelFields.filter((f) => has(f as SourceColumn) && !["open", "high", "low", "close"].includes(f)),
    flagsGiven, place, sorted: true, prevKey: -1,
  };
}

/** One block of rows into the panel: the cleaning rules row by row. Allocates nothing per row. */
function pivotBlock(pv: Pivot, c: Columns, b: number): void {
  const { S, D, out, seen, suspended, quality, preClose, totalShares, floatShares } = pv;
  const block = (f: SourceColumn): Float64Array | undefined => c.num.get(f)?.[b];
  const O = block("open")!, H = block("high")!, L = block("low")!, C = block("close")!, vol = block("volume")!;
  const isTrading = block("is_trading");
  const uni = block("universe");
  const copiedFrom = pv.copied.map((f) => block(f as SourceColumn)!);
  const copiedTo = pv.copied.map((f) => out[f]!);
  const flagFrom = pv.flagsGiven.map((f) => block(f)!);
  const flagTo = pv.flagsGiven.map((f) => pv.flags[f]!);
  const preCloseCol = block("pre_close"), totalCol = block("total_shares"), floatCol = block("float_shares");
  const amount = block("amount");
  const open = out.open!, high = out.high!, low = out.low!, close = out.close!;
  const stockIdx = c.stockIdx[b];
  const dateIdx = c.dateIdx[b];
  const m = Math.min(c.blockRows, c.rows - b * c.blockRows);
  const line = (i: number): string => pv.place(b * c.blockRows + i);
  const where = (i: number, s: number, d: number): string => `${line(i)} (${pv.stocks[s]} ${pv.calendar[d]})`;
  for (let i = 0; i < m; i++) {
    const s = stockIdx[i];
    const d = dateIdx[i];
    if (s < 0 || d < 0) {
      count(quality.rowsDropped, "missing_key");
      example(quality, "missing_key", line(i));
      continue;
    }
    const cell = s * D + d;
    if (d * S + s < pv.prevKey) pv.sorted = false;
    pv.prevKey = d * S + s;
    if (seen[cell]) {
      count(quality.rowsDropped, "duplicate_key");
      example(quality, "duplicate_key", where(i, s, d));
      continue;
    }
    const op = O[i];
    let hi = H[i];
    let lo = L[i];
    const cl = C[i];
    if (!(Number.isFinite(op) && Number.isFinite(hi) && Number.isFinite(lo) && Number.isFinite(cl))) {
      count(quality.rowsDropped, "missing_price");
      example(quality, "missing_price", where(i, s, d));
      continue;
    }
    if (op <= 0 || hi <= 0 || lo <= 0 || cl <= 0) {
      count(quality.rowsDropped, "non_positive_price");
      example(quality, "non_positive_price", where(i, s, d));
      continue;
    }
    if (vol[i] < 0 || (amount !== undefined && amount[i] < 0)) {
      count(quality.rowsDropped, "negative_volume");
      example(quality, "negative_volume", where(i, s, d));
      continue;
    }
    seen[cell] = 1;
    quality.rowsKept++;
    if (hi < Math.max(op, cl, lo) || lo > Math.min(op, cl, hi)) {
      count(quality.rowsFlagged, "high_low_inconsistent");
      example(quality, "high_low_inconsistent", where(i, s, d));
      hi = Math.max(op, hi, lo, cl);
      lo = Math.min(op, hi, lo, cl);
    }
    open[cell] = op;
    high[cell] = hi;
    low[cell] = lo;
    close[cell] = cl;
    let inf = false;
    for (let q = 0; q < copiedFrom.length; q++) {
      const v = copiedFrom[q][i];
      if (v === Infinity || v === -Infinity) inf = true;
      copiedTo[q][cell] = Number.isFinite(v) ? v : NaN;
    }
    // A flag column: any non-zero number is true.
    for (let q = 0; q < flagFrom.length; q++) flagTo[q][cell] = flagFrom[q][i] !== 0 && Number.isFinite(flagFrom[q][i]) ? 1 : 0;
    if (preClose) preClose[cell] = preCloseCol![i];
    if (totalShares) totalShares[cell] = totalCol![i];
    if (floatShares) floatShares[cell] = floatCol![i];
    if (inf) {
      count(quality.rowsFlagged, "non_finite_value");
      example(quality, "non_finite_value", where(i, s, d));
    }
    if (isTrading && isTrading[i] === 0) suspended[cell] = 1;
    if (pv.universe) pv.universe[cell] = uni![i] === 1 ? 1 : 0;
    if (vol[i] === 0) {
      suspended[cell] = 1;
      count(quality.rowsFlagged, "zero_volume");
    }
  }
}

/** Gaps inside each stock's span (listed, but no bar) are marked suspended. Returns each stock's first date. */
function markGaps(pv: Pivot): Int32Array {
  const { S, D, seen, quality } = pv;
  const first = new Int32Array(S).fill(-1);
  const last = new Int32Array(S).fill(-1);
  for (let s = 0; s < S; s++) {
    for (let d = 0; d < D; d++) if (seen[s * D + d]) { if (first[s] < 0) first[s] = d; last[s] = d; }
    for (let d = first[s] + 1; d < last[s]; d++) {
      if (seen[s * D + d]) continue;
      pv.suspended[s * D + d] = 1;
      count(quality.cells, "gap");
      example(quality, "gap", `${pv.stocks[s]} ${pv.calendar[d]}`);
    }
  }
  return first;
}

/** Caps, turnover and vwap where the source lacks them and an honest derivation exists; is_st when absent. */
function deriveFields(pv: Pivot, inst: Instruments | undefined): void {
  const { S, D, out, flags } = pv;
  const derived = pv.quality.derived;
  // From share counts (a column, or one static count per stock from the instruments file), on raw
  // prices (before any adjustment).
  const sharesOf = (col: Float64Array | undefined, m: Map<string, number> | undefined): Float64Array | Map<string, number> | undefined =>
    col ?? (m?.size ? m : undefined);
  const fromShares = (f: FieldName, shares: ReturnType<typeof sharesOf>, base: Float64Array, divide: boolean, how: string): void => {
    if (out[f] || !shares) return;
    const x = (out[f] = emptyField(S, D));
    for (let s = 0; s < S; s++) {
      const perStock = shares instanceof Map ? shares.get(pv.stocks[s]) ?? NaN : NaN;
      for (let k = s * D; k < (s + 1) * D; k++) {
        const n = shares instanceof Map ? perStock : shares[k];
        x[k] = divide ? base[k] / n : base[k] * n;
      }
    }
    derived.push({ field: f, how });
  };
  const total = sharesOf(pv.totalShares, inst?.totalShares);
  const float = sharesOf(pv.floatShares, inst?.floatShares);
  fromShares("market_cap", total, out.close!, false,
    `close x total shares${pv.totalShares ? "" : " (one static share count per stock from the instruments file)"}`);
  fromShares("float_cap", float, out.close!, false, "close x float shares");
  fromShares("turnover", total, out.volume!, true, "volume / total shares");
  fromShares("free_turnover", float, out.volume!, true, "volume / float shares");
  if (!out.vwap) {
    const vwap = (out.vwap = emptyField(S, D));
    const high = out.high!, low = out.low!, close = out.close!, volume = out.volume!, amount = out.amount;
    if (amount) {
      let typical = 0;
      for (let k = 0; k < S * D; k++) {
        const v = amount[k] / volume[k];
        const ok = Number.isFinite(v) && v >= low[k] * 0.999 && v <= high[k] * 1.001;
        vwap[k] = ok ? v : (high[k] + low[k] + close[k]) / 3;
        if (!ok && Number.isFinite(close[k])) typical++;
      }
      derived.push({ field: "vwap", how: `amount / volume (typical price (h + l + c) / 3 on ${typical} bars where that fell outside [low, high] or volume was 0)` });
    } else {
      for (let k = 0; k < S * D; k++) vwap[k] = (high[k] + low[k] + close[k]) / 3;
      derived.push({ field: "vwap", how: "typical price (high + low + close) / 3: the source has no amount" });
    }
  }
  // No amount is made up from vwap x volume: with vwap a typical price it would not be the traded
  // value, and the one stage that wants traded value (the size proxy) says what it uses instead.
  if (!flags.is_st) {
    flags.is_st = new Uint8Array(S * D);
    derived.push({ field: "is_st", how: "not in the source: no stock is treated as ST" });
  }
}

/** Limit-up/down flags inferred from the board's rules (A-shares), and moves no limit allows, on raw prices. */
function markPriceLimits(pv: Pivot, market: Market, first: Int32Array): void {
  const { S, D, out, flags, quality, preClose } = pv;
  const lim = market === "cn";
  const inferLimits = lim && !flags.limit_up;
  if (inferLimits) {
    flags.limit_up = new Uint8Array(S * D);
    flags.limit_down = new Uint8Array(S * D);
    quality.derived.push({ field: "limit_up, limit_down", how: "inferred: close at the board's limit price from the previous close (main 10%, ST 5%, ChiNext and STAR 20% after their reforms)" });
  }
  const close = out.close!, isSt = flags.is_st!, up = flags.limit_up, down = flags.limit_down;
  const adjusted = out.adj_factor !== undefined;
  for (let s = 0; s < S; s++) {
    const board = boardOf(pv.stocks[s]);
    let prev = NaN;
    for (let d = 0; d < D; d++) {
      const k = s * D + d;
      const cl = close[k];
      if (!Number.isFinite(cl)) continue;
      const pc = preClose && Number.isFinite(preClose[k]) ? preClose[k] : prev;
      prev = cl;
      if (!Number.isFinite(pc) || d === first[s]) continue;
      const r = cl / pc - 1;
      if (lim) {
        const L = priceLimit(board, pv.calendar[d], isSt[k] === 1);
        if (inferLimits) {
          if (cl >= Math.round(pc * (1 + L) * 100) / 100 - 0.005) up![k] = 1;
          if (cl <= Math.round(pc * (1 - L) * 100) / 100 + 0.005) down![k] = 1;
        }
        if (!adjusted && Math.abs(r) > L + 0.011) {
          count(quality.rowsFlagged, "move_beyond_price_limit");
          example(quality, "move_beyond_price_limit", `${pv.stocks[s]} ${pv.calendar[d]} (${(r * 100).toFixed(1)}%)`);
        }
      } else if (!adjusted && Math.abs(r) > 0.4) {
        count(quality.rowsFlagged, "extreme_move");
        example(quality, "extreme_move", `${pv.stocks[s]} ${pv.calendar[d]} (${(r * 100).toFixed(1)}%)`);
      }
    }
  }
  if (up && down) {
    quality.cells.limit_up = countFlag(up);
    quality.cells.limit_down = countFlag(down);
  }
}

/** x *= f (or x /= f) where f is finite. */
function multiplyWhereFinite(x: Float64Array, f: Float64Array, divide: boolean): void {
  for (let k = 0; k < x.length; k++) if (Number.isFinite(f[k])) x[k] = divide ? x[k] / f[k] : x[k] * f[k];
}
