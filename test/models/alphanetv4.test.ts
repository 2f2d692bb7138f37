/**
 * AlphaNetV4's attention (the paper's figure 2-9: each Bi-LSTM state scored against the final state)
 * and the positional information of its Transformer branches, against float64 references and the
 * properties they must have.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DType, Tensor, loadModel, manualSeed, nn, noGrad, randn, rand, saveModel, tensor } from "../../src/engine/index.js";
import { ALPHANET_V4_DEFAULTS, type AlphaNetV4, type AlphaNetV4Config, createModel, firstLayers, imageSpecs } from "../../src/models/index.js";
import { normalizeFeatures } from "../../src/models/baselines.js";
import { parameterSignificance } from "../../src/evaluate/index.js";
import { ConfigSchema, validateConfig } from "../../src/run/config.js";
import { modelSpecs } from "../../src/run/index.js";
import { specOfManifest } from "../../src/run/predict.js";
import { peerNetworkArgs } from "../../src/run/bench.js";
import { SHARED, assertClose } from "../helpers.js";

type V4 = Partial<Omit<AlphaNetV4Config, "features">>;
const v4 = (features: number, cfg: V4): AlphaNetV4 => createModel({ kind: "v4", v4: cfg }, features) as AlphaNetV4;

/** Random running statistics and affine weights, so that eval-mode BatchNorm is not the identity. */
function randomiseNorms(m: AlphaNetV4): void {
  noGrad(() => {
    for (const bn of [...m.bnIn.items, m.bnRes]) {
      const n = bn.numFeatures;
      bn.runningMean!.copy_(randn([n]).mul(0.3));
      bn.runningVar!.copy_(rand([n]).add(0.5));
      bn.weight!.copy_(rand([n]).add(0.5));
      bn.bias!.copy_(randn([n]).mul(0.2));
    }
  });
}

/**
 * Float64 reference of steps 4-6 without auxiliary images, from the engine's Bi-LSTM outputs and the
 * module's weights: z = BN(h), a = softmax_t(v . tanh(W [h_t ; s0] + b)) (or from h_t alone),
 * out = LeakyReLU(w . sum_t a_t z_t + b). s0 is read off the output sequence: the forward
 * direction's state at the last step, the backward direction's at the first.
 */
function reference(m: AlphaNetV4, x: Tensor): { out: number[]; pre: number[]; weights: number[][] } {
  const [B, T, K] = x.shape;
  const H2 = 2 * K;
  const h = noGrad(() => m.lstm.forward(normalizeFeatures(m.bnIn.at(0), x))[0].toList());
  const at = (b: number, t: number, j: number): number => h[(b * T + t) * H2 + j];
  const bn = m.bnRes;
  const [rm, rv, g, beta] = [bn.runningMean!, bn.runningVar!, bn.weight!, bn.bias!].map((p) => p.toList());
  const W = m.attW!.weight.toList();
  const bW = m.attW!.bias!.toList();
  const v = m.attV!.weight.toList();
  const wo = m.out.weight.toList();
  const bo = m.out.bias!.toList()[0];
  const paper = m.config.attention === "paper";
  const out: number[] = [];
  const pre: number[] = [];
  const weights: number[][] = [];
  for (let b = 0; b < B; b++) {
    const s0 = [...Array.from({ length: K }, (_, j) => at(b, T - 1, j)), ...Array.from({ length: K }, (_, j) => at(b, 0, K + j))];
    const scores = Array.from({ length: T }, (_, t) => {
      const q = [...Array.from({ length: H2 }, (_, j) => at(b, t, j)), ...(paper ? s0 : [])];
      let e = 0;
      for (let r = 0; r < H2; r++) {
        let u = bW[r];
        for (let i = 0; i < q.length; i++) u += W[r * q.length + i] * q[i];
        e += v[r] * Math.tanh(u);
      }
      return e;
    });
    const top = Math.max(...scores);
    const ex = scores.map((e) => Math.exp(e - top));
    const sum = ex.reduce((p, c) => p + c, 0);
    const a = ex.map((e) => e / sum);
    weights.push(a);
    let y = bo;
    for (let j = 0; j < H2; j++) {
      let pooled = 0;
      for (let t = 0; t < T; t++) pooled += a[t] * ((at(b, t, j) - rm[j]) / Math.sqrt(rv[j] + bn.eps) * g[j] + beta[j]);
      y += wo[j] * pooled;
    }
    pre.push(y);
    out.push(y > 0 ? y : m.config.leakySlope * y);
  }
  return { out, pre, weights };
}

