/**
 * AlphaNetV4 (the paper's figure 3-1 and table 3-4; DESIGN.md section 6), read top to bottom in
 * `forward`: per-image BatchNorm, a Bi-LSTM over the primary image, two side-by-side Transformer
 * encoder layers per auxiliary image (with positional information) added as a residual, BatchNorm,
 * attention pooling scored from the Bi-LSTM states against the final state (Bahdanau, figure 2-9),
 * one Leaky-ReLU output neuron.
 */
import { Tensor, cat, nn, noGrad, scope, zeros } from "../engine/index.js";
import type { FeatureWeights } from "../features/index.js";
import { normalizeFeatures, weightsOf } from "./baselines.js";

export interface AlphaNetV4Config {
  /** K: extracted features per time step (after Spearman dropout). */
  features: number;
  /** T: time steps per image. */
  seqLen: number;
  /** Auxiliary images (the paper: d = 5 and d = 20); 0 switches the Transformer branch off. */
  auxImages: number;
  /** Bidirectional LSTM (the paper) or a one-way LSTM of 2K units (ablation). */
  bidirectional: boolean;
  /**
   * Attention pooling: "paper" scores each Bi-LSTM state against the final state s0 (figure 2-9 and
   * section 3.d.iii, Bahdanau): a_t = softmax_t(v . tanh(W [h_t ; s0] + b)); "self" scores h_t alone
   * (the form before issue 14, an ablation); "mean" pools by the mean over time steps (chapter 4's
   * ablation without attention).
   */
  attention: "paper" | "self" | "mean";
  /**
   * Positional information added to each auxiliary image before its Transformers (a Transformer
   * encoder layer alone is permutation-equivariant over time): none, the sin/cos table of
   * "Attention is all you need", or a learned [T, K] table (initialised normal, std 0.02).
   */
  positional: "none" | "sinusoidal" | "learned";
  lstmDropout: number;
  transformerHeads: number;
  transformerFeedforward: number;
  transformerDropout: number;
  leakySlope: number;
  /**
   * With attention "self": scores v . tanh(W h_t + b) or v . tanh(h_t) + b, the form of
   * ../shared/bench/torch_reference.py without --paper-attention. Unused by the paper's form.
   */
  attentionProjection: boolean;
}

export const ALPHANET_V4_DEFAULTS: Omit<AlphaNetV4Config, "features"> = {
  seqLen: 20,
  auxImages: 2,
  bidirectional: true,
  attention: "paper",
  positional: "sinusoidal",
  lstmDropout: 0.2,
  transformerHeads: 1,
  transformerFeedforward: 0, // 0: 4K
  transformerDropout: 0.1,
  leakySlope: 0.01,
  attentionProjection: true,
};

/**
 * Two Transformer encoder layers of width K side by side over one image, concatenated to 2K; the
 * image's time steps first marked by a positional table (a learned one is this branch's `pos`, as
 * in the PyTorch peer; the sinusoidal one is a constant, shared and owned by the model).
 */
