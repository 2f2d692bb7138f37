/**
 * Loads the libtorch addon, on first use. The process-wide settings that make libtorch fast on
 * these machines (ENGINE-NOTES.md) are applied here, before and right after the addon loads:
 * - OMP_WAIT_POLICY=PASSIVE: libgomp reads it once, when it is loaded, so it must be set first;
 * - glibc allocator thresholds (mallopt): otherwise freed tensor memory goes back to the OS and
 *   is faulted in again on every training step;
 * - an explicit intra-op thread count (libtorch's default here is 1 whatever the core count).
 */
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Handle of a tensor in the addon's table. */
export type H = number;
type Opt<T> = T | null | undefined;

export interface NativeStats {
  liveTensors: number;
  liveBytes: number;
  slots: number;
}

/** The functions of native/tensor.cc, one per ATen operator. Scalars use the `s`-suffixed forms. */
export interface Native {
  free(h: H): void;
  stats(): NativeStats;
  shape(h: H): number[];
  dtype(h: H): number;
  device(h: H): string;
  isContiguous(h: H): boolean;
  item(h: H): number;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  manualSeed(seed: number): void;
  setGradEnabled(on: boolean): boolean;
  isGradEnabled(): boolean;
  cudaIsAvailable(): boolean;
  config(): string;
  version(): string;
  mallopt(mmapThreshold: number, trimThreshold: number): boolean;
  profileStart(): void;
  profileStop(): { name: string; calls: number; totalS: number; selfS: number }[];

  fromBuffer(a: ArrayBufferView, shape: number[], dtype: number): H;
  toBuffer(h: H): ArrayBuffer;
  viewBuffer(h: H): ArrayBuffer;
  zeros(shape: number[], dtype: number): H;
  ones(shape: number[], dtype: number): H;
  full(shape: number[], v: number, dtype: number): H;
  arange(start: number, end: number, step: number, dtype: number): H;
  linspace(a: number, b: number, n: number, dtype: number): H;
  eye(n: number, dtype: number): H;
  randn(shape: number[], dtype: number): H;
  rand(shape: number[], dtype: number): H;
  randint(lo: number, hi: number, shape: number[]): H;
  randperm(n: number): H;
  zerosLike(h: H): H;
  onesLike(h: H): H;
  triuIndices(rows: number, cols: number, offset: number): H;

  toDtype(h: H, dtype: number): H;
  toDevice(h: H, device: string): H;
  clone(h: H): H;
  contiguous(h: H): H;
  reshape(h: H, shape: number[]): H;
  permute(h: H, dims: number[]): H;
  transpose(h: H, a: number, b: number): H;
  narrow(h: H, dim: number, start: number, len: number): H;
  select(h: H, dim: number, index: number): H;
  indexSelect(h: H, dim: number, index: H): H;
  gather(h: H, dim: number, index: H): H;
  scatterAdd(h: H, dim: number, index: H, src: H): H;
  indexAdd(h: H, dim: number, index: H, src: H): H;
  maskedSelect(h: H, mask: H): H;
  maskedFill(h: H, mask: H, v: number): H;
  where(cond: H, a: H, b: H): H;
  cat(hs: H[], dim: number): H;
  stack(hs: H[], dim: number): H;
  unfold(h: H, dim: number, size: number, step: number): H;
  expand(h: H, shape: number[]): H;
  squeeze(h: H, dim: Opt<number>): H;
  unsqueeze(h: H, dim: number): H;
  flatten(h: H, start: number, end: number): H;
  flip(h: H, dims: number[]): H;
  repeat(h: H, sizes: number[]): H;
  chunk(h: H, n: number, dim: number): H[];
  tril(h: H, k: number): H;
  triu(h: H, k: number): H;
  diagonal(h: H, offset: number, d1: number, d2: number): H;
  nonzero(h: H): H;

  maximum(a: H, b: H): H;
  minimum(a: H, b: H): H;
  logicalAnd(a: H, b: H): H;
  logicalOr(a: H, b: H): H;
  atan2(a: H, b: H): H;
  rsubs(h: H, s: number): H;
  addcmul(h: H, a: H, b: H, v: number): H;
  clamp(h: H, lo: Opt<number>, hi: Opt<number>): H;
  nanToNum(h: H, nan: number, posinf: number, neginf: number): H;
  leakyRelu(h: H, slope: number): H;
  gelu(h: H): H;
  softmax(h: H, dim: number): H;
  logSoftmax(h: H, dim: number): H;

  add_(h: H, o: H, alpha: number): void;
  adds_(h: H, s: number): void;
  mul_(h: H, o: H): void;
  muls_(h: H, s: number): void;
  div_(h: H, o: H): void;
  addcmul_(h: H, a: H, b: H, v: number): void;
  addcdiv_(h: H, a: H, b: H, v: number): void;
  copy_(h: H, src: H): void;
  zero_(h: H): void;
  fill_(h: H, v: number): void;
  normal_(h: H, mean: number, std: number): void;
  uniform_(h: H, lo: number, hi: number): void;
  erfinv_(h: H): void;
  clamp_(h: H, lo: number, hi: number): void;
  maskedFill_(h: H, mask: H, v: number): void;

