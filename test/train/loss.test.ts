/** The training loss (formula 3-3): its projection as tensors and its long-sample weights (formula 3-8). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/data/index.js";
import { tensor } from "../../src/engine/index.js";
import { projection, projectionMatrix } from "../../src/risk/index.js";
import { neutralizeTensor, projectionTensors, sampleWeights } from "../../src/train/index.js";
import { applyMatrix, randomProblem } from "../helpers.js";

test("the projection's two factors give the same neutralised batch as the n x n matrix, in the loss's tensors", () => {
  const rng = new Rng(4);
  const p = randomProblem(rng, 60, 5, 4);
  const P = projection(p.industry, p.styles, p.cap);
  assert.equal(P.p, 5 + 4, "industries present and styles");
  const Hy = applyMatrix(projectionMatrix(p.industry, p.styles, p.cap), p.y);
  const viaTensors = neutralizeTensor(tensor(Float32Array.from(p.y)), projectionTensors(P)).toArray() as Float32Array;
  p.y.forEach((y, i) => assert.ok(Math.abs(viaTensors[i] - (y - Hy[i])) < 1e-6, `${i}: ${viaTensors[i]} vs ${y - Hy[i]}`));
});

test("sample weights are positive, mean 1 and rise with the return (formula 3-8, well defined)", () => {
  const w = sampleWeights([0.03, -0.05, 0.01, 0.2, -0.01], 0.5);
  assert.deepEqual(Array.from(w), [1.25, 0.5, 1, 1.5, 0.75]);
  assert.ok(Math.abs(w.reduce((a, b) => a + b) / w.length - 1) < 1e-12);
});
