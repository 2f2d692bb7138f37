/**
 * safetensors: 8-byte little-endian header length, a JSON header
 * {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}, then the
 * raw little-endian bytes. Readable by Python's safetensors and by PyTorch through it.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DType, SAFETENSORS_DTYPE, bytesPerElement } from "./dtype.js";
import { Tensor } from "./tensor.js";
import { native } from "./native.js";

const FROM_NAME = new Map(Object.entries(SAFETENSORS_DTYPE).map(([k, v]) => [v, Number(k) as DType]));

export function encodeSafetensors(tensors: Map<string, Tensor>, metadata: Record<string, string> = {}): Buffer {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  const blobs: Buffer[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    const bytes = Buffer.from(native().toBuffer(t.handle));
    header[name] = { dtype: SAFETENSORS_DTYPE[t.dtype], shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    blobs.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so that the data starts 8-byte aligned (as the reference writer does).
  json += " ".repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([len, Buffer.from(json), ...blobs]);
}

/** A file that is not a well-formed safetensors file: `file` and what is wrong with it (`reason`). */
export class SafetensorsError extends Error {
  constructor(readonly file: string, readonly reason: string) {
    super(`${file}: ${reason}`);
    this.name = "SafetensorsError";
  }
}

/** One tensor's entry in a safetensors header, validated. */
export interface SafetensorsEntry {
  name: string;
  dtype: DType;
  shape: number[];
  begin: number;
  end: number;
}

const isCount = (x: unknown): x is number => typeof x === "number" && Number.isSafeInteger(x) && x >= 0;

/**
 * Reads and checks a safetensors header without touching the data: the header length lies within
 * the file, the header is a JSON object, every tensor has a known dtype, a shape of counts and offsets
 * whose span is dtype size x elements, and the tensors tile the data section, which ends where the
 * file does (as the reference reader requires: a file cut short or padded is not read).
 */
export function parseSafetensorsHeader(buf: Buffer, source = "safetensors buffer"):
  { entries: SafetensorsEntry[]; metadata: Record<string, string>; dataStart: number } {
  const fail = (reason: string): never => {
    throw new SafetensorsError(source, reason);
  };
  if (buf.length < 8) fail(`${buf.length} bytes, too short for a safetensors header (the file is empty or truncated)`);
  const n = buf.readBigUInt64LE(0);
  if (n > BigInt(buf.length - 8))
    fail(`the header length ${n} runs past the end of the file (${buf.length} bytes): truncated, or not a safetensors file`);
  const dataStart = 8 + Number(n);
  let header: unknown;
  try {
    header = JSON.parse(buf.subarray(8, dataStart).toString("utf8"));
  } catch (e) {
    fail(`the header is not valid JSON (${(e as Error).message.replace(/\s+/g, " ")}): not a safetensors file, or a damaged one`);
  }
  if (!header || typeof header !== "object" || Array.isArray(header)) fail("the header is not a JSON object");
  const dataLength = buf.length - dataStart;
  let metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, e] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (!e || typeof e !== "object" || Array.isArray(e) || Object.values(e).some((v) => typeof v !== "string"))
        fail("__metadata__ is not an object of strings");
      metadata = e as Record<string, string>;
      continue;
    }
    const t = e as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (!t || typeof t !== "object") fail(`tensor ${name}: not an object with dtype, shape and data_offsets`);
    const dtype = FROM_NAME.get(t!.dtype as string);
    if (dtype === undefined) fail(`tensor ${name} has unsupported dtype ${JSON.stringify(t!.dtype)}`);
    const shape = t!.shape;
    if (!Array.isArray(shape) || !shape.every(isCount)) fail(`tensor ${name} has shape ${JSON.stringify(shape)}, expected a list of counts`);
    const offsets = t!.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[1] < offsets[0])
      fail(`tensor ${name} has data_offsets ${JSON.stringify(offsets)}, expected [begin, end] with begin <= end`);
    const [begin, end] = offsets as [number, number];
    const numel = (shape as number[]).reduce((a, c) => a * c, 1);
    if (end - begin !== numel * bytesPerElement(dtype!))
      fail(`tensor ${name} spans ${end - begin} bytes, but shape [${shape}] of ${t!.dtype} needs ${numel * bytesPerElement(dtype!)}`);
    if (end > dataLength)
      fail(`tensor ${name}'s bytes ${begin}..${end} run past the end of the data (${dataLength} bytes): the file is truncated`);
    entries.push({ name, dtype: dtype!, shape: shape as number[], begin, end });
  }
  // The tensors must tile the data section: no gaps, no overlaps, nothing after the last.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const e of sorted) {
    if (e.begin !== at)
      fail(e.begin < at ? `tensor ${e.name} overlaps the tensor before it (bytes ${e.begin}..${e.end}, the previous ends at ${at})`
        : `bytes ${at}..${e.begin} of the data belong to no tensor`);
    at = e.end;
  }
  if (at !== dataLength) fail(`the data section holds ${dataLength} bytes, but its tensors end at ${at}: extra bytes at the end of the file`);
  return { entries, metadata, dataStart };
}

export function decodeSafetensors(buf: Buffer, source = "safetensors buffer"):
  { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  const { entries, metadata, dataStart } = parseSafetensorsHeader(buf, source);
  const tensors = new Map<string, Tensor>();
  for (const e of entries) {
    // Copy into an aligned buffer: typed arrays need element-aligned offsets.
    const bytes = new Uint8Array(e.end - e.begin);
    bytes.set(buf.subarray(dataStart + e.begin, dataStart + e.end));
    tensors.set(e.name, new Tensor(native().fromBuffer(bytes, e.shape, e.dtype)));
  }
  return { tensors, metadata };
}

/** Writes atomically: a partly written file never carries the final name. */
export function saveSafetensors(path: string, tensors: Map<string, Tensor>, metadata: Record<string, string> = {}): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, encodeSafetensors(tensors, metadata));
  renameSync(tmp, path);
}

/** Reads a file (a SafetensorsError naming it when it is missing, unreadable or malformed). */
export function loadSafetensors(path: string): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  return decodeSafetensors(readSafetensorsFile(path), path);
}

/** The file's bytes, or a SafetensorsError naming it. */
export function readSafetensorsFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SafetensorsError(path, code === "ENOENT" ? "no such file" : code === "EISDIR" ? "a folder, not a file" : (e as Error).message);
  }
}

/**
 * A model on disk: `weights.safetensors` (the state dict, PyTorch's names) and `manifest.json`
 * (whatever describes it: config, feature selection, data hash, metrics). Both written atomically.
 */
export function saveModel(dir: string, stateDict: Map<string, Tensor>, manifest: unknown): void {
  mkdirSync(dir, { recursive: true });
  saveSafetensors(join(dir, "weights.safetensors"), stateDict, { format: "pt" });
  const tmp = join(dir, `manifest.json.tmp-${process.pid}`);
  writeFileSync(tmp, JSON.stringify(manifest, null, 2));
  renameSync(tmp, join(dir, "manifest.json"));
}

export function loadModel<M = unknown>(dir: string): { stateDict: Map<string, Tensor>; manifest: M } {
  const { tensors } = loadSafetensors(join(dir, "weights.safetensors"));
  const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as M;
  return { stateDict: tensors, manifest };
}
