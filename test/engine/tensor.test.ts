import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DType, Tensor, arange, cat, keep, linalg, manualSeed, memoryStats, noGrad, ones, profile, randn, scope, stack, tensor, zeros,
} from "../../src/engine/index.js";
import { assertClose, vals } from "../helpers.js";

test("typed arrays round-trip for every dtype", () => {
  const f32 = tensor(new Float32Array([1.5, -2, 3]));
  assert.deepEqual(vals(f32), [1.5, -2, 3]);
  const f64 = tensor(new Float64Array([1e-300, 2]));
  assert.equal(f64.dtype, DType.float64);
  assert.deepEqual(vals(f64), [1e-300, 2]);
  const i64 = tensor(new BigInt64Array([-(2n ** 40n), 7n]), [1, 2]);
  assert.deepEqual(vals(i64), [-(2n ** 40n), 7n]);
  assert.deepEqual(i64.shape, [1, 2]);
  const b = tensor([1, 0, 1], undefined, { dtype: DType.bool });
  assert.deepEqual(vals(b), [1, 0, 1]);
  const bf = tensor([1.5, -2, 0.1]).to(DType.bfloat16);
  assert.equal(bf.dtype, DType.bfloat16);
  assertClose(bf.to(DType.float32), [1.5, -2, 0.1], { rtol: 1e-2 });
});

test("view() is zero-copy over torch memory and outlives dispose()", () => {
  const t = zeros([4]);
  const v = t.view() as Float32Array;
  t.add_(2);
  assert.deepEqual(Array.from(v), [2, 2, 2, 2]);
  v[1] = 5;
  assert.deepEqual(t.toList(), [2, 5, 2, 2]);
  t.dispose();
  assert.equal(v[1], 5);
});

test("shape and indexing operations equal hand-computed values", () => {
  const a = arange(0, 12, 1, DType.float32).reshape(3, 4);
  assert.deepEqual(a.transpose(0, 1).contiguous().toList(), [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
  assert.deepEqual(a.narrow(1, 1, 2).contiguous().toList(), [1, 2, 5, 6, 9, 10]);
  assert.deepEqual(a.indexSelect(0, tensor(new BigInt64Array([2n, 0n]))).toList(), [8, 9, 10, 11, 0, 1, 2, 3]);
  assert.deepEqual(a.gather(1, tensor(new BigInt64Array([3n, 0n, 1n]), [3, 1])).toList(), [3, 4, 9]);
  assert.deepEqual(a.maskedSelect(a.gt(8)).toList(), [9, 10, 11]);
  assert.deepEqual(cat([a.narrow(0, 0, 1), a.narrow(0, 2, 1)], 0).toList(), [0, 1, 2, 3, 8, 9, 10, 11]);
  assert.deepEqual(stack([ones([2]), zeros([2])], 1).toList(), [1, 0, 1, 0]);
  const u = arange(0, 5, 1, DType.float32).unfold(0, 3, 1);
  assert.deepEqual(u.shape, [3, 3]);
  assert.deepEqual(u.contiguous().toList(), [0, 1, 2, 1, 2, 3, 2, 3, 4]);
  assert.deepEqual(tensor([1, 2]).reshape(2, 1).expand(2, 3).contiguous().toList(), [1, 1, 1, 2, 2, 2]);
  assert.deepEqual(a.permute(1, 0).shape, [4, 3]);
});

test("reductions equal float64 loops", () => {
  manualSeed(1);
  const x = randn([5, 7], { dtype: DType.float64 });
  const v = x.toList();
  const row = (i: number): number[] => v.slice(i * 7, i * 7 + 7);
  const mean = (r: number[]): number => r.reduce((a, b) => a + b, 0) / r.length;
  const varU = (r: number[]): number => r.reduce((a, b) => a + (b - mean(r)) ** 2, 0) / (r.length - 1);
  assertClose(x.sum(1), [0, 1, 2, 3, 4].map((i) => row(i).reduce((a, b) => a + b, 0)), { rtol: 1e-12 });
  assertClose(x.mean(1), [0, 1, 2, 3, 4].map((i) => mean(row(i))), { rtol: 1e-12 });
  assertClose(x.var(1), [0, 1, 2, 3, 4].map((i) => varU(row(i))), { rtol: 1e-12 });
  assertClose(x.std(1, { unbiased: false }), [0, 1, 2, 3, 4].map((i) => Math.sqrt((varU(row(i)) * 6) / 7)), { rtol: 1e-12 });
  assertClose(x.amax(1), [0, 1, 2, 3, 4].map((i) => Math.max(...row(i))), { rtol: 0 });
  const [sorted, idx] = x.select(0, 0).sort(0, true);
  assert.deepEqual(sorted.toList(), [...row(0)].sort((a, b) => b - a));
  assert.deepEqual(idx.toList().map((i) => row(0)[i]), sorted.toList());
  const [top] = x.select(0, 1).topk(2);
  assert.deepEqual(top.toList(), [...row(1)].sort((a, b) => b - a).slice(0, 2));
  assertClose(x.select(0, 2).cumsum(0), row(2).map((_, j) => row(2).slice(0, j + 1).reduce((a, b) => a + b, 0)), { rtol: 1e-12 });
});

test("linear algebra: Cholesky, solve and least squares satisfy their equations", () => {
  manualSeed(2);
  const m = randn([6, 4], { dtype: DType.float64 });
  const a = m.transpose(0, 1).matmul(m).add(tensor(new Float64Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]), [4, 4]));
  const l = linalg.cholesky(a);
  assertClose(l.matmul(l.transpose(0, 1)), a, { rtol: 1e-10, atol: 1e-12 });
  const b = randn([4, 2], { dtype: DType.float64 });
  assertClose(a.matmul(linalg.solve(a, b)), b, { rtol: 1e-10, atol: 1e-12 });
  assertClose(linalg.choleskySolve(b, l), linalg.solve(a, b), { rtol: 1e-10, atol: 1e-12 });
  // Least squares: the residual is orthogonal to the columns.
  const y = randn([6, 1], { dtype: DType.float64 });
  const [beta] = linalg.lstsq(m, y);
  const r = y.sub(m.matmul(beta));
  assertClose(m.transpose(0, 1).matmul(r), [0, 0, 0, 0], { atol: 1e-12 });
});

