/**
 * What a bar or factor file is, judged from its bytes before any table reader sees it, and an
 * independent count of its lines. DuckDB's streaming reader can end early without an error (a
 * value it cannot convert deep in a file, a gzip stream cut short), so the rows it returns are
 * checked against this count: a reader that stops early must never look like a short file.
 */
import { closeSync, createReadStream, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { constants as zlibConstants, createGunzip, gunzipSync } from "node:zlib";
import { isUtf8 } from "node:buffer";
import { DataError } from "./quality.js";

export type Encoding = "utf8" | "gbk";

/** A delimited text file as sniffed from its first bytes. */
export interface CsvSource {
  format: "csv";
  /** The file DuckDB reads: the user's, or a UTF-8 copy of a GBK file. */
  path: string;
  /** The file the user named (for messages). */
  file: string;
  gzip: boolean;
  delimiter: string;
  /** Header names as written (a nameless column gets DuckDB's columnN name), and the first data row's values. */
  names: string[];
  first: string[] | null;
  /** What was inferred about the file, for the quality report. */
  notes: string[];
  /** Whether the first rows hold a missing-value token other than empty or NaN (NA, null, ...). */
  naTokens: boolean;
  /** A temporary copy to delete after reading (a transcoded file). */
  temporary?: string;
}
export interface ParquetSource {
  format: "parquet";
  path: string;
  file: string;
  notes: string[];
}
export type SourceFile = CsvSource | ParquetSource;

const HEAD_BYTES = 1 << 16;
/** The head's text examined for the first rows (a few hundred lines: the rest is not split into fields). */
const HEAD_ROWS_CHARS = 1 << 14;

/** Tokens that mean "no value" in a number column, as empty does (NaN and Inf parse as numbers). */
export const MISSING_TOKENS = ["", "NaN", "nan", "NA", "N/A", "#N/A", "null", "NULL", "None"];
/** The missing-value tokens DuckDB's typed reader cannot read as numbers (empty and NaN it can). */
export const NA_TOKENS = MISSING_TOKENS.filter((t) => t !== "" && !/nan/i.test(t));
const NA_TOKEN_SET = new Set(NA_TOKENS);

/** The first bytes of a file. */
function headBytes(path: string, n = HEAD_BYTES): Buffer {
  const fd = openSync(path, "r");
  try {
    const b = Buffer.alloc(n);
    return b.subarray(0, readSync(fd, b, 0, n, 0));
  } finally {
    closeSync(fd);
  }
}

const startsWith = (b: Buffer, bytes: number[]): boolean => bytes.every((x, i) => b[i] === x);

/**
 * Sniffs a file: Excel workbooks, UTF-16 text and Parquet are told apart by their first bytes (not
 * by the name), gzip by its magic number, the delimiter from the header line. A file that cannot be
 * read as bars stops here with what to do about it.
 */
export function sniffSource(path: string, encoding: Encoding = "utf8"): SourceFile {
  const raw = headBytes(path);
  const lower = path.toLowerCase();
  const notes: string[] = [];
  if (startsWith(raw, [0x50, 0x4b, 0x03, 0x04]) || startsWith(raw, [0xd0, 0xcf, 0x11, 0xe0]))
    throw new DataError(path, "is an Excel workbook, not a CSV: open it in Excel and save the sheet as \"CSV UTF-8 (comma delimited)\"");
  if (startsWith(raw, [0x50, 0x41, 0x52, 0x31])) {
    if (!/\.(parquet|pq)$/.test(lower)) notes.push("Parquet content in a file not named .parquet: read as Parquet");
    return { format: "parquet", path, file: path, notes };
  }
  if (/\.(parquet|pq)$/.test(lower)) throw new DataError(path, "is named .parquet but is not a Parquet file (no PAR1 magic number at its start)");
  const gzip = startsWith(raw, [0x1f, 0x8b]);
  if (gzip && !lower.endsWith(".gz")) notes.push("gzip content in a file not named .gz: read as gzip");
  if (!gzip && lower.endsWith(".gz")) notes.push("a file named .gz whose content is not compressed: read as plain text");
  if (/\.(zst|bz2|xz|zip|7z|rar)$/.test(lower))
    throw new DataError(path, `is compressed in a format alphanet does not read (${lower.slice(lower.lastIndexOf(".") + 1)}): decompress it, or compress it with gzip`);
  let head: Buffer;
  try {
    head = gzip ? gunzipSync(raw, { finishFlush: zlibConstants.Z_SYNC_FLUSH }) : raw;
  } catch (e) {
    throw gzipError(path, e as Error);
  }
  if (gzip && head.length === 0) {
    // A stream cut inside its header decompresses to nothing, without an error.
    gunzipSafe(path);
  }
  if (startsWith(head, [0xff, 0xfe]) || startsWith(head, [0xfe, 0xff]) || looksLikeUtf16(head))
    throw new DataError(path, "is UTF-16 text (Excel's \"Unicode text\"): save it as \"CSV UTF-8 (comma delimited)\", or convert it to UTF-8");
  if (head.length === 0) throw new DataError(path, "empty file: expected a header line and rows of daily bars");
  let text: string;
  let readPath = path;
  let temporary: string | undefined;
  if (encoding === "gbk") {
    // DuckDB reads UTF-8 only: a UTF-8 copy of the whole file, read and counted in its place.
    const all = gzip ? gunzipSafe(path) : readFileSync(path);
    const decoded = new TextDecoder("gbk").decode(all);
    temporary = join(mkdtempSync(join(tmpdir(), "alphanet-gbk-")), "utf8.csv");
    writeFileSync(temporary, decoded);
    readPath = temporary;
    text = decoded.slice(0, HEAD_BYTES);
    notes.push("read as GBK (--encoding gbk) and converted to UTF-8");
  } else {
    try {
      // Streaming: the head may end inside a character.
      text = new TextDecoder("utf-8", { fatal: true }).decode(head, { stream: true });
    } catch {
      throw new DataError(path, notUtf8(), 1 + lineBreaksBefore(head, firstInvalidUtf8(head)));
    }
  }
  text = text.replace(/^\uFEFF/, "");
  const nl = text.indexOf("\n");
  const headerLine = (nl < 0 ? text : text.slice(0, nl)).replace(/\r$/, "");
  if (headerLine.trim() === "") throw new DataError(path, "the first line is empty: expected a header line (date,code,open,high,low,close,volume,...)", 1);
  const tsv = /\.tsv(\.gz)?$/.test(lower);
  let delimiter = tsv ? "\t" : ",";
  if (!tsv && !headerLine.includes(",")) {
    if (headerLine.includes(";")) (delimiter = ";"), notes.push("semicolon-delimited: read with ';' as the delimiter");
    else if (headerLine.includes("\t")) (delimiter = "\t"), notes.push("tab-delimited: read with a tab as the delimiter");
  }
  const names = splitRecord(headerLine, delimiter);
  if (!names) throw new DataError(path, "the header line has an unclosed quote", 1);
  const seen = new Set<string>();
  names.forEach((n, i) => {
    if (n.trim() === "") names[i] = `column${i}`;
    else if (seen.has(n)) throw new DataError(path, `the header names column "${n}" twice`, 1);
    seen.add(names[i]);
  });
  // The first rows: the first data row gives the column types, and NA tokens among them ask the typed
  // reader to read them as NULL. A line the window cuts off is left out.
  let first: string[] | null = null;
  let naTokens = false;
  const window = nl < 0 ? [] : text.slice(nl + 1, nl + 1 + HEAD_ROWS_CHARS).split("\n");
  if (head.length === HEAD_BYTES || text.length > nl + 1 + HEAD_ROWS_CHARS) window.pop();
  for (const l of window) {
    const line = l.replace(/\r$/, "");
    if (line === "") continue;
    const fields = splitRecord(line, delimiter);
    first ??= fields;
    if (fields?.some((f) => NA_TOKEN_SET.has(f.trim()))) naTokens = true;
  }
  return { format: "csv", path: readPath, file: path, gzip: gzip && encoding !== "gbk", delimiter, names, first, notes, temporary, naTokens };
}

/** Deletes what sniffing made for a source (the UTF-8 copy of a GBK file). */
export function releaseSource(src: SourceFile): void {
  if (src.format === "csv" && src.temporary) rmSync(dirname(src.temporary), { recursive: true, force: true });
}

/** Text with a NUL in every other byte of its first line: UTF-16 without a byte-order mark. */
function looksLikeUtf16(b: Buffer): boolean {
  const n = Math.min(b.length, 64);
  let zeros = 0;
  for (let i = 0; i < n; i++) if (b[i] === 0) zeros++;
  return n >= 8 && zeros >= n / 4;
}

function gunzipSafe(path: string): Buffer {
  try {
    return gunzipSync(readFileSync(path));
  } catch (e) {
    throw gzipError(path, e as Error);
  }
}

function gzipError(path: string, e: Error): DataError {
  const m = e.message;
  return /unexpected end/i.test(m)
    ? new DataError(path, "truncated gzip: the compressed stream ends before its end marker (an interrupted download or copy?); get the whole file again")
    : new DataError(path, `corrupt gzip: ${m}; get the file again`);
}

/** One line split into fields (quotes as RFC 4180); null if a quote is left open. */
export function splitRecord(line: string, delim: string): string[] | null {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  let atStart = true;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') (cur += '"'), i++;
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"' && atStart) (quoted = true), (atStart = false);
    else if (ch === delim) out.push(cur), (cur = ""), (atStart = true);
    else (cur += ch), (atStart = false);
  }
  out.push(cur);
  return quoted ? null : out;
}

