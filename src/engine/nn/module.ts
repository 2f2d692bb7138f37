/**
 * nn.Module: a tree of named parameters, buffers and submodules, named as PyTorch names them
 * (`encoder.layers.0.weight`), so that state dicts interoperate with PyTorch through safetensors.
 */
import { Tensor, noGrad } from "../tensor.js";

export type StateDict = Map<string, Tensor>;

export abstract class Module {
  training = true;
  readonly #params = new Map<string, Tensor>();
  readonly #buffers = new Map<string, Tensor>();
  readonly #modules = new Map<string, Module>();

  /** Registers a trainable tensor; it is marked as requiring gradients. */
  protected registerParameter(name: string, t: Tensor): Tensor {
    if (!t.requiresGrad) t.requiresGrad_(true);
    this.#params.set(name, t);
    return t;
  }
  protected registerBuffer(name: string, t: Tensor): Tensor {
    this.#buffers.set(name, t);
    return t;
  }
  protected registerModule<M extends Module>(name: string, m: M): M {
    this.#modules.set(name, m);
    return m;
  }

  *namedModules(prefix = ""): Generator<[string, Module]> {
    yield [prefix, this];
    for (const [n, m] of this.#modules) yield* m.namedModules(prefix ? `${prefix}.${n}` : n);
  }
  children(): Module[] {
    return [...this.#modules.values()];
  }
  namedParameters(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [p, m] of this.namedModules()) for (const [n, t] of m.#params) out.push([p ? `${p}.${n}` : n, t]);
    return out;
  }
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }
  namedBuffers(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [p, m] of this.namedModules()) for (const [n, t] of m.#buffers) out.push([p ? `${p}.${n}` : n, t]);
    return out;
  }
  numParameters(): number {
    return this.parameters().reduce((s, p) => s + p.numel, 0);
  }

  /** Parameters and buffers by name, in PyTorch's order (each module's own, then its children). */
  stateDict(): StateDict {
    const out: StateDict = new Map();
    const visit = (m: Module, prefix: string): void => {
      for (const [n, t] of m.#params) out.set(prefix + n, t);
      for (const [n, t] of m.#buffers) out.set(prefix + n, t);
      for (const [n, c] of m.#modules) visit(c, `${prefix}${n}.`);
    };
    visit(this, "");
    return out;
  }

  /** Copies values into this module's tensors; shapes must match; strict: the same key sets. */
  loadStateDict(sd: StateDict | Record<string, Tensor>, { strict = true } = {}): void {
    const src = sd instanceof Map ? sd : new Map(Object.entries(sd));
    const own = this.stateDict();
    if (strict) {
      const missing = [...own.keys()].filter((k) => !src.has(k));
      const unexpected = [...src.keys()].filter((k) => !own.has(k));
      if (missing.length || unexpected.length)
        throw new Error(`loadStateDict: missing keys [${missing.join(", ")}], unexpected keys [${unexpected.join(", ")}]`);
    }
    noGrad(() => {
      for (const [k, t] of own) {
        const s = src.get(k);
        if (!s) continue;
        if (s.shape.join() !== t.shape.join())
          throw new Error(`loadStateDict: ${k} has shape [${s.shape}] in the source, [${t.shape}] in the model`);
        t.copy_(s);
      }
    });
  }

  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }
  eval(): this {
    return this.train(false);
  }

  /** Drops accumulated gradients (set to None, as PyTorch 2 does by default). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Frees every parameter and buffer. */
  dispose(): void {
    for (const t of this.stateDict().values()) t.dispose();
  }
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** One line of settings for printing, like PyTorch's extra_repr. */
  protected extraRepr(): string {
    return "";
  }
  toString(): string {
    const lines = (m: Module, name: string, indent: string): string[] => {
      const head = `${indent}${name ? name + ": " : ""}${m.constructor.name}(${m.extraRepr()})`;
      return [head, ...[...m.#modules].flatMap(([n, c]) => lines(c, n, indent + "  "))];
    };
    return [...lines(this, "", ""), `parameters: ${this.numParameters().toLocaleString("en-US")}`].join("\n");
  }
}

/** A list of submodules named 0, 1, 2... */
export class ModuleList<M extends Module = Module> extends Module {
  readonly items: M[];
  constructor(items: M[]) {
    super();
    this.items = items;
    items.forEach((m, i) => this.registerModule(String(i), m));
  }
  get length(): number {
    return this.items.length;
  }
  at(i: number): M {
    return this.items[i];
  }
  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }
}