test("the paper's attention (and the self-scored form) equals a float64 reference on a small case", () => {
  for (const attention of ["paper", "self"] as const) {
    manualSeed(11);
    const m = v4(3, { seqLen: 5, auxImages: 0, attention });
    m.eval();
    randomiseNorms(m);
    // Larger scores than the initialisation's, so that the weights are far from uniform.
    noGrad(() => (m.attV!.weight.mul_(10), m.attW!.weight.mul_(5)));
    const x = randn([6, 5, 3]);
    // An output bias that puts half the samples on the Leaky ReLU's flat side.
    const pre = reference(m, x).pre.sort((a, b) => a - b);
    noGrad(() => m.out.bias!.copy_(m.out.bias!.sub((pre[2] + pre[3]) / 2)));
    const ref = reference(m, x);
    assertClose(noGrad(() => m.forward([x])), ref.out, { rtol: 1e-5, atol: 1e-6, what: `${attention}: output` });
    const mean = Array.from({ length: 5 }, (_, t) => ref.weights.reduce((s, a) => s + a[t], 0) / ref.weights.length);
    assertClose(m.attentionProfile([x]), mean, { rtol: 1e-5, atol: 1e-7, what: `${attention}: attention profile` });
    assert.ok(ref.weights.some((a) => Math.max(...a) > 0.3), `${attention}: weights far from uniform (1/5): ${ref.weights[0]}`);
    assert.ok(ref.out.some((y) => y < 0) && ref.out.some((y) => y > 0), "both sides of the Leaky ReLU");
  }
});

test("s0 matters: the paper's scores change with the final state while h_t stays the same", () => {
  // The reference above reads s0 off the output sequence; here the W_s half alone moves the weights.
  manualSeed(5);
  const m = v4(3, { seqLen: 5, auxImages: 0 });
  m.eval();
  noGrad(() => m.attV!.weight.mul_(10));
  const x = randn([4, 5, 3]);
  const sample = [x.narrow(0, 0, 1)];
  const before = m.attentionProfile(sample);
  noGrad(() => m.attW!.weight.narrow(1, 6, 6).mul_(20));
  const after = m.attentionProfile(sample);
  assert.ok(before.some((a, t) => Math.abs(a - after[t]) > 1e-2), `${before} vs ${after}`);
});

test("each sample's attention weights are positive and sum to 1, for every form and positional setting", () => {
  for (const attention of ["paper", "self"] as const) for (const positional of ["none", "sinusoidal", "learned"] as const) {
    manualSeed(2);
    const m = v4(4, { seqLen: 6, attention, positional });
    const xs = Array.from({ length: 3 }, () => randn([5, 6, 4]));
    for (let b = 0; b < 5; b++) {
      const a = m.attentionProfile(xs.map((x) => x.narrow(0, b, 1)));
      assert.equal(a.length, 6);
      assert.ok(Math.abs(a.reduce((s, w) => s + w, 0) - 1) < 1e-6 && a.every((w) => w > 0 && w < 1), `${attention}/${positional}: ${a}`);
    }
  }
});

test("the sinusoidal table is the closed form: hand values, sin^2 + cos^2 = 1, and a shift is a rotation of each pair", () => {
  const T = 20, d = 7;
  const pe = nn.sinusoidalPositions(T, d).toList();
  const at = (t: number, j: number): number => pe[t * d + j];
  // d = 4, t = 1: frequencies 1 and 1/100 (10000^(2/4) = 100).
  assertClose(nn.sinusoidalPositions(2, 4).toList(), [0, 1, 0, 1, Math.sin(1), Math.cos(1), Math.sin(0.01), Math.cos(0.01)],
    { rtol: 1e-6, what: "T = 2, d = 4" });
  for (let t = 0; t < T; t++) {
    for (let i = 0; 2 * i + 1 < d; i++) assert.ok(Math.abs(at(t, 2 * i) ** 2 + at(t, 2 * i + 1) ** 2 - 1) < 1e-6);
    // the odd d's last column is a sine of frequency 10000^(-6/7)
    assert.ok(Math.abs(at(t, 6) - Math.sin(t * Math.pow(10000, -6 / 7))) < 1e-6);
  }
  // PE(t + k) = R(k w_i) PE(t) pair by pair: sin(a + b) = sin a cos b + cos a sin b.
  for (let i = 0; 2 * i + 1 < d; i++) {
    const w = Math.pow(10000, -(2 * i) / d);
    for (const [t, k] of [[3, 5], [0, 19], [11, 2]]) {
      const [s, c] = [at(t, 2 * i), at(t, 2 * i + 1)];
      assert.ok(Math.abs(at(t + k, 2 * i) - (s * Math.cos(k * w) + c * Math.sin(k * w))) < 1e-5);
      assert.ok(Math.abs(at(t + k, 2 * i + 1) - (c * Math.cos(k * w) - s * Math.sin(k * w))) < 1e-5);
    }
  }
});