/** An independent count of a text file's lines and records, and where each record starts. */
export interface LineCount {
  /** Physical lines, the header's included (a last line without a newline counts). */
  physical: number;
  /** Empty lines (DuckDB skips them; they hold no row). */
  blank: number;
  /** Line breaks inside quoted values (a record that spans several lines counts once). */
  quotedNewlines: number;
  /** Data records after the header: what a reader must return. */
  records: number;
  /** Records after which the line numbering jumps, and the extra lines before each (sorted). */
  jumpAt: number[];
  jumpExtra: number[];
}

/** The physical line (1-based, header = 1) of data record i (0-based). */
export function lineOfRecord(c: LineCount | undefined, i: number): number {
  if (!c || c.jumpAt.length === 0 || i < c.jumpAt[0]) return i + 2;
  let lo = 0, hi = c.jumpAt.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (c.jumpAt[mid] <= i) lo = mid;
    else hi = mid - 1;
  }
  return i + 2 + c.jumpExtra[lo];
}

/**
 * Counts the lines and records of a CSV by streaming its bytes (through gunzip when compressed),
 * with quotes opening only at the start of a field as the reader treats them. Stops with the line
 * on a record whose field count differs from the header's (`shortRows`: only on more fields; `fields:
 * false`: only where quotes are, for speed), on bytes that are not UTF-8, and on a truncated or corrupt
 * gzip stream.
 */
