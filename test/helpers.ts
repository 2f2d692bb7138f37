/** Shared test helpers: tolerances, fixtures, and a finite-difference gradient check. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Tensor, noGrad } from "../src/engine/index.js";
import type { Panel, Rng } from "../src/data/index.js";

/** The repository root, from dist/test/ or test/. */
export const ROOT = (() => {
  const here = dirname(fileURLToPath(import.meta.url));
  return here.includes("/dist/") ? resolve(here, "../..") : resolve(here, "..");
})();
export const FIXTURES = resolve(ROOT, "test/fixtures");
export const SHARED = resolve(ROOT, "../shared");

/**
 * Elementwise |a - e| <= rtol * max(|e|, scale / 10) + atol, where scale is max |e|: entries near
 * zero in a tensor of large values are judged against the tensor's scale, as float32 rounding is.
 */
export function assertClose(actual: Tensor | ArrayLike<number>, expected: Tensor | ArrayLike<number>,
  { rtol = 1e-5, atol = 1e-7, what = "" } = {}): void {
  const a = actual instanceof Tensor ? actual.toList() : Array.from(actual);
  const e = expected instanceof Tensor ? expected.toList() : Array.from(expected);
  assert.equal(a.length, e.length, `${what}: ${a.length} elements, expected ${e.length}`);
  const scale = e.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < a.length; i++) {
    const err = Math.abs(a[i] - e[i]) / (rtol * Math.max(Math.abs(e[i]), scale / 10) + atol);
    if (!(err <= worst)) {
      worst = err;
      at = i;
    }
  }
  assert.ok(worst <= 1, `${what}: element ${at} is ${a[at]}, expected ${e[at]} (error ${worst.toFixed(2)} x tolerance)`);
}

/**
 * Central finite differences of a scalar function against autograd, in float64, on up to
 * `samples` elements of each tensor in `wrt`.
 */
export function gradcheck(f: () => Tensor, wrt: Tensor[], { eps = 1e-6, tol = 1e-6, samples = 12 } = {}): void {
  for (const t of wrt) t.grad = null;
  const loss = f();
  loss.backward();
  loss.dispose();
  wrt.forEach((t, k) => {
    const g = t.grad;
    assert.ok(g, `tensor ${k} received no gradient`);
    const analytic = g.toList();
    g.dispose();
    const flat = t.view() as Float64Array; // shares memory with t
    const n = flat.length;
    const idx = Array.from({ length: Math.min(samples, n) }, (_, i) => Math.floor((i * n) / Math.min(samples, n)));
    for (const i of idx) {
      const orig = flat[i];
      const at = (v: number): number => noGrad(() => {
        flat[i] = v;
        const l = f();
        const x = l.item();
        l.dispose();
        return x;
      });
      const num = (at(orig + eps) - at(orig - eps)) / (2 * eps);
      flat[i] = orig;
      const err = Math.abs(num - analytic[i]) / Math.max(1, Math.abs(num));
      assert.ok(err < tol, `tensor ${k} element ${i}: autograd ${analytic[i]}, finite difference ${num}`);
    }
  });
}

/** The elements of a tensor as numbers, or bigints for int64. */
export function vals(t: Tensor): Array<number | bigint> {
  return Array.from(t.toArray() as ArrayLike<number | bigint>);
}

/**
 * The `alphanet` command as a user runs it (dist/src/cli/main.js): exit code, stdout, stderr. `env`
 * is added to this process's environment.
 */
export function alphanet(args: string[], timeout = 600_000, env?: NodeJS.ProcessEnv): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [join(ROOT, "dist/src/cli/main.js"), ...args], { encoding: "utf8", timeout, cwd: ROOT,
    env: env && { ...process.env, ...env } });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** A panel's bars as a CSV file (date,code,open,high,low,close,volume,amount; listed cells only); returns its path. */
export function writeBars(p: Panel, path: string): string {
  const S = p.stocks.length, D = p.calendar.length;
  const f = p.fields, rows = ["date,code,open,high,low,close,volume,amount"];
  for (let s = 0; s < S; s++) for (let d = 0; d < D; d++) {
    const k = s * D + d;
    if (Number.isFinite(f.close![k])) rows.push([p.calendar[d], p.stocks[s], f.open![k], f.high![k], f.low![k], f.close![k], f.volume![k], f.amount![k]].join(","));
  }
  writeFileSync(path, rows.join("\n") + "\n");
  return path;
}

/**
 * A configuration file for a small run on the synthetic market (2018-2019, one test window from
 * 2019-07-01, windows 5/10/20, samples every 10 days), written to DIR/config.yaml; returns its path.
 */
export function smallRunConfig(dir: string, o: { stocks: number; indexSize: number; seed: number; models: string[]; maxEpochs: number }): string {
  const path = join(dir, "config.yaml");
  writeFileSync(path, `data:
  synthetic: { stocks: ${o.stocks}, start: "2018-01-01", end: "2019-12-31", indexSize: ${o.indexSize}, seed: ${o.seed} }
schedule: { trainStart: "2018-01-01", testStart: "2019-07-01", testEnd: "2019-12-31", retrainMonths: 6 }
models: [${o.models.join(", ")}]
sampleStep: 10
features: { windows: [5, 10, 20] }
train: { maxEpochs: ${o.maxEpochs}, patience: ${o.maxEpochs} }
`);
  return path;
}

/** H y for an n x n row-major H, by a plain loop (the reference). */
export function applyMatrix(H: Float64Array, y: number[]): number[] {
  const n = y.length;
  return y.map((_, i) => y.reduce((s, yj, j) => s + H[i * n + j] * yj, 0));
}

/** A random cross-section for the risk regression: n stocks in I industries (each present), K styles, caps and returns. */
export function randomProblem(rng: Rng, n: number, I: number, K: number) {
  const industry = Array.from({ length: n }, (_, i) => (i < I ? i : rng.int(I)));
  const styles = Array.from({ length: K }, () => Array.from({ length: n }, () => rng.normal()));
  const cap = Array.from({ length: n }, () => Math.exp(20 + rng.normal()));
  const y = Array.from({ length: n }, () => 0.02 * rng.normal());
  return { y, industry, industries: I, styles, cap };
}
