/** Weight initialisers, in place, with PyTorch's definitions (torch.nn.init). */
import { Tensor, noGrad } from "../tensor.js";
import { linalg } from "../tensor.js";

function fans(t: Tensor): [number, number] {
  const s = t.shape;
  if (s.length < 2) throw new Error(`fan in and fan out need at least 2 dimensions, got [${s}]`);
  const field = s.slice(2).reduce((a, b) => a * b, 1);
  return [s[1] * field, s[0] * field];
}

export function zeros_(t: Tensor): Tensor {
  return noGrad(() => t.zero_());
}
export function ones_(t: Tensor): Tensor {
  return noGrad(() => t.fill_(1));
}
export function uniform_(t: Tensor, lo: number, hi: number): Tensor {
  return noGrad(() => t.uniform_(lo, hi));
}
export function normal_(t: Tensor, mean = 0, std = 1): Tensor {
  return noGrad(() => t.normal_(mean, std));
}

/** Normal(mean, std) truncated to [a, b], by inverse-CDF sampling as torch.nn.init.trunc_normal_. */
export function truncNormal_(t: Tensor, { mean = 0, std = 1, a = -2, b = 2 } = {}): Tensor {
  const cdf = (x: number): number => (1 + erf(x / Math.SQRT2)) / 2;
  const l = cdf((a - mean) / std);
  const u = cdf((b - mean) / std);
  return noGrad(() => t.uniform_(2 * l - 1, 2 * u - 1).erfinv_().mul_(std * Math.SQRT2).add_(mean).clamp_(a, b));
}

export function xavierUniform_(t: Tensor, gain = 1): Tensor {
  const [fi, fo] = fans(t);
  const bound = gain * Math.sqrt(6 / (fi + fo));
  return uniform_(t, -bound, bound);
}
export function xavierNormal_(t: Tensor, gain = 1): Tensor {
  const [fi, fo] = fans(t);
  return normal_(t, 0, gain * Math.sqrt(2 / (fi + fo)));
}
/** PyTorch's default for Linear weights: kaiming_uniform_(a = sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
export function kaimingUniform_(t: Tensor, a = Math.sqrt(5)): Tensor {
  const [fi] = fans(t);
  const gain = Math.sqrt(2 / (1 + a * a));
  const bound = gain * Math.sqrt(3 / fi);
  return uniform_(t, -bound, bound);
}

/** A (semi-)orthogonal matrix from the QR decomposition of a normal sample, as torch.nn.init.orthogonal_. */
export function orthogonal_(t: Tensor, gain = 1): Tensor {
  const rows = t.shape[0];
  const cols = t.numel / rows;
  noGrad(() => {
    const flat = t.reshape(rows, cols);
    const g = flat.clone().normal_(0, 1);
    flat.dispose();
    const tall = rows < cols ? g.transpose(0, 1) : g;
    const [q, r] = linalg.qr(tall);
    const d = r.diagonal().sign();
    const qs = q.mul(d);
    const out = rows < cols ? qs.transpose(0, 1) : qs;
    const shaped = out.reshape(...t.shape);
    t.copy_(shaped).mul_(gain);
    for (const x of new Set([g, tall, q, r, d, qs, out, shaped])) x.dispose();
  });
  return t;
}

/** Abramowitz-Stegun 7.1.26 is too coarse for the truncation bounds; use a series/continued fraction. */
export function erf(x: number): number {
  const s = Math.sign(x);
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // Maclaurin series, converges fast for small |x|
    let sum = ax;
    let term = ax;
    for (let n = 1; n < 60; n++) {
      term *= (-ax * ax) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17) break;
    }
    return (s * 2 * sum) / Math.sqrt(Math.PI);
  }
  // continued fraction for erfc
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (ax + f);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  return s * (1 - erfc);
}