export async function countLines(src: CsvSource, o: { shortRows?: boolean; fields?: boolean } = {}): Promise<LineCount> {
  const checkFields = o.fields ?? true;
  const D = src.delimiter.charCodeAt(0);
  const fields0 = src.names.length;
  // Chunks of 64 KiB: buffers wait for a scavenge to be freed, and 1 MiB ones added 25 MB to the peak.
  const stream = createReadStream(src.path, { highWaterMark: 1 << 16 });
  const input = src.gzip ? stream.pipe(createGunzip({ chunkSize: 1 << 16 })) : stream;
  if (src.gzip) stream.on("error", (e) => input.destroy(e));
  // States: 0 field start, 1 unquoted, 2 quoted, 3 a quote inside a quoted field (closing or doubled).
  let state = 0;
  let physical = 0, blank = 0, quotedNewlines = 0, records = -1; // -1: the header is not a data record
  let lineLen = 0; // bytes on the current physical line, a CR excepted
  let fields = 1;
  let recordLine = 1; // the physical line the current record started on
  let atFileStart = true;
  const jumpAt: number[] = [], jumpExtra: number[] = [];
  const fail = (reason: string, line: number): never => {
    stream.destroy();
    throw new DataError(src.file, reason, line);
  };
  const endRecord = (): void => {
    if (fields !== fields0 && !(o.shortRows && fields < fields0))
      fail(`has ${fields} fields where the header has ${fields0} (a delimiter inside an unquoted value, or a cut-off line?)`, recordLine);
    records++;
  };
  /** A line break outside quotes: the record (or empty line) ends. */
  const endLine = (): void => {
    physical++;
    if (lineLen === 0 && state === 0 && fields === 1) blank++; // an empty line: no record (DuckDB skips it)
    else endRecord();
    // The next record (index `records`) starts on line physical + 1: note where that departs from
    // index + 2 (after empty lines and quoted line breaks).
    const extra = physical + 1 - records - 2;
    if (records >= 0 && extra !== (jumpExtra.length ? jumpExtra[jumpExtra.length - 1] : 0)) {
      jumpAt.push(records);
      jumpExtra.push(extra);
    }
    state = 0;
    fields = 1;
    lineLen = 0;
    recordLine = physical + 1;
  };
  // UTF-8 is checked by the platform's validator, chunk by chunk; a character that straddles two
  // chunks is checked whole.
  let carry: Buffer | null = null;
  const checkUtf8 = (chunk: Buffer, from: number): void => {
    let start = from;
    if (carry) {
      const need = utf8Length(carry[0]) - carry.length;
      if (!isUtf8(Buffer.concat([carry, chunk.subarray(0, need)]))) fail(notUtf8(), physical + 1);
      start = Math.max(from, need);
      carry = null;
    }
    let cut = chunk.length;
    for (let k = chunk.length - 1; k >= Math.max(start, chunk.length - 3); k--) {
      if ((chunk[k] & 0xc0) === 0x80) continue;
      if (chunk[k] >= 0xc0 && utf8Length(chunk[k]) > chunk.length - k) (cut = k), (carry = Buffer.from(chunk.subarray(k)));
      break;
    }
    if (!isUtf8(chunk.subarray(start, cut)))
      fail(notUtf8(), physical + 1 + lineBreaksBefore(chunk, start + firstInvalidUtf8(chunk.subarray(start, cut))));
  };
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      const n = chunk.length;
      let i = 0;
      if (atFileStart) {
        atFileStart = false;
        if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) i = 3;
      }
      checkUtf8(chunk, i);
      let nextQuote = chunk.indexOf(0x22, i);
      while (i < n) {
        // Fast path: a whole line without quotes, at a record's start (its delimiters counted with `fields`).
        if (state === 0 && fields === 1 && lineLen === 0) {
          const nl = chunk.indexOf(0x0a, i);
          if (nl >= 0 && (nextQuote < 0 || nextQuote > nl)) {
            lineLen = nl - i - (nl > i && chunk[nl - 1] === 0x0d ? 1 : 0);
            let f = 1;
            if (checkFields) {
              for (let k = i; k < nl; k++) if (chunk[k] === D) f++;
            } else if (lineLen > 0) f = fields0; // not counted: the reader checks them (and a mismatch brings the full count)
            fields = f;
            state = lineLen > 0 || f > 1 ? 1 : 0;
            endLine();
            i = nl + 1;
            continue;
          }
        }
        // Slow path, byte by byte: quotes, or a line that goes on in the next chunk.
        const b = chunk[i++];
        if (b === 0x22 && i - 1 >= nextQuote) nextQuote = chunk.indexOf(0x22, i);
        if (b === 0x0a) {
          if (state === 2) {
            physical++;
            quotedNewlines++;
            lineLen = 0;
          } else endLine();
          continue;
        }
        if (b !== 0x0d) lineLen++;
        if (state === 2) {
          if (b === 0x22) state = 3;
        } else if (state === 3) {
          if (b === 0x22) state = 2;
          else if (b === D) (state = 0), fields++;
          else state = 1;
        } else if (b === D) (state = 0), fields++;
        else if (b === 0x22 && state === 0) state = 2;
        else if (b !== 0x0d) state = 1;
      }
    }
    if (carry) fail(notUtf8(), physical + 1); // a character cut off at the end
  } catch (e) {
    if (e instanceof DataError) throw e;
    if (src.gzip) throw gzipError(src.file, e as Error);
    throw new DataError(src.file, `cannot be read: ${(e as Error).message}`);
  }
  if (state === 2) fail("a quoted value opened on this line is never closed (an unbalanced quote)", recordLine);
  if (lineLen > 0 || state !== 0 || fields > 1) {
    physical++; // a last line without a newline
    if (fields < fields0 && !o.shortRows)
      fail(`the last line is cut off: it has ${fields} of the header's ${fields0} fields and no line end (an interrupted download or copy?)`, recordLine);
    endRecord();
  }
  return { physical, blank, quotedNewlines, records: Math.max(records, 0), jumpAt, jumpExtra };
}

const notUtf8 = (): string =>
  "is not UTF-8 text (Excel and AKShare exports on Chinese Windows are GBK): save it as \"CSV UTF-8\", or pass --encoding gbk";

/** The offset of the first byte that breaks UTF-8 in a buffer (its length if none). */
function firstInvalidUtf8(b: Buffer): number {
  for (let i = 0; i < b.length; i++) {
    const x = b[i];
    if (x < 0x80) continue;
    const need = x >= 0xc2 && x < 0xe0 ? 1 : x >= 0xe0 && x < 0xf0 ? 2 : x >= 0xf0 && x < 0xf5 ? 3 : -1;
    if (need < 0) return i;
    for (let k = 1; k <= need; k++) if (i + k < b.length && (b[i + k] & 0xc0) !== 0x80) return i;
    i += need;
  }
  return b.length;
}

function lineBreaksBefore(b: Buffer, end: number): number {
  let n = 0;
  for (let i = b.indexOf(0x0a); i >= 0 && i < end; i = b.indexOf(0x0a, i + 1)) n++;
  return n;
}

/** The length of the UTF-8 sequence a lead byte starts (1 for a byte that cannot lead one: it fails validation). */
const utf8Length = (b: number): number => (b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1);
