import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DType, SafetensorsError, Tensor, decodeSafetensors, encodeSafetensors, loadModel, loadSafetensors, manualSeed, nn, saveModel, tensor,
} from "../../src/engine/index.js";
import { FIXTURES, vals } from "../helpers.js";

/** The tensors of from_alphanet.safetensors, and the values Python must read back from it. */
function alphanetTensors(): { tensors: Map<string, Tensor>; expect: Record<string, number[]> } {
  const expect: Record<string, number[]> = {
    f32: [0.5, -1.25, 3],
    f64: [1e-300, Math.PI, -0],
    i64: [-(2 ** 40), 1, 2, 3],
    bool: [1, 0, 0, 1],
  };
  const tensors = new Map<string, Tensor>([
    ["f32", tensor(new Float32Array(expect.f32))],
    ["f64", tensor(new Float64Array(expect.f64))],
    ["i64", tensor(new BigInt64Array(expect.i64.map(BigInt)), [2, 2])],
    ["bool", tensor(expect.bool, [4], { dtype: DType.bool })],
  ]);
  return { tensors, expect };
}

test("a file written by alphanet is byte for byte the fixture that PyTorch read back", () => {
  const { tensors, expect } = alphanetTensors();
  const bytes = encodeSafetensors(tensors, { expect: JSON.stringify(expect) });
  const path = join(FIXTURES, "torch", "from_alphanet.safetensors");
  // make_fixtures.py reads this file with PyTorch and checks `expect`; regenerate it when missing.
  if (!existsSync(path)) writeFileSync(path, bytes);
  assert.ok(readFileSync(path).equals(bytes), "the writer's output changed: rerun make_fixtures.py to re-verify with PyTorch");
});

test("a file written by PyTorch loads with the same values", () => {
  const { tensors, metadata } = loadSafetensors(join(FIXTURES, "torch", "from_pytorch.safetensors"));
  assert.equal(metadata.writer, "make_fixtures.py");
  assert.deepEqual(tensors.get("f32")!.shape, [2, 3]);
  assert.deepEqual(vals(tensors.get("f32")!), [0, 1, 2, 3, 4, 5].map((i) => Math.fround(Math.fround(i) / 7)));
  assert.deepEqual(tensors.get("f64")!.toList(), [1e-300, -2.5, 3]);
  assert.deepEqual(vals(tensors.get("i64")!), [-(2n ** 40n), 7n]);
  assert.deepEqual(vals(tensors.get("bool")!), [1, 0, 1]);
  assert.equal(tensors.get("bf16")!.dtype, DType.bfloat16);
  assert.deepEqual(tensors.get("bf16")!.to(DType.float32).toList().map((v) => +v.toFixed(3)), [1.5, -2, 0.1]);
});

test("round trip of every dtype, and corrupt files are rejected with the reason", () => {
  const { tensors } = alphanetTensors();
  tensors.set("bf16", tensor([1, 2]).to(DType.bfloat16));
  const back = decodeSafetensors(encodeSafetensors(tensors)).tensors;
  for (const [k, t] of tensors) assert.deepEqual(vals(back.get(k)!), vals(t), k);
});

/** A safetensors file with the given header (as JSON text) and data bytes. */
function fileOf(header: unknown, data: Buffer): Buffer {
  const json = Buffer.from(typeof header === "string" ? header : JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, data]);
}