test("bad use gets clear errors, not crashes", () => {
  const a = zeros([2, 3]);
  assert.throws(() => a.matmul(zeros([2, 3])), /shapes cannot be multiplied \(2x3 and 2x3\)/);
  assert.throws(() => a.matmul(zeros([3, 2], { dtype: DType.float64 })), /dtype|scalar type|Double|Float/);
  assert.throws(() => a.select(0, 5), /out of range/);
  assert.throws(() => a.reshape(4, 2), /invalid for input of size 6/);
  assert.throws(() => tensor(new Float32Array(5), [2, 3]), /buffer holds 20 bytes, shape needs 24/);
  const b = ones([2]);
  b.dispose();
  assert.throws(() => b.add(1), /used after dispose/);
  b.dispose(); // a second dispose is harmless
  const c = ones([2], { requiresGrad: true });
  assert.throws(() => c.sum().backward(undefined, { retainGraph: false }) ?? c.square().backward(), /grad can be implicitly created only for scalar outputs/);
});

test("scope frees everything but its result, and keep() exempts a tensor", () => {
  const before = memoryStats().liveTensors;
  let kept: Tensor | undefined;
  const out = scope(() => {
    const a = ones([100]);
    const b = a.mul(2).add(1);
    kept = keep(b.mul(3));
    return { b, list: [b.sum()] };
  });
  assert.equal(memoryStats().liveTensors, before + 3);
  assert.deepEqual(out.list[0].toList(), [300]);
  assert.equal(kept!.toList()[0], 9);
  out.b.dispose();
  out.list[0].dispose();
  kept!.dispose();
  assert.equal(memoryStats().liveTensors, before);
});

test("using disposes at the end of the block", () => {
  const before = memoryStats().liveTensors;
  {
    using t = ones([3]);
    assert.equal(memoryStats().liveTensors, before + 1);
    assert.equal(t.sum().item(), 3);
  }
  // the sum above was not disposed: one tensor stays
  assert.equal(memoryStats().liveTensors, before + 1);
});

test("noGrad records no graph; the same seed gives the same numbers", () => {
  const w = ones([2], { requiresGrad: true });
  const y = noGrad(() => w.mul(2));
  assert.equal(y.requiresGrad, false);
  assert.equal(w.mul(2).requiresGrad, true);
  manualSeed(42);
  const a = randn([5]).toList();
  manualSeed(42);
  assert.deepEqual(randn([5]).toList(), a);
});

test("profile counts each operator call and splits its time into self and total", () => {
  const a = randn([64, 32]);
  const b = randn([32, 16]);
  const { result, ops } = profile(() => scope(() => {
    for (let i = 0; i < 3; i++) a.matmul(b).dispose();
    return a.add(1).relu().sum().item();
  }));
  assert.ok(Number.isFinite(result));
  const calls = (name: string): number => ops.find((o) => o.name === name)?.calls ?? 0;
  assert.equal(calls("aten::mm"), 3);
  assert.equal(calls("aten::matmul"), 3);
  assert.equal(calls("aten::relu"), 1);
  for (const o of ops) assert.ok(o.selfS >= 0 && o.selfS <= o.totalS + 1e-9, `${o.name}: self ${o.selfS} > total ${o.totalS}`);
  for (let i = 1; i < ops.length; i++) assert.ok(ops[i - 1].selfS >= ops[i].selfS, "sorted by self time");
  // the profiler is off again: nothing is recorded outside profile()
  assert.equal(profile(() => 0).ops.length, 0);
});
