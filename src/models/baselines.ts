/**
 * The earlier AlphaNets, as baselines in the same pipeline (DESIGN.md section 6):
 * - V1: the d = 10 image at stride 10 over 30 days (3 steps), pooled by ts_mean, ts_max and ts_min
 *   with BatchNorm, then Dense(30) + ReLU + Dropout(0.5) + Dense(1);
 * - V2: the same 3-step image through an LSTM(30), BatchNorm, Dense(1);
 * - V3: two branches, d = 10 at stride 10 and d = 5 at stride 5, a GRU(30) each, concatenated,
 *   BatchNorm, Dense(1).
 */
import { Tensor, cat, nn, scope } from "../engine/index.js";
import type { FeatureWeights } from "../features/index.js";

/**
 * BatchNorm over the K features of an image [B, T, K] (normalised as [B, K, T]), back to
 * contiguous [B, T, K]: recurrent and linear layers' backward is much slower on strided input.
 */
export function normalizeFeatures(bn: nn.BatchNorm1d, x: Tensor): Tensor {
  return scope(() => bn.forward(x.transpose(1, 2)).transpose(1, 2).contiguous());
}

/** The values of a model's parameters by name (its first layers, as parameter significance reads them). */
export function weightsOf(m: nn.Module, names: string[]): FeatureWeights[] {
  const sd = m.stateDict();
  return names.map((name) => {
    const t = sd.get(name);
    if (!t) throw new Error(`${m.constructor.name} has no parameter ${name}`);
    return { name, values: t.toList() };
  });
}

export class AlphaNetV1 extends nn.Module {
  readonly bnIn: nn.BatchNorm1d;
  readonly bnPool: nn.BatchNorm1d;
  readonly hidden: nn.Linear;
  readonly drop: nn.Dropout;
  readonly out: nn.Linear;
  constructor(readonly features: number, readonly steps = 3) {
    super();
    this.bnIn = this.registerModule("bn_in", new nn.BatchNorm1d(features));
    this.bnPool = this.registerModule("bn_pool", new nn.BatchNorm1d(3 * features));
    this.hidden = this.registerModule("hidden", new nn.Linear(features * steps + 3 * features, 30));
    this.drop = this.registerModule("drop", new nn.Dropout(0.5));
    this.out = this.registerModule("out", new nn.Linear(30, 1));
    nn.init.truncNormal_(this.out.weight, { std: 0.1, a: -0.2, b: 0.2 });
  }
  /** images: [x] with x [B, 3, K]. */
  forward(images: Tensor[]): Tensor {
    return scope(() => {
      const x = this.bnIn.forward(images[0].transpose(1, 2)); // [B, K, steps]
      const pooled = this.bnPool.forward(cat([x.mean(2), x.amax(2), x.amin(2)], 1));
      const flat = cat([x.flatten(1), pooled], 1);
      return this.out.forward(this.drop.forward(this.hidden.forward(flat).relu())).squeeze(-1);
    });
  }
  /** None: the first layer reads the steps flattened and their pooled statistics, not one column per feature. */
  firstLayerWeights(): FeatureWeights[][] {
    return [];
  }
}

export class AlphaNetV2 extends nn.Module {
  readonly bnIn: nn.BatchNorm1d;
  readonly lstm: nn.LSTM;
  readonly bn: nn.BatchNorm1d;
  readonly out: nn.Linear;
  constructor(readonly features: number, hidden = 30) {
    super();
    this.bnIn = this.registerModule("bn_in", new nn.BatchNorm1d(features));
    this.lstm = this.registerModule("lstm", new nn.LSTM({ inputSize: features, hiddenSize: hidden, batchFirst: true }));
    this.bn = this.registerModule("bn", new nn.BatchNorm1d(hidden));
    this.out = this.registerModule("out", new nn.Linear(hidden, 1));
    nn.init.truncNormal_(this.out.weight, { std: 0.1, a: -0.2, b: 0.2 });
  }
  forward(images: Tensor[]): Tensor {
    return scope(() => {
      const [, h] = this.lstm.forward(normalizeFeatures(this.bnIn, images[0]));
      return this.out.forward(this.bn.forward(h.squeeze(0))).squeeze(-1);
    });
  }
  /** The LSTM's input weights. */
  firstLayerWeights(): FeatureWeights[][] {
    return [weightsOf(this, ["lstm.weight_ih_l0"])];
  }
}

export class AlphaNetV3 extends nn.Module {
  readonly bn10: nn.BatchNorm1d;
  readonly bn5: nn.BatchNorm1d;
  readonly gru10: nn.GRU;
  readonly gru5: nn.GRU;
  readonly bn: nn.BatchNorm1d;
  readonly out: nn.Linear;
  constructor(readonly features: number, hidden = 30) {
    super();
    this.bn10 = this.registerModule("bn10", new nn.BatchNorm1d(features));
    this.bn5 = this.registerModule("bn5", new nn.BatchNorm1d(features));
    this.gru10 = this.registerModule("gru10", new nn.GRU({ inputSize: features, hiddenSize: hidden, batchFirst: true }));
    this.gru5 = this.registerModule("gru5", new nn.GRU({ inputSize: features, hiddenSize: hidden, batchFirst: true }));
    this.bn = this.registerModule("bn", new nn.BatchNorm1d(2 * hidden));
    this.out = this.registerModule("out", new nn.Linear(2 * hidden, 1));
    nn.init.truncNormal_(this.out.weight, { std: 0.1, a: -0.2, b: 0.2 });
  }
  /** images: [d = 10 at stride 10 (3 steps), d = 5 at stride 5 (6 steps)]. */
  forward(images: Tensor[]): Tensor {
    return scope(() => {
      const branch = (x: Tensor, bn: nn.BatchNorm1d, gru: nn.GRU): Tensor => {
        const [, h] = gru.forward(normalizeFeatures(bn, x));
        return h.squeeze(0);
      };
      const h = cat([branch(images[0], this.bn10, this.gru10), branch(images[1], this.bn5, this.gru5)], 1);
      return this.out.forward(this.bn.forward(h)).squeeze(-1);
    });
  }
  /** Each branch's GRU input weights. */
  firstLayerWeights(): FeatureWeights[][] {
    return [weightsOf(this, ["gru10.weight_ih_l0"]), weightsOf(this, ["gru5.weight_ih_l0"])];
  }
}