test("malformed files are rejected with a SafetensorsError naming the file and what is wrong", () => {
  const good = encodeSafetensors(new Map([["a", tensor(new Float32Array([1, 2, 3]))], ["b", tensor(new Float64Array([4]))]]));
  const headerLength = Number(good.readBigUInt64LE(0));
  const data = good.subarray(8 + headerLength); // a: 12 bytes at 0, b: 8 bytes at 12
  const entry = (dtype: string, shape: unknown, offsets: unknown): unknown => ({ dtype, shape, data_offsets: offsets });
  const garbledJson = Buffer.from(good);
  garbledJson[8 + 5] = "}".charCodeAt(0);
  const cases: [string, Buffer, RegExp][] = [
    ["empty", Buffer.alloc(0), /0 bytes, too short for a safetensors header/],
    ["cut in the header", good.subarray(0, 8 + headerLength - 4), /header length \d+ runs past the end of the file \(\d+ bytes\): truncated/],
    ["cut in the data", good.subarray(0, good.length - 3), /tensor b's bytes 12\.\.20 run past the end of the data \(17 bytes\): the file is truncated/],
    ["not safetensors (text)", Buffer.from("date,code,close\n2019-01-02,SH600000,10.5\n"), /header length \d+ runs past the end of the file/],
    ["garbled header", garbledJson, /the header is not valid JSON/],
    ["header not an object", fileOf([1, 2], Buffer.alloc(0)), /the header is not a JSON object/],
    ["unknown dtype", fileOf({ a: entry("F7", [3], [0, 12]) }, data.subarray(0, 12)), /tensor a has unsupported dtype "F7"/],
    ["bad shape", fileOf({ a: entry("F32", [-3], [0, 12]) }, data.subarray(0, 12)), /tensor a has shape \[-3\], expected a list of counts/],
    ["bad offsets", fileOf({ a: entry("F32", [3], [12, 0]) }, data.subarray(0, 12)), /tensor a has data_offsets \[12,0\]/],
    ["span not dtype x shape", fileOf({ a: entry("F32", [2, 2], [0, 12]) }, data.subarray(0, 12)), /tensor a spans 12 bytes, but shape \[2,2\] of F32 needs 16/],
    ["offsets past the end", fileOf({ a: entry("F32", [3], [8, 20]) }, data.subarray(0, 12)), /tensor a's bytes 8\.\.20 run past the end of the data \(12 bytes\)/],
    ["a gap", fileOf({ a: entry("F32", [3], [0, 12]), b: entry("F64", [1], [16, 24]) }, Buffer.alloc(24)), /bytes 12\.\.16 of the data belong to no tensor/],
    ["overlap", fileOf({ a: entry("F32", [3], [0, 12]), b: entry("F64", [1], [8, 16]) }, Buffer.alloc(16)), /tensor b overlaps the tensor before it/],
    ["extra bytes", Buffer.concat([good, Buffer.alloc(5)]), /the data section holds 25 bytes, but its tensors end at 20: extra bytes/],
    ["metadata not strings", fileOf({ __metadata__: { n: 1 }, a: entry("F32", [3], [0, 12]) }, data.subarray(0, 12)), /__metadata__ is not an object of strings/],
  ];
  const dir = mkdtempSync(join(tmpdir(), "alphanet-st-"));
  for (const [what, bytes, want] of cases) {
    const path = join(dir, `${what.replace(/\W+/g, "_")}.safetensors`);
    writeFileSync(path, bytes);
    assert.throws(() => loadSafetensors(path), (e: Error) => {
      assert.ok(e instanceof SafetensorsError, `${what}: ${e.name}`);
      assert.equal(e.file, path);
      assert.ok(e.message.startsWith(`${path}: `), `${what}: ${e.message}`);
      assert.match(e.reason, want, what);
      return true;
    }, what);
  }
  assert.throws(() => loadSafetensors(join(dir, "nosuch.safetensors")), /nosuch\.safetensors: no such file/);
  // The well-formed file the broken ones came from reads, and so do zero-element tensors.
  assert.deepEqual(decodeSafetensors(good).tensors.get("a")!.toList(), [1, 2, 3]);
  const empty = encodeSafetensors(new Map([["z", tensor(new Float32Array(0))], ["a", tensor(new Float32Array([5]))]]));
  assert.deepEqual(decodeSafetensors(empty).tensors.get("z")!.shape, [0]);
});

test("saveModel and loadModel restore a module and its manifest", () => {
  manualSeed(5);
  const dir = mkdtempSync(join(tmpdir(), "alphanet-model-"));
  const a = new nn.LSTM({ inputSize: 3, hiddenSize: 4, bidirectional: true });
  saveModel(dir, a.stateDict(), { kind: "lstm", features: ["x", "y"] });
  const b = new nn.LSTM({ inputSize: 3, hiddenSize: 4, bidirectional: true });
  const { stateDict, manifest } = loadModel<{ kind: string }>(dir);
  b.loadStateDict(stateDict);
  assert.equal(manifest.kind, "lstm");
  for (const [k, t] of a.stateDict()) assert.deepEqual(b.stateDict().get(k)!.toList(), t.toList());
  assert.throws(() => new nn.Linear(2, 2).loadStateDict(stateDict), /missing keys \[weight, bias\]/);
});
