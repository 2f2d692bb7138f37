/**
 * AlphaNetV4 (the paper's figure 3-1 and table 3-4; DESIGN.md section 6), read top to bottom in
 * `forward`: per-image BatchNorm, a Bi-LSTM over the primary image, two side-by-side Transformer
 * encoder layers per auxiliary image added as a residual, BatchNorm, attention pooling scored from
 * the Bi-LSTM states, one Leaky-ReLU output neuron.
 */
import { Tensor, cat, nn, noGrad, scope } from "../engine/index.js";
import { normalizeFeatures } from "./baselines.js";

export interface AlphaNetV4Config {
  /** K: extracted features per time step (after Spearman dropout). */
  features: number;
  /** T: time steps per image. */
  seqLen: number;
  /** Auxiliary images (the paper: d = 5 and d = 20); 0 switches the Transformer branch off. */
  auxImages: number;
  /** Bidirectional LSTM (the paper) or a one-way LSTM of 2K units (ablation). */
  bidirectional: boolean;
  /** Attention pooling (the paper) or the mean over time steps (ablation). */
  attention: boolean;
  lstmDropout: number;
  transformerHeads: number;
  transformerFeedforward: number;
  transformerDropout: number;
  leakySlope: number;
  /**
   * Attention scores v . tanh(W h_t + b) (DESIGN.md; the default) or v . tanh(h_t) + b, the form of
   * ../shared/bench/torch_reference.py, which the benchmark reproduces.
   */
  attentionProjection: boolean;
}

export const ALPHANET_V4_DEFAULTS: Omit<AlphaNetV4Config, "features"> = {
  seqLen: 20,
  auxImages: 2,
  bidirectional: true,
  attention: true,
  lstmDropout: 0.2,
  transformerHeads: 1,
  transformerFeedforward: 0, // 0: 4K
  transformerDropout: 0.1,
  leakySlope: 0.01,
  attentionProjection: true,
};

/** Two Transformer encoder layers of width K side by side over one image, concatenated to 2K. */
class AuxBranch extends nn.Module {
  readonly enc: nn.ModuleList<nn.TransformerEncoderLayer>;
  constructor(K: number, c: AlphaNetV4Config) {
    super();
    const layer = (): nn.TransformerEncoderLayer => new nn.TransformerEncoderLayer({
      dModel: K, nhead: c.transformerHeads, dimFeedforward: c.transformerFeedforward || 4 * K,
      dropout: c.transformerDropout, batchFirst: true,
    });
    this.enc = this.registerModule("enc", new nn.ModuleList([layer(), layer()]));
  }
  forward(x: Tensor): Tensor {
    return scope(() => cat(this.enc.items.map((e) => e.forward(x)), -1));
  }
}

export class AlphaNetV4 extends nn.Module {
  readonly config: AlphaNetV4Config;
  readonly bnIn: nn.ModuleList<nn.BatchNorm1d>;
  readonly lstm: nn.LSTM;
  readonly drop: nn.Dropout;
  readonly aux: nn.ModuleList<AuxBranch>;
  readonly bnRes: nn.BatchNorm1d;
  readonly attW: nn.Linear | null;
  readonly attV: nn.Linear;
  readonly out: nn.Linear;

  constructor(config: Partial<AlphaNetV4Config> & { features: number }) {
    super();
    const c = (this.config = { ...ALPHANET_V4_DEFAULTS, ...config });
    const K = c.features;
    const H2 = 2 * K;
    this.bnIn = this.registerModule("bn_in", new nn.ModuleList(Array.from({ length: c.auxImages + 1 }, () => new nn.BatchNorm1d(K))));
    this.lstm = this.registerModule("lstm", new nn.LSTM({
      inputSize: K, hiddenSize: c.bidirectional ? K : H2, bidirectional: c.bidirectional, batchFirst: true,
    }));
    this.drop = this.registerModule("drop", new nn.Dropout(c.lstmDropout));
    this.aux = this.registerModule("aux", new nn.ModuleList(Array.from({ length: c.auxImages }, () => new AuxBranch(K, c))));
    this.bnRes = this.registerModule("bn_res", new nn.BatchNorm1d(H2));
    // a_t = softmax_t(v . tanh(W h_t + b))
    this.attW = c.attentionProjection ? this.registerModule("att_w", new nn.Linear(H2, H2)) : null;
    this.attV = this.registerModule("att_v", new nn.Linear(H2, 1, { bias: !c.attentionProjection }));
    this.out = this.registerModule("out", new nn.Linear(H2, 1));
    nn.init.truncNormal_(this.out.weight, { std: 1 / Math.sqrt(H2), a: -2 / Math.sqrt(H2), b: 2 / Math.sqrt(H2) });
    // A positive bias starts the Leaky ReLU on its linear side: otherwise half the samples begin
    // on the 0.01-slope side, where predictions are flattened and gradients 100 times smaller.
    nn.init.uniform_(this.out.bias!, 3, 3);
  }

  /** images: [primary (d = 10), ...auxiliaries], each [B, T, K]. Returns [B]. */
  forward(images: Tensor[]): Tensor {
    return scope(() => {
      const { h, z } = this.#encode(images);
      // 5. Attention pooling scored from the Bi-LSTM states
      const pooled = this.config.attention ? this.#attention(h).mul(z).sum(1) : z.mean(1);
      // 6. One neuron, Leaky ReLU
      return this.out.forward(pooled).leakyRelu(this.config.leakySlope).squeeze(-1);
    });
  }

  /**
   * The attention weights a_t averaged over the samples [T] (uniform 1/T without attention): how
   * far back the pooled state looks. Evaluated as in prediction (eval mode, no gradient).
   */
  attentionProfile(images: Tensor[]): number[] {
    const T = images[0].shape[1];
    if (!this.config.attention) return new Array<number>(T).fill(1 / T);
    const wasTraining = this.training;
    this.eval();
    try {
      return noGrad(() => scope(() => this.#attention(this.#encode(images).h).mean(0).squeeze(-1).toList()));
    } finally {
      this.train(wasTraining);
    }
  }

  /** Steps 1-4: the Bi-LSTM states h and the residual sum z, both [B, T, 2K]. */
  #encode(images: Tensor[]): { h: Tensor; z: Tensor } {
    const c = this.config;
    if (images.length !== c.auxImages + 1)
      throw new Error(`AlphaNetV4 takes ${c.auxImages + 1} images (primary + ${c.auxImages} auxiliary), got ${images.length}`);
    // 1. BatchNorm over the features of each image. The copy to contiguous memory pays for itself
    //    many times: linear layers' backward over a strided input takes a slow path (measured 20x
    //    on the Transformer's projections).
    const xs = images.map((x, i) => normalizeFeatures(this.bnIn.at(i), x));
    // 2. Bi-LSTM over the primary image, dropout 0.2
    const [hRaw] = this.lstm.forward(xs[0]);
    const h = this.drop.forward(hRaw);
    // 3-4. Transformer residual from the auxiliary images, then BatchNorm
    let z = h;
    this.aux.items.forEach((branch, i) => (z = z.add(branch.forward(xs[i + 1]))));
    z = this.bnRes.forward(z.transpose(1, 2)).transpose(1, 2);
    return { h, z };
  }

  /** a_t = softmax_t(v . tanh(W h_t + b)), [B, T, 1]. */
  #attention(h: Tensor): Tensor {
    return this.attV.forward((this.attW ? this.attW.forward(h) : h).tanh()).softmax(1);
  }
}