class AuxBranch extends nn.Module {
  readonly enc: nn.ModuleList<nn.TransformerEncoderLayer>;
  readonly pos: Tensor | null;
  constructor(K: number, c: AlphaNetV4Config, readonly table: Tensor | null) {
    super();
    const layer = (): nn.TransformerEncoderLayer => new nn.TransformerEncoderLayer({
      dModel: K, nhead: c.transformerHeads, dimFeedforward: c.transformerFeedforward || 4 * K,
      dropout: c.transformerDropout, batchFirst: true,
    });
    this.enc = this.registerModule("enc", new nn.ModuleList([layer(), layer()]));
    this.pos = c.positional === "learned" ? this.registerParameter("pos", nn.init.normal_(zeros([c.seqLen, K]), 0, 0.02)) : null;
  }
  forward(x: Tensor): Tensor {
    return scope(() => {
      const positions = this.pos ?? this.table;
      if (positions && positions.shape[0] !== x.shape[1])
        throw new Error(`AlphaNetV4: a positional table of ${positions.shape[0]} steps, an image of ${x.shape[1]}`);
      const y = positions ? x.add(positions) : x;
      return cat(this.enc.items.map((e) => e.forward(y)), -1);
    });
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
  readonly attV: nn.Linear | null;
  readonly out: nn.Linear;
  /** The sinusoidal table [T, K] with positional "sinusoidal": a constant, not a parameter. */
  readonly #sinusoid: Tensor | null;

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
    this.#sinusoid = c.positional === "sinusoidal" && c.auxImages > 0 ? nn.sinusoidalPositions(c.seqLen, K) : null;
    this.aux = this.registerModule("aux", new nn.ModuleList(Array.from({ length: c.auxImages }, () => new AuxBranch(K, c, this.#sinusoid))));
    this.bnRes = this.registerModule("bn_res", new nn.BatchNorm1d(H2));
    // paper: a_t = softmax_t(v . tanh(W [h_t ; s0] + b)), W of [2K x 4K] as the peer's att_w;
    // self: a_t = softmax_t(v . tanh(W h_t + b)) or softmax_t(v . tanh(h_t) + b).
    const paper = c.attention === "paper";
    const projected = paper || (c.attention === "self" && c.attentionProjection);
    this.attW = projected ? this.registerModule("att_w", new nn.Linear(paper ? 2 * H2 : H2, H2)) : null;
    this.attV = c.attention === "mean" ? null : this.registerModule("att_v", new nn.Linear(H2, 1, { bias: !projected }));
    this.out = this.registerModule("out", new nn.Linear(H2, 1));
    nn.init.truncNormal_(this.out.weight, { std: 1 / Math.sqrt(H2), a: -2 / Math.sqrt(H2), b: 2 / Math.sqrt(H2) });
    // A positive bias starts the Leaky ReLU on its linear side: otherwise half the samples begin
    // on the 0.01-slope side, where predictions are flattened and gradients 100 times smaller.
    nn.init.uniform_(this.out.bias!, 3, 3);
  }

  /** images: [primary (d = 10), ...auxiliaries], each [B, T, K]. Returns [B]. */
  forward(images: Tensor[]): Tensor {
    return scope(() => {
      const e = this.#encode(images);
      // 5. Attention pooling scored from the Bi-LSTM states
      const pooled = this.attV ? this.#attention(e).mul(e.z).sum(1) : e.z.mean(1);
      // 6. One neuron, Leaky ReLU
      return this.out.forward(pooled).leakyRelu(this.config.leakySlope).squeeze(-1);
    });
  }

  /**
   * The first layers: the LSTM's input weights over the primary image (both directions when
   * bidirectional), and each auxiliary image's first Transformer projections (in_proj of both layers).
   */
  firstLayerWeights(): FeatureWeights[][] {
    const lstm = this.config.bidirectional ? ["lstm.weight_ih_l0", "lstm.weight_ih_l0_reverse"] : ["lstm.weight_ih_l0"];
    return [weightsOf(this, lstm),
      ...this.aux.items.map((_, i) => weightsOf(this, [0, 1].map((j) => `aux.${i}.enc.${j}.self_attn.in_proj_weight`)))];
  }

  /**
   * The attention weights a_t averaged over the samples [T] (uniform 1/T without attention): how
   * far back the pooled state looks. Evaluated as in prediction (eval mode, no gradient).
   */
  attentionProfile(images: Tensor[]): number[] {
    const T = images[0].shape[1];
    if (!this.attV) return new Array<number>(T).fill(1 / T);
    const wasTraining = this.training;
    this.eval();
    try {
      return noGrad(() => scope(() => this.#attention(this.#encode(images)).mean(0).squeeze(-1).toList()));
    } finally {
      this.train(wasTraining);
    }
  }

  /**
   * Steps 1-4: the Bi-LSTM states h and the residual sum z, both [B, T, 2K], and s0 [B, 2K], the
   * final state of each direction concatenated (forward: step T; backward: step 1), before dropout.
   */
  #encode(images: Tensor[]): { h: Tensor; z: Tensor; s0: Tensor } {
    const c = this.config;
    if (images.length !== c.auxImages + 1)
      throw new Error(`AlphaNetV4 takes ${c.auxImages + 1} images (primary + ${c.auxImages} auxiliary), got ${images.length}`);
    // 1. BatchNorm over the features of each image. The copy to contiguous memory pays for itself
    //    many times: linear layers' backward over a strided input takes a slow path (measured 20x
    //    on the Transformer's projections).
    const xs = images.map((x, i) => normalizeFeatures(this.bnIn.at(i), x));
    // 2. Bi-LSTM over the primary image, dropout 0.2
    const [hRaw, hn] = this.lstm.forward(xs[0]);
    const s0 = hn.transpose(0, 1).reshape(hn.shape[1], -1);
    const h = this.drop.forward(hRaw);
    // 3-4. Transformer residual from the auxiliary images, then BatchNorm
    let z = h;
    this.aux.items.forEach((branch, i) => (z = z.add(branch.forward(xs[i + 1]))));
    z = this.bnRes.forward(z.transpose(1, 2)).transpose(1, 2);
    return { h, z, s0 };
  }

  /** The attention weights a_t, [B, T, 1]. */
  #attention({ h, s0 }: { h: Tensor; s0: Tensor }): Tensor {
    return scope(() => {
      if (this.config.attention !== "paper")
        return this.attV!.forward((this.attW ? this.attW.forward(h) : h).tanh()).softmax(1);
      // W [h_t ; s0] + b = W_h h_t + (W_s s0 + b): the s0 half once per sample, not once per step
      // (the concatenation [B, T, 4K] would double the projection's work).
      const [wh, ws] = this.attW!.weight.chunk(2, 1);
      const pre = nn.functional.linear(h, wh).add(nn.functional.linear(s0, ws, this.attW!.bias).unsqueeze(1));
      return this.attV!.forward(pre.tanh()).softmax(1);
    });
  }

  override dispose(): void {
    super.dispose();
    this.#sinusoid?.dispose();
  }
}
