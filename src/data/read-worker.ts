/**
 * The reader thread of loadBars: reads the file with DuckDB and sends the rows back (transferred),
 * with the file's own count of its lines (source.ts) on the typed read.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { LoadOptions } from "./columns.js";
import type { ReaderReply } from "./load.js";
import { DataError } from "./quality.js";
import { readSource } from "./read.js";
import { type SourceFile, countLines } from "./source.js";

const { source, options, mode } = workerData as { source: SourceFile; options: LoadOptions; mode: "typed" | "text" };
let reply: ReaderReply;
try {
  if (mode === "typed" && source.format === "csv") {
    // The file's own count of its lines beside DuckDB's read, in this thread (whose small young
    // generation frees the streamed buffers as it goes); the count leaves the field count of each
    // line to the reader (a mismatch brings the full count). A count that fails is the file's fault.
    const counting = countLines(source, { fields: false });
    counting.catch(() => {});
    const rows = await readSource(source, options, mode).catch(() => undefined);
    reply = { lines: await counting, rows };
  } else {
    reply = { rows: await readSource(source, options, mode) };
  }
} catch (e) {
  const err = e as Error;
  reply = { error: { message: err.message, dataError: e instanceof DataError ? { file: e.file, reason: e.reason, line: e.line, column: e.column } : undefined } };
}
const c = "error" in reply ? undefined : reply.rows?.columns;
const buffers = c ? [...c.dateIdx, ...c.stockIdx, ...[...c.num.values()].flat()].map((a) => a.buffer as ArrayBuffer) : [];
parentPort!.postMessage(reply, buffers);