test("a Transformer branch is permutation-equivariant over time without positional information, and not with it", () => {
  const perm = [4, 0, 5, 2, 1, 3];
  const index = tensor(perm, [6], { dtype: DType.int64 });
  for (const positional of ["none", "sinusoidal", "learned"] as const) {
    manualSeed(7);
    const m = v4(4, { seqLen: 6, positional });
    m.eval();
    const x = randn([3, 6, 4]);
    for (const fused of [false, true]) {
      // Without gradients the encoder layers take libtorch's fused kernel: check both paths.
      const run = (y: Tensor): Tensor => (fused ? noGrad(() => m.aux.at(0).forward(y)) : m.aux.at(0).forward(y));
      const permutedIn = run(x.indexSelect(1, index)).toList();
      const permutedOut = run(x).indexSelect(1, index).toList();
      const gap = Math.max(...permutedIn.map((v, i) => Math.abs(v - permutedOut[i])));
      if (positional === "none") assert.ok(gap < 1e-5, `none (fused ${fused}): equivariant, gap ${gap}`);
      else assert.ok(gap > 1e-3, `${positional} (fused ${fused}): order must matter, gap ${gap}`);
    }
  }
});

test("every parameter receives a gradient, for every attention form and positional setting", () => {
  for (const attention of ["paper", "self", "mean"] as const) for (const positional of ["none", "sinusoidal", "learned"] as const) {
    manualSeed(1);
    const m = v4(4, { seqLen: 6, attention, positional });
    m.train();
    m.forward(Array.from({ length: 3 }, () => randn([16, 6, 4]))).square().mean().backward();
    const names = m.namedParameters().map(([n]) => n);
    assert.equal(names.includes("aux.0.pos"), positional === "learned");
    assert.equal(names.includes("att_w.weight"), attention !== "mean");
    for (const [name, p] of m.namedParameters())
      assert.ok(p.grad && p.grad.abs().sum().item() > 0, `${attention}/${positional}: ${name} has no gradient`);
    m.dispose();
  }
});

test("the paper's network has the PyTorch peer's parameter names and shapes (torch_reference.py --paper-attention --positional)", () => {
  const m = v4(3, { seqLen: 5, positional: "learned" });
  const shapes = new Map([...m.stateDict()].map(([n, t]) => [n, t.shape]));
  // torch_reference.py: Aux.pos = Parameter([T, K]); att_w = Linear(4H, 2H); att_v = Linear(2H, 1, bias=False).
  assert.deepEqual(shapes.get("aux.0.pos"), [5, 3]);
  assert.deepEqual(shapes.get("aux.1.pos"), [5, 3]);
  assert.deepEqual(shapes.get("att_w.weight"), [6, 12]);
  assert.deepEqual(shapes.get("att_w.bias"), [6]);
  assert.deepEqual(shapes.get("att_v.weight"), [1, 6]);
  assert.ok(!shapes.has("att_v.bias"));
  // The peer's flags exist, and the bench passes the ones of V4's default network.
  const peer = readFileSync(join(SHARED, "bench/torch_reference.py"), "utf8");
  for (const flag of peerNetworkArgs(ALPHANET_V4_DEFAULTS)) assert.ok(peer.includes(`"${flag}"`), `the peer takes ${flag}`);
  assert.deepEqual(peerNetworkArgs({ attention: "paper", positional: "learned" }), ["--paper-attention", "--positional"]);
  assert.deepEqual(peerNetworkArgs({ attention: "self", positional: "none" }), []);
  // The peer's table is learned; a sinusoidal one costs the same add of [T, K].
  assert.deepEqual(peerNetworkArgs({ attention: "paper", positional: "sinusoidal" }), ["--paper-attention", "--positional"]);
});

