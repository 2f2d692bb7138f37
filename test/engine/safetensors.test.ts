import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DType, Tensor, decodeSafetensors, encodeSafetensors, loadModel, loadSafetensors, manualSeed, nn, saveModel, tensor,
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
  assert.throws(() => decodeSafetensors(Buffer.alloc(4), "x.safetensors"), /x.safetensors: 4 bytes, too short/);
  const bad = Buffer.from(encodeSafetensors(tensors));
  assert.throws(() => decodeSafetensors(bad.subarray(0, bad.length - 3), "y"), /tensor \w+ has \d+ bytes|runs past/);
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
