import { test } from "node:test";
import assert from "node:assert/strict";
import { DType, Tensor, manualSeed, nn, randn, scope, setDefaultDtype } from "../../src/engine/index.js";
import { gradcheck } from "../helpers.js";

test("composed network: autograd equals float64 finite differences", () => {
  setDefaultDtype(DType.float64);
  try {
    manualSeed(7);
    const bn = new nn.BatchNorm1d(4);
    const lstm = new nn.LSTM({ inputSize: 4, hiddenSize: 3, bidirectional: true, batchFirst: true });
    const enc = new nn.TransformerEncoderLayer({ dModel: 6, nhead: 2, dimFeedforward: 8, dropout: 0, batchFirst: true });
    const gru = new nn.GRU({ inputSize: 6, hiddenSize: 2, batchFirst: true });
    const head = new nn.Linear(2, 1);
    const x = randn([5, 3, 4], { dtype: DType.float64, requiresGrad: true });
    const f = (): Tensor => scope(() => {
      const z = bn.forward(x.transpose(1, 2)).transpose(1, 2);
      const [h] = lstm.forward(z);
      const e = enc.forward(h);
      const [, hn] = gru.forward(e);
      return head.forward(hn.squeeze(0)).leakyRelu(0.1).square().mean();
    });
    const params = [x, bn.weight!, lstm.parameters()[1], enc.selfAttn.inProjWeight, enc.linear2.weight, enc.norm1.weight,
      gru.parameters()[0], head.weight];
    assert.equal(params.every((p) => p.dtype === DType.float64), true);
    gradcheck(f, params, { eps: 1e-6, tol: 1e-6 });
  } finally {
    setDefaultDtype(DType.float32);
  }
});

test("every parameter of a composed network receives a gradient", () => {
  manualSeed(3);
  const enc = new nn.TransformerEncoderLayer({ dModel: 8, nhead: 2, dimFeedforward: 16, batchFirst: true });
  const y = enc.forward(randn([2, 4, 8])).sum();
  y.backward();
  for (const [name, p] of enc.namedParameters()) {
    const g = p.grad;
    assert.ok(g, `${name} has no gradient`);
    assert.ok(g.abs().sum().item() > 0, `${name} has an all-zero gradient`);
  }
});
