/**
 * The reader threads of loadBars: one reads the file with DuckDB and sends the rows back
 * (transferred), one counts the file's lines (source.ts). Each has a small young generation, so that
 * the buffers it streams through are freed as it goes.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { ReaderReply } from "./load.js";
import { DataError } from "./quality.js";
import { type LoadOptions, readSource } from "./read.js";
import { type SourceFile, countLines } from "./source.js";

const { source, options, mode } = workerData as { source: SourceFile; options: LoadOptions; mode: "typed" | "text" | "count" };
let reply: ReaderReply;
try {
  reply = mode === "count" ? { lines: await countLines(source as Extract<SourceFile, { format: "csv" }>) }
    : { rows: await readSource(source, options, mode) };
} catch (e) {
  const err = e as Error;
  reply = { error: { message: err.message, dataError: e instanceof DataError ? { file: e.file, reason: e.reason, line: e.line, column: e.column } : undefined } };
}
const c = "rows" in reply ? reply.rows.columns : undefined;
const buffers = c ? [...c.dateIdx, ...c.stockIdx, ...[...c.num.values()].flat()].map((a) => a.buffer as ArrayBuffer) : [];
parentPort!.postMessage(reply, buffers);
