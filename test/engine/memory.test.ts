import { test } from "node:test";
import assert from "node:assert/strict";
import { manualSeed, memoryStats, nn, optim, randn, scope } from "../../src/engine/index.js";

test("10,000 training steps hold resident memory flat (< 5% growth after warm-up)", () => {
  manualSeed(0);
  const lstm = new nn.LSTM({ inputSize: 8, hiddenSize: 8, batchFirst: true });
  const bn = new nn.BatchNorm1d(8);
  const head = new nn.Linear(8, 1);
  const params = [...lstm.parameters(), ...bn.parameters(), ...head.parameters()];
  const opt = new optim.Adam(params, { lr: 1e-3, weightDecay: 1e-4 });
  const x = randn([16, 5, 8]);
  const y = randn([16, 1]);
  const step = (): void => scope(() => {
    opt.zeroGrad();
    const [h] = lstm.forward(x);
    const z = bn.forward(h.select(1, 4));
    const loss = head.forward(z).sub(y).square().mean();
    loss.backward();
    opt.step();
  });
  for (let i = 0; i < 1000; i++) step();
  const tensors = memoryStats().liveTensors;
  const rss0 = process.memoryUsage().rss;
  for (let i = 0; i < 9000; i++) step();
  const rss1 = process.memoryUsage().rss;
  assert.equal(memoryStats().liveTensors, tensors, "tensors leaked");
  const growth = (rss1 - rss0) / rss0;
  assert.ok(growth < 0.05, `resident memory grew ${(growth * 100).toFixed(1)}% (${rss0} -> ${rss1} bytes)`);
});
