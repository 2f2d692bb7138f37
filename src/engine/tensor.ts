/**
 * Tensor: a PyTorch-shaped handle on a libtorch tensor.
 *
 * Memory is released deterministically: call `dispose()`, declare with `using`, or create
 * tensors inside `scope(fn)`, which frees everything made inside it except what `fn` returns.
 * A FinalizationRegistry frees forgotten tensors as a safety net only: V8 runs finalizers when
 * the event loop yields, never inside a synchronous training loop (ENGINE-NOTES.md).
 */
import { native, type H } from "./native.js";
import { DType, bytesPerElement, dtypeOfArray, typedArrayFor, type TypedArray } from "./dtype.js";

export { DType } from "./dtype.js";
export type { TypedArray } from "./dtype.js";

const registry = new FinalizationRegistry<H>((h) => native().free(h));
const scopes: Tensor[][] = [];

export type Scalar = number;
export type TensorLike = Tensor | Scalar;

function dimList(dim: number | number[] | undefined | null): number[] | null {
  if (dim === undefined || dim === null) return null;
  return Array.isArray(dim) ? dim : [dim];
}

export class Tensor {
  #h: H;
  #shape: number[] | undefined;

  /** Wraps a native handle; the Tensor owns it from now on. */
  constructor(handle: H) {
    this.#h = handle;
    registry.register(this, handle, this);
    const top = scopes[scopes.length - 1];
    if (top) top.push(this);
  }