  sum(h: H, dims: Opt<number[]>, keepdim?: boolean): H;
  mean(h: H, dims: Opt<number[]>, keepdim?: boolean): H;
  nansum(h: H, dims: Opt<number[]>, keepdim?: boolean): H;
  nanmean(h: H, dims: Opt<number[]>, keepdim?: boolean): H;
  var(h: H, dims: Opt<number[]>, unbiased: boolean, keepdim?: boolean): H;
  std(h: H, dims: Opt<number[]>, unbiased: boolean, keepdim?: boolean): H;
  amax(h: H, dims: number[], keepdim: boolean): H;
  amin(h: H, dims: number[], keepdim: boolean): H;
  max(h: H): H;
  min(h: H): H;
  maxDim(h: H, dim: number, keepdim: boolean): [H, H];
  minDim(h: H, dim: number, keepdim: boolean): [H, H];
  argmax(h: H, dim: number, keepdim: boolean): H;
  argmin(h: H, dim: number, keepdim: boolean): H;
  sort(h: H, dim: number, descending: boolean): [H, H];
  topk(h: H, k: number, dim: number, largest: boolean): [H, H];
  cumsum(h: H, dim: number): H;
  cumprod(h: H, dim: number): H;
  anyAll(h: H, all: boolean): H;

  matmul(a: H, b: H): H;
  mm(a: H, b: H): H;
  bmm(a: H, b: H): H;
  cholesky(a: H, upper: boolean): H;
  choleskySolve(b: H, l: H, upper: boolean): H;
  solve(a: H, b: H): H;
  lstsq(a: H, b: H): [H, H];
  qr(a: H): [H, H];
  inv(a: H): H;
  pinv(a: H): H;
  eigh(a: H): [H, H];

  linear(x: H, w: H, b: Opt<H>): H;
  lstm(x: H, hx: H[], params: H[], hasBiases: boolean, numLayers: number, dropout: number, train: boolean,
    bidirectional: boolean, batchFirst: boolean): [H, H, H];
  gru(x: H, hx: H, params: H[], hasBiases: boolean, numLayers: number, dropout: number, train: boolean,
    bidirectional: boolean, batchFirst: boolean): [H, H];
  batchNorm(x: H, w: Opt<H>, b: Opt<H>, rm: Opt<H>, rv: Opt<H>, training: boolean, momentum: number, eps: number): H;
  layerNorm(x: H, shape: number[], w: Opt<H>, b: Opt<H>, eps: number): H;
  dropout(x: H, p: number, train: boolean): H;
  transformerEncoderLayerFwd(src: H, embedDim: number, heads: number, qkvW: H, qkvB: H, projW: H, projB: H, useGelu: boolean,
    normFirst: boolean, eps: number, n1w: H, n1b: H, n2w: H, n2b: H, f1w: H, f1b: H, f2w: H, f2b: H): H;

  requiresGrad_(h: H, on: boolean): void;
  requiresGrad(h: H): boolean;
  backward(h: H, grad: Opt<H>, retainGraph: boolean): void;
  grad(h: H): H | null;
  setGrad(h: H, g: Opt<H>): void;
  detach(h: H): H;

  // Elementwise unary and binary operators, looked up by name in tensor.ts.
  [op: string]: unknown;
}

function addonPath(): string {
  if (process.env.ALPHANET_NATIVE) return process.env.ALPHANET_NATIVE;
  // dist/src/engine/native.js or src/engine/native.ts: the package root is three or two levels up.
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ["../../..", "../.."]) {
    const p = resolve(here, up, "native/build/Release/alphanet_native.node");
    if (existsSync(p)) return p;
  }
  throw new Error(
    "alphanet's native addon is not built: run `make build` (or `npm run build:native`) in the alphanet folder",
  );
}

/** Threads used when neither --threads nor ALPHANET_THREADS says otherwise (see bench/README.md). */
export const DEFAULT_THREADS = 1;

process.env.OMP_WAIT_POLICY ??= "PASSIVE";
const require = createRequire(import.meta.url);
let addon: Native | undefined;

/**
 * The addon, loaded on first use: importing the engine (for a type or a constant, as the stages
 * that never compute with tensors do through their imports) does not load libtorch.
 */
export function native(): Native {
  if (addon) return addon;
  const n = require(addonPath()) as Native;
  n.mallopt(32 * 1024 * 1024, 1024 * 1024 * 1024);
  n.setNumThreads(Number(process.env.ALPHANET_THREADS ?? DEFAULT_THREADS));
  return (addon = n);
}