test("the configuration's v4.attention and v4.positional reach the model; defaults agree with the model's; V4's ablation keeps its mean pooling", () => {
  const dflt = validateConfig({});
  assert.equal(dflt.v4.attention, ALPHANET_V4_DEFAULTS.attention);
  assert.equal(dflt.v4.positional, ALPHANET_V4_DEFAULTS.positional);
  assert.throws(() => validateConfig({ v4: { positional: "rotary" } }), /v4\.positional/);
  const cfg = validateConfig({ models: ["v4"], ablations: true, v4: { attention: "self", positional: "sinusoidal", lstmDropout: 0.1 } });
  const specs = new Map(modelSpecs(cfg));
  const m = createModel(specs.get("v4")!, 4) as AlphaNetV4;
  assert.equal(m.config.attention, "self");
  assert.equal(m.config.positional, "sinusoidal");
  assert.equal(m.config.lstmDropout, 0.1);
  assert.equal((createModel(specs.get("v4-no-attention")!, 4) as AlphaNetV4).config.attention, "mean");
  assert.ok(ConfigSchema.safeParse({ v4: { attention: "self" } }).success);
});

test("save and load: the weights keep their names, the manifest's spec rebuilds the same network; older manifests read by their weights", () => {
  manualSeed(4);
  const spec = { kind: "v4" as const, v4: { seqLen: 6, attention: "paper" as const, positional: "learned" as const } };
  const m = createModel(spec, 4) as AlphaNetV4;
  m.eval();
  const dir = mkdtempSync(join(tmpdir(), "alphanet-v4-"));
  saveModel(dir, m.stateDict(), { spec });
  const loaded = loadModel<{ spec: typeof spec }>(dir);
  const again = createModel(specOfManifest(loaded.manifest.spec, loaded.stateDict), 4);
  again.loadStateDict(loaded.stateDict);
  again.eval();
  const xs = Array.from({ length: 3 }, () => randn([5, 6, 4]));
  assertClose(noGrad(() => again.forward(xs)), noGrad(() => m.forward(xs)), { rtol: 1e-6, what: "reloaded model" });
  // Before issue 14: no attention form, no positional setting; the ablation said attention: false.
  const old = (cfg: V4): Map<string, { shape: number[] }> =>
    new Map([...v4(4, { seqLen: 6, ...cfg }).stateDict()].map(([n, t]) => [n, { shape: t.shape }]));
  const legacy = (v: object): V4 => specOfManifest({ kind: "v4", v4: v as V4 }, old({ attention: "self", positional: "none", ...v as V4 })).v4!;
  assert.deepEqual([legacy({}).attention, legacy({}).positional], ["self", "none"]);
  assert.equal(specOfManifest({ kind: "v4", v4: { attention: false } as unknown as V4 }, old({ attention: "mean", positional: "none" })).v4!.attention, "mean");
  assert.equal(specOfManifest({ kind: "v4" }, old({ attention: "paper", positional: "learned" })).v4!.attention, "paper");
  assert.equal(specOfManifest({ kind: "v4" }, old({ attention: "paper", positional: "learned" })).v4!.positional, "learned");
  // Parameter significance reads the same first layers as before (the paths evaluate once hard-coded).
  const names = (model: ReturnType<typeof createModel>, s: Parameters<typeof imageSpecs>[0]): [number, string[]][] =>
    firstLayers(model, imageSpecs(s)).map((l) => [l.d, l.weights.map((w) => w.name)]);
  const inProj = (i: number): string[] => [0, 1].map((j) => `aux.${i}.enc.${j}.self_attn.in_proj_weight`);
  assert.deepEqual(names(m, spec), [[10, ["lstm.weight_ih_l0", "lstm.weight_ih_l0_reverse"]], [5, inProj(0)], [20, inProj(1)]]);
  const oneWay = { kind: "v4" as const, v4: { seqLen: 6, bidirectional: false } };
  assert.deepEqual(names(createModel(oneWay, 4), oneWay), [[10, ["lstm.weight_ih_l0"]], [5, inProj(0)], [20, inProj(1)]]);
  assert.deepEqual(names(createModel({ kind: "v3" }, 4), { kind: "v3" }), [[10, ["gru10.weight_ih_l0"]], [5, ["gru5.weight_ih_l0"]]]);
  assert.deepEqual(names(createModel({ kind: "v2" }, 4), { kind: "v2" }), [[10, ["lstm.weight_ih_l0"]]]);
  assert.deepEqual(names(createModel({ kind: "v1" }, 4), { kind: "v1" }), []);
  const sig = parameterSignificance([0, 1, 2, 3], firstLayers(m, imageSpecs(spec)));
  assert.equal(sig.features.length, 12);
  assert.ok(sig.features.every((f) => f.value > 0));
});