  /** The native handle; throws once the tensor has been disposed. */
  get handle(): H {
    if (this.#h < 0) throw new Error("Tensor used after dispose()");
    return this.#h;
  }

  get isDisposed(): boolean {
    return this.#h < 0;
  }

  dispose(): void {
    if (this.#h < 0) return;
    registry.unregister(this);
    native().free(this.#h);
    this.#h = -1;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  // ---- information ----
  get shape(): number[] {
    return (this.#shape ??= native().shape(this.handle));
  }
  get dtype(): DType {
    return native().dtype(this.handle) as DType;
  }
  get device(): string {
    return native().device(this.handle);
  }
  get ndim(): number {
    return this.shape.length;
  }
  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
  size(dim: number): number {
    const s = this.shape;
    return s[dim < 0 ? s.length + dim : dim];
  }
  isContiguous(): boolean {
    return native().isContiguous(this.handle);
  }
  toString(): string {
    return this.#h < 0 ? "Tensor(disposed)" : `Tensor(shape=[${this.shape.join(", ")}], dtype=${DType[this.dtype]})`;
  }

  // ---- data out ----
  /** A copy of the elements in row-major order. */
  toArray(): TypedArray {
    return typedArrayFor(this.dtype, native().toBuffer(this.handle));
  }
  /** Float64 copy as a plain array (for small tensors, tests and reports). */
  toList(): number[] {
    const a = this.dtype === DType.float64 ? this.toArray() : this.to(DType.float64).#takeArray();
    return Array.from(a as Float64Array);
  }
  /**
   * A zero-copy typed array over torch-owned memory. It stays valid after `dispose()` (it holds a
   * reference to the storage) and sees later in-place changes of the tensor.
   */
  view(): TypedArray {
    const c = this.isContiguous() ? this : this.contiguous();
    const out = typedArrayFor(this.dtype, native().viewBuffer(c.handle));
    if (c !== this) c.dispose();
    return out;
  }
  item(): number {
    return native().item(this.handle);
  }
  #takeArray(): TypedArray {
    const a = this.toArray();
    this.dispose();
    return a;
  }

  // ---- casting ----
  to(dtype: DType): Tensor {
    return wrap(native().toDtype(this.handle, dtype));
  }
  toDevice(device: string): Tensor {
    return wrap(native().toDevice(this.handle, device));
  }
  clone(): Tensor {
    return wrap(native().clone(this.handle));
  }
  contiguous(): Tensor {
    return wrap(native().contiguous(this.handle));
  }
  detach(): Tensor {
    return wrap(native().detach(this.handle));
  }

  // ---- shape and indexing ----
  reshape(...shape: number[]): Tensor {
    return wrap(native().reshape(this.handle, shape));
  }
  permute(...dims: number[]): Tensor {
    return wrap(native().permute(this.handle, dims));
  }
  transpose(a: number, b: number): Tensor {
    return wrap(native().transpose(this.handle, a, b));
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return wrap(native().narrow(this.handle, dim, start, length));
  }
  select(dim: number, index: number): Tensor {
    return wrap(native().select(this.handle, dim, index));
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return wrap(native().indexSelect(this.handle, dim, index.handle));
  }
  gather(dim: number, index: Tensor): Tensor {
    return wrap(native().gather(this.handle, dim, index.handle));
  }
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor {
    return wrap(native().scatterAdd(this.handle, dim, index.handle, src.handle));
  }
  indexAdd(dim: number, index: Tensor, src: Tensor): Tensor {
    return wrap(native().indexAdd(this.handle, dim, index.handle, src.handle));
  }
  maskedSelect(mask: Tensor): Tensor {
    return wrap(native().maskedSelect(this.handle, mask.handle));
  }
  maskedFill(mask: Tensor, value: number): Tensor {
    return wrap(native().maskedFill(this.handle, mask.handle, value));
  }
  unfold(dim: number, size: number, step: number): Tensor {
    return wrap(native().unfold(this.handle, dim, size, step));
  }
  expand(...shape: number[]): Tensor {
    return wrap(native().expand(this.handle, shape));
  }
  squeeze(dim?: number): Tensor {
    return wrap(native().squeeze(this.handle, dim));
  }
  unsqueeze(dim: number): Tensor {
    return wrap(native().unsqueeze(this.handle, dim));
  }
  flatten(start = 0, end = -1): Tensor {
    return wrap(native().flatten(this.handle, start, end));
  }
  flip(...dims: number[]): Tensor {
    return wrap(native().flip(this.handle, dims));
  }
  repeat(...sizes: number[]): Tensor {
    return wrap(native().repeat(this.handle, sizes));
  }
  chunk(n: number, dim = 0): Tensor[] {
    return native().chunk(this.handle, n, dim).map(wrap);
  }
  tril(k = 0): Tensor {
    return wrap(native().tril(this.handle, k));
  }
  triu(k = 0): Tensor {
    return wrap(native().triu(this.handle, k));
  }
  diagonal(offset = 0, d1 = 0, d2 = 1): Tensor {
    return wrap(native().diagonal(this.handle, offset, d1, d2));
  }
  nonzero(): Tensor {
    return wrap(native().nonzero(this.handle));
  }

  // ---- elementwise ----
  add(o: TensorLike): Tensor { return binary("add", this, o); }
  sub(o: TensorLike): Tensor { return binary("sub", this, o); }
  mul(o: TensorLike): Tensor { return binary("mul", this, o); }
  div(o: TensorLike): Tensor { return binary("div", this, o); }
  pow(o: TensorLike): Tensor { return binary("pow", this, o); }
  fmod(o: TensorLike): Tensor { return binary("fmod", this, o); }
  eq(o: TensorLike): Tensor { return binary("eq", this, o); }
  ne(o: TensorLike): Tensor { return binary("ne", this, o); }
  lt(o: TensorLike): Tensor { return binary("lt", this, o); }
  le(o: TensorLike): Tensor { return binary("le", this, o); }
  gt(o: TensorLike): Tensor { return binary("gt", this, o); }
  ge(o: TensorLike): Tensor { return binary("ge", this, o); }
  /** s - this */
  rsub(s: number): Tensor { return wrap(native().rsubs(this.handle, s)); }
  maximum(o: Tensor): Tensor { return wrap(native().maximum(this.handle, o.handle)); }
  minimum(o: Tensor): Tensor { return wrap(native().minimum(this.handle, o.handle)); }
  logicalAnd(o: Tensor): Tensor { return wrap(native().logicalAnd(this.handle, o.handle)); }
  logicalOr(o: Tensor): Tensor { return wrap(native().logicalOr(this.handle, o.handle)); }
  atan2(o: Tensor): Tensor { return wrap(native().atan2(this.handle, o.handle)); }
  /** this + value * a * b */
  addcmul(a: Tensor, b: Tensor, value = 1): Tensor {
    return wrap(native().addcmul(this.handle, a.handle, b.handle, value));
  }
  neg(): Tensor { return unary("neg", this); }
  abs(): Tensor { return unary("abs", this); }
  exp(): Tensor { return unary("exp", this); }
  log(): Tensor { return unary("log", this); }
  log1p(): Tensor { return unary("log1p", this); }
  expm1(): Tensor { return unary("expm1", this); }
  sqrt(): Tensor { return unary("sqrt", this); }
  rsqrt(): Tensor { return unary("rsqrt", this); }
  tanh(): Tensor { return unary("tanh", this); }
  sigmoid(): Tensor { return unary("sigmoid", this); }
  relu(): Tensor { return unary("relu", this); }
  sign(): Tensor { return unary("sign", this); }
  floor(): Tensor { return unary("floor", this); }
  ceil(): Tensor { return unary("ceil", this); }
  round(): Tensor { return unary("round", this); }
  reciprocal(): Tensor { return unary("reciprocal", this); }
  square(): Tensor { return unary("square", this); }
  isnan(): Tensor { return unary("isnan", this); }
  isfinite(): Tensor { return unary("isfinite", this); }
  erf(): Tensor { return unary("erf", this); }
  erfinv(): Tensor { return unary("erfinv", this); }
  logicalNot(): Tensor { return unary("logicalNot", this); }
  sin(): Tensor { return unary("sin", this); }
  cos(): Tensor { return unary("cos", this); }
  clamp(min?: number | null, max?: number | null): Tensor {
    return wrap(native().clamp(this.handle, min, max));
  }
  nanToNum(nan = 0, posinf = 0, neginf = 0): Tensor {
    return wrap(native().nanToNum(this.handle, nan, posinf, neginf));
  }
  leakyRelu(slope = 0.01): Tensor {
    return wrap(native().leakyRelu(this.handle, slope));
  }
  gelu(): Tensor {
    return wrap(native().gelu(this.handle));
  }
  softmax(dim: number): Tensor {
    return wrap(native().softmax(this.handle, dim));
  }
  logSoftmax(dim: number): Tensor {
    return wrap(native().logSoftmax(this.handle, dim));
  }

  // ---- in place (return this) ----
  add_(o: TensorLike, alpha = 1): this {
    if (typeof o === "number") native().adds_(this.handle, o * alpha);
    else native().add_(this.handle, o.handle, alpha);
    return this;
  }
  mul_(o: TensorLike): this {
    if (typeof o === "number") native().muls_(this.handle, o);
    else native().mul_(this.handle, o.handle);
    return this;
  }
  div_(o: Tensor): this {
    native().div_(this.handle, o.handle);
    return this;
  }
  addcmul_(a: Tensor, b: Tensor, value = 1): this {
    native().addcmul_(this.handle, a.handle, b.handle, value);
    return this;
  }
  addcdiv_(a: Tensor, b: Tensor, value = 1): this {
    native().addcdiv_(this.handle, a.handle, b.handle, value);
    return this;
  }
  copy_(src: Tensor): this {
    native().copy_(this.handle, src.handle);
    return this;
  }
  zero_(): this {
    native().zero_(this.handle);
    return this;
  }
  fill_(v: number): this {
    native().fill_(this.handle, v);
    return this;
  }
  normal_(mean = 0, std = 1): this {
    native().normal_(this.handle, mean, std);
    return this;
  }
  uniform_(lo = 0, hi = 1): this {
    native().uniform_(this.handle, lo, hi);
    return this;
  }
  erfinv_(): this {
    native().erfinv_(this.handle);
    return this;
  }
  clamp_(lo: number, hi: number): this {
    native().clamp_(this.handle, lo, hi);
    return this;
  }
  maskedFill_(mask: Tensor, v: number): this {
    native().maskedFill_(this.handle, mask.handle, v);
    return this;
  }

  // ---- reductions ----
  sum(dim?: number | number[] | null, keepdim = false): Tensor {
    return wrap(native().sum(this.handle, dimList(dim), keepdim));
  }
  mean(dim?: number | number[] | null, keepdim = false): Tensor {
    return wrap(native().mean(this.handle, dimList(dim), keepdim));
  }
  nansum(dim?: number | number[] | null, keepdim = false): Tensor {
    return wrap(native().nansum(this.handle, dimList(dim), keepdim));
  }
  nanmean(dim?: number | number[] | null, keepdim = false): Tensor {
    return wrap(native().nanmean(this.handle, dimList(dim), keepdim));
  }
  /** Variance; `unbiased` divides by n - 1 (PyTorch's default), else by n. */
  var(dim?: number | number[] | null, { unbiased = true, keepdim = false } = {}): Tensor {
    return wrap(native().var(this.handle, dimList(dim), unbiased, keepdim));
  }
  std(dim?: number | number[] | null, { unbiased = true, keepdim = false } = {}): Tensor {
    return wrap(native().std(this.handle, dimList(dim), unbiased, keepdim));
  }
  amax(dim: number | number[], keepdim = false): Tensor {
    return wrap(native().amax(this.handle, dimList(dim)!, keepdim));
  }
  amin(dim: number | number[], keepdim = false): Tensor {
    return wrap(native().amin(this.handle, dimList(dim)!, keepdim));
  }
  max(): Tensor { return wrap(native().max(this.handle)); }
  min(): Tensor { return wrap(native().min(this.handle)); }
  maxDim(dim: number, keepdim = false): [Tensor, Tensor] {
    return wrapPair(native().maxDim(this.handle, dim, keepdim));
  }
  minDim(dim: number, keepdim = false): [Tensor, Tensor] {
    return wrapPair(native().minDim(this.handle, dim, keepdim));
  }
  argmax(dim: number, keepdim = false): Tensor {
    return wrap(native().argmax(this.handle, dim, keepdim));
  }
  argmin(dim: number, keepdim = false): Tensor {
    return wrap(native().argmin(this.handle, dim, keepdim));
  }
  /** Stable sort: [values, indices]. */
  sort(dim = -1, descending = false): [Tensor, Tensor] {
    return wrapPair(native().sort(this.handle, dim, descending));
  }
  argsort(dim = -1, descending = false): Tensor {
    const [v, i] = this.sort(dim, descending);
    v.dispose();
    return i;
  }
  topk(k: number, dim = -1, largest = true): [Tensor, Tensor] {
    return wrapPair(native().topk(this.handle, k, dim, largest));
  }
  cumsum(dim: number): Tensor { return wrap(native().cumsum(this.handle, dim)); }
  cumprod(dim: number): Tensor { return wrap(native().cumprod(this.handle, dim)); }
  any(): Tensor { return wrap(native().anyAll(this.handle, false)); }
  all(): Tensor { return wrap(native().anyAll(this.handle, true)); }

  // ---- linear algebra ----
  matmul(o: Tensor): Tensor { return wrap(native().matmul(this.handle, o.handle)); }
  mm(o: Tensor): Tensor { return wrap(native().mm(this.handle, o.handle)); }
  bmm(o: Tensor): Tensor { return wrap(native().bmm(this.handle, o.handle)); }

  // ---- autograd ----
  get requiresGrad(): boolean {
    return native().requiresGrad(this.handle);
  }
  requiresGrad_(on = true): this {
    native().requiresGrad_(this.handle, on);
    return this;
  }
  backward(grad?: Tensor, { retainGraph = false } = {}): void {
    native().backward(this.handle, grad?.handle ?? null, retainGraph);
  }
  /** The accumulated gradient as a new handle on the same memory, or null. */
  get grad(): Tensor | null {
    const g = native().grad(this.handle);
    return g === null ? null : wrap(g);
  }
  set grad(g: Tensor | null) {
    native().setGrad(this.handle, g?.handle ?? null);
  }
}

function wrap(h: H): Tensor {
  return new Tensor(h);
}
function wrapPair([a, b]: [H, H]): [Tensor, Tensor] {
  return [wrap(a), wrap(b)];
}
function unary(op: string, t: Tensor): Tensor {
  return wrap((native()[op] as (h: H) => H)(t.handle));
}
function binary(op: string, a: Tensor, b: TensorLike): Tensor {
  if (typeof b === "number") return wrap((native()[op + "s"] as (h: H, s: number) => H)(a.handle, b));
  return wrap((native()[op] as (h: H, o: H) => H)(a.handle, b.handle));
}

// ---- creation ----

export interface TensorOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

let defaultDtype = DType.float32;
/** The dtype of new floating tensors and of layers' parameters (torch.set_default_dtype). */
export function setDefaultDtype(d: DType): void {
  if (d !== DType.float32 && d !== DType.float64) throw new TypeError("the default dtype must be float32 or float64");
  defaultDtype = d;
}
export function getDefaultDtype(): DType {
  return defaultDtype;
}

function finish(h: H, opts: TensorOptions | undefined): Tensor {
  const t = wrap(h);
  if (opts?.requiresGrad) t.requiresGrad_(true);
  return t;
}

/** A tensor holding a copy of `data` (a typed array or nested-free number array) with `shape`. */
export function tensor(data: TypedArray | number[], shape?: number[], opts?: TensorOptions): Tensor {
  const dtype = opts?.dtype ?? (Array.isArray(data) ? defaultDtype : dtypeOfArray(data));
  let arr: TypedArray;
  if (Array.isArray(data)) {
    const buf = new ArrayBuffer(data.length * bytesPerElement(dtype));
    arr = typedArrayFor(dtype, buf);
    if (arr instanceof BigInt64Array) data.forEach((v, i) => ((arr as BigInt64Array)[i] = BigInt(v)));
    else if (dtype === DType.bfloat16 || dtype === DType.float16)
      throw new TypeError("build 16-bit float tensors from float32 with .to(dtype)");
    else (arr as Float64Array).set(data);
  } else {
    arr = data;
  }
  return finish(native().fromBuffer(arr, shape ?? [arr.length], dtype), opts);
}

export const zeros = (shape: number[], opts?: TensorOptions): Tensor =>
  finish(native().zeros(shape, opts?.dtype ?? defaultDtype), opts);
export const ones = (shape: number[], opts?: TensorOptions): Tensor =>
  finish(native().ones(shape, opts?.dtype ?? defaultDtype), opts);
export const full = (shape: number[], value: number, opts?: TensorOptions): Tensor =>
  finish(native().full(shape, value, opts?.dtype ?? defaultDtype), opts);
export const randn = (shape: number[], opts?: TensorOptions): Tensor =>
  finish(native().randn(shape, opts?.dtype ?? defaultDtype), opts);
export const rand = (shape: number[], opts?: TensorOptions): Tensor =>
  finish(native().rand(shape, opts?.dtype ?? defaultDtype), opts);
export const randint = (lo: number, hi: number, shape: number[]): Tensor => wrap(native().randint(lo, hi, shape));
export const randperm = (n: number): Tensor => wrap(native().randperm(n));
export const arange = (start: number, end: number, step = 1, dtype = DType.int64): Tensor =>
  wrap(native().arange(start, end, step, dtype));
export const linspace = (a: number, b: number, n: number, dtype = defaultDtype): Tensor =>
  wrap(native().linspace(a, b, n, dtype));
export const eye = (n: number, dtype = defaultDtype): Tensor => wrap(native().eye(n, dtype));
export const zerosLike = (t: Tensor): Tensor => wrap(native().zerosLike(t.handle));
export const onesLike = (t: Tensor): Tensor => wrap(native().onesLike(t.handle));
export const triuIndices = (rows: number, cols: number, offset = 0): Tensor =>
  wrap(native().triuIndices(rows, cols, offset));
export const cat = (ts: Tensor[], dim = 0): Tensor => wrap(native().cat(ts.map((t) => t.handle), dim));
export const stack = (ts: Tensor[], dim = 0): Tensor => wrap(native().stack(ts.map((t) => t.handle), dim));
export const where = (cond: Tensor, a: Tensor, b: Tensor): Tensor => wrap(native().where(cond.handle, a.handle, b.handle));

// ---- linear algebra ----
export const linalg = {
  cholesky: (a: Tensor, upper = false): Tensor => wrap(native().cholesky(a.handle, upper)),
  choleskySolve: (b: Tensor, l: Tensor, upper = false): Tensor => wrap(native().choleskySolve(b.handle, l.handle, upper)),
  solve: (a: Tensor, b: Tensor): Tensor => wrap(native().solve(a.handle, b.handle)),
  /** Least squares by SVD (gelsd): [solution, singular values]; copes with rank deficiency. */
  lstsq: (a: Tensor, b: Tensor): [Tensor, Tensor] => wrapPair(native().lstsq(a.handle, b.handle)),
  qr: (a: Tensor): [Tensor, Tensor] => wrapPair(native().qr(a.handle)),
  inv: (a: Tensor): Tensor => wrap(native().inv(a.handle)),
  pinv: (a: Tensor): Tensor => wrap(native().pinv(a.handle)),
  eigh: (a: Tensor): [Tensor, Tensor] => wrapPair(native().eigh(a.handle)),
};

// ---- memory scopes ----

type Kept = Tensor | Kept[] | { [k: string]: Kept } | unknown;

function collect(v: Kept, out: Set<Tensor>, depth = 0): void {
  if (v instanceof Tensor) out.add(v);
  else if (depth > 4 || v === null || typeof v !== "object") return;
  else if (Array.isArray(v)) for (const x of v) collect(x, out, depth + 1);
  else if (v instanceof Map) for (const x of v.values()) collect(x, out, depth + 1);
  else if (Object.getPrototypeOf(v) === Object.prototype) for (const x of Object.values(v)) collect(x, out, depth + 1);
}

/**
 * Runs `fn` and frees every tensor created inside it, except the tensors in its result (a
 * Tensor, or arrays, Maps and plain objects of them), which move to the enclosing scope.
 */
export function scope<T>(fn: () => T): T {
  const mine: Tensor[] = [];
  scopes.push(mine);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  if (result instanceof Promise) throw new Error("scope() takes a synchronous function");
  const keep = new Set<Tensor>();
  collect(result, keep);
  const parent = scopes[scopes.length - 1];
  for (const t of mine) {
    if (keep.has(t)) parent?.push(t);
    else t.dispose();
  }
  return result;
}

/** Takes `t` out of the current scope so that the scope's end does not free it. */
export function keep<T extends Tensor>(t: T): T {
  const top = scopes[scopes.length - 1];
  if (top) {
    const i = top.lastIndexOf(t);
    if (i >= 0) top.splice(i, 1);
  }
  return t;
}

/** Whether operations record a graph for autograd now. */
export function isGradEnabled(): boolean {
  return native().isGradEnabled();
}

/** Runs `fn` with gradient recording off (torch.no_grad()). */
export function noGrad<T>(fn: () => T): T {
  const prev = native().setGradEnabled(false);
  try {
    return fn();
  } finally {
    native().setGradEnabled(prev);
  }
}

// ---- process-wide settings ----

/** Seeds libtorch's process-wide generator (weights, dropout, randn). */
export function manualSeed(seed: number): void {
  native().manualSeed(seed);
}
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`threads must be a positive integer, got ${n}`);
  native().setNumThreads(n);
}
export function getNumThreads(): number {
  return native().getNumThreads();
}
export function memoryStats(): { liveTensors: number; liveBytes: number } {
  const s = native().stats();
  return { liveTensors: s.liveTensors, liveBytes: s.liveBytes };
}
export function torchVersion(): string {
  return native().version();
}
export function cudaIsAvailable(): boolean {
  return native().cudaIsAvailable();
}

/** One operator's line in a profile: calls, time including the operators it called, and its own. */
export interface OpProfile {
  name: string;
  calls: number;
  totalS: number;
  selfS: number;
}

/**
 * Runs `fn` with every ATen operator timed (torch.autograd.profiler's key_averages()): the ops are
 * returned by self time, highest first, so a slow step can be compared with PyTorch's op by op.
 */
export function profile<T>(fn: () => T): { result: T; ops: OpProfile[] } {
  native().profileStart();
  let result: T;
  try {
    result = fn();
  } catch (e) {
    native().profileStop();
    throw e;
  }
  return { result, ops: native().profileStop().sort((a, b) => b.selfS - a.selfS) };
}
