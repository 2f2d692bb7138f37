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
    const bytes = Buffer.from(native.toBuffer(t.handle));
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

export function decodeSafetensors(buf: Buffer, source = "safetensors buffer"):
  { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  if (buf.length < 8) throw new Error(`${source}: ${buf.length} bytes, too short for a safetensors header`);
  const n = Number(buf.readBigUInt64LE(0));
  if (8 + n > buf.length) throw new Error(`${source}: header length ${n} runs past the end of the file (${buf.length} bytes)`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + n).toString("utf8"));
  } catch (e) {
    throw new Error(`${source}: the header is not valid JSON (${(e as Error).message})`);
  }
  const metadata = ((header as Record<string, unknown>).__metadata__ ?? {}) as Record<string, string>;
  const tensors = new Map<string, Tensor>();
  const data = buf.subarray(8 + n);
  for (const [name, e] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const dtype = FROM_NAME.get(e.dtype);
    if (dtype === undefined) throw new Error(`${source}: tensor ${name} has unsupported dtype ${e.dtype}`);
    const [b, end] = e.data_offsets;
    const numel = e.shape.reduce((a, c) => a * c, 1);
    if (end - b !== numel * bytesPerElement(dtype) || end > data.length)
      throw new Error(`${source}: tensor ${name} has ${end - b} bytes for shape [${e.shape}] of ${e.dtype}`);
    // Copy into an aligned buffer: typed arrays need element-aligned offsets.
    const bytes = new Uint8Array(end - b);
    bytes.set(data.subarray(b, end));
    tensors.set(name, new Tensor(native.fromBuffer(bytes, e.shape, dtype)));
  }
  return { tensors, metadata };
}

/** Writes atomically: a partly written file never carries the final name. */
export function saveSafetensors(path: string, tensors: Map<string, Tensor>, metadata: Record<string, string> = {}): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, encodeSafetensors(tensors, metadata));
  renameSync(tmp, path);
}

export function loadSafetensors(path: string): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  return decodeSafetensors(readFileSync(path), path);
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
