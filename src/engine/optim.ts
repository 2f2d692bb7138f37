/** Optimizers and learning-rate schedules (torch.optim). */
import { Tensor, keep, noGrad, zerosLike } from "./tensor.js";

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  /** AdamW: decay the weights directly instead of adding weightDecay * w to the gradient. */
  decoupledWeightDecay?: boolean;
}

interface AdamState {
  expAvg: Tensor;
  expAvgSq: Tensor;
}

/** Adam, step for step torch.optim.Adam (single-tensor path of PyTorch 1.13). */
export class Adam {
  lr: number;
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  readonly decoupled: boolean;
  stepCount = 0;
  readonly #state = new Map<Tensor, AdamState>();

  constructor(readonly params: Tensor[], o: AdamOptions = {}) {
    this.lr = o.lr ?? 1e-3;
    this.betas = o.betas ?? [0.9, 0.999];
    this.eps = o.eps ?? 1e-8;
    this.weightDecay = o.weightDecay ?? 0;
    this.decoupled = o.decoupledWeightDecay ?? false;
  }

  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }

  step(): void {
    this.stepCount++;
    const [b1, b2] = this.betas;
    const bc1 = 1 - b1 ** this.stepCount;
    const bc2Sqrt = Math.sqrt(1 - b2 ** this.stepCount);
    const stepSize = this.lr / bc1;
    noGrad(() => {
      for (const p of this.params) {
        let g = p.grad;
        if (!g) continue;
        let s = this.#state.get(p);
        if (!s) {
          // State outlives any scope the step runs in.
          s = { expAvg: keep(zerosLike(p)), expAvgSq: keep(zerosLike(p)) };
          this.#state.set(p, s);
        }
        if (this.weightDecay !== 0) {
          if (this.decoupled) p.mul_(1 - this.lr * this.weightDecay);
          else {
            const gd = g.add(p.mul(this.weightDecay));
            g.dispose();
            g = gd;
          }
        }
        s.expAvg.mul_(b1).add_(g, 1 - b1);
        s.expAvgSq.mul_(b2).addcmul_(g, g, 1 - b2);
        const root = s.expAvgSq.sqrt();
        const denom = root.mul(1 / bc2Sqrt);
        denom.add_(this.eps);
        p.addcdiv_(s.expAvg, denom, -stepSize);
        root.dispose();
        denom.dispose();
        g.dispose();
      }
    });
  }

  /** Moments by parameter index, for checkpoints: `exp_avg.<i>`, `exp_avg_sq.<i>`. */
  stateDict(): { step: number; lr: number; tensors: Map<string, Tensor> } {
    const tensors = new Map<string, Tensor>();
    this.params.forEach((p, i) => {
      const s = this.#state.get(p);
      if (!s) return;
      tensors.set(`exp_avg.${i}`, s.expAvg);
      tensors.set(`exp_avg_sq.${i}`, s.expAvgSq);
    });
    return { step: this.stepCount, lr: this.lr, tensors };
  }

  loadStateDict(sd: { step: number; lr: number; tensors: Map<string, Tensor> }): void {
    this.stepCount = sd.step;
    this.lr = sd.lr;
    this.params.forEach((p, i) => {
      const m = sd.tensors.get(`exp_avg.${i}`);
      const v = sd.tensors.get(`exp_avg_sq.${i}`);
      if (!m || !v) return;
      const old = this.#state.get(p);
      if (old) {
        old.expAvg.dispose();
        old.expAvgSq.dispose();
      }
      this.#state.set(p, { expAvg: keep(m.clone()), expAvgSq: keep(v.clone()) });
    });
  }

  dispose(): void {
    for (const s of this.#state.values()) {
      s.expAvg.dispose();
      s.expAvgSq.dispose();
    }
    this.#state.clear();
  }
}

/** A learning rate per epoch (0-based). */
export interface LrSchedule {
  lr(epoch: number): number;
}

/** Geometric decay from `start` at epoch 0 to `end` at epoch `epochs - 1` (the paper: 1e-3 to 1e-7 over 90). */
export class ExponentialDecay implements LrSchedule {
  constructor(readonly start: number, readonly end: number, readonly epochs: number) {
    if (!(start > 0 && end > 0 && epochs >= 1)) throw new RangeError("ExponentialDecay needs start > 0, end > 0, epochs >= 1");
  }
  lr(epoch: number): number {
    if (this.epochs === 1) return this.start;
    const f = Math.min(Math.max(epoch, 0), this.epochs - 1) / (this.epochs - 1);
    return this.start * (this.end / this.start) ** f;
  }
}

/** lr = start * gamma^floor(epoch / stepSize) (torch.optim.lr_scheduler.StepLR). */
export class StepDecay implements LrSchedule {
  constructor(readonly start: number, readonly stepSize: number, readonly gamma = 0.1) {}
  lr(epoch: number): number {
    return this.start * this.gamma ** Math.floor(epoch / this.stepSize);
  }
}
