/**
 * Benchmarks that report one JSON line each (the command line, cli/bench.ts, prints them). Speed
 * is measured here, never asserted in tests.
 *
 *   npm run bench -- train [--threads N] [--batch 512] [--steps 5] [--peer [--rounds R]]
 *                          [--attention paper|self] [--positional none|sinusoidal|learned]
 *   npm run bench -- features [--stocks 500] [--days 250] [--threads N] [--peer]
 *   npm run bench -- store --stocks 5000     (the full-scale feature store: 25 GB of disk)
 *   npm run bench -- load [FILE] [--peer]
 *   alphanet bench train ...
 *
 * --peer also runs ../shared/bench/torch_reference.py with the same settings, once with PyTorch's
 * default environment and once with the tuned one (ENGINE-NOTES.md), and prints the ratios; for
 * train, R rounds of (default peer, ours, tuned peer) and the median and range of each ratio. The
 * network is V4's default one (its attention and positional settings unless given), and the peer
 * is told to build the same: --paper-attention, --positional (the peer's table is learned; a
 * sinusoidal one costs the same add).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadBars } from "../data/index.js";
import type { AlphaNetV4Config } from "../models/index.js";

// dist/src/run -> the package root; the peers sit in ../shared beside the checkout.
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const REFERENCE = process.env.ALPHANET_TORCH_REFERENCE ?? resolve(ROOT, "../shared/bench/torch_reference.py");
const TUNED_ENV = {
  OMP_WAIT_POLICY: "PASSIVE",
  MALLOC_MMAP_THRESHOLD_: "33554432",
  MALLOC_TRIM_THRESHOLD_: "1073741824",
};

type Json = Record<string, unknown>;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** The bar file the load benchmark reads unless given one. */
export const DEFAULT_LOAD_FILE = resolve(ROOT, "../shared/data/ashare-2017-2019.csv.gz");

/** Runs a Python peer of ../shared/bench with Debian's python3; returns the JSON of its last line. */
function runPython(script: string, args: string[], env: NodeJS.ProcessEnv = process.env): Json {
  if (!existsSync(script)) throw new Error(`no peer at ${script}`);
  const r = spawnSync("/usr/bin/python3", [script, ...args], { env, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${script} failed: ${r.stderr || r.error}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as Json;
}

/** Runs the PyTorch peer; `tuned` adds the environment of ENGINE-NOTES.md, else strips it. */
function runPeer(args: string[], tuned: boolean): Json {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(TUNED_ENV)) delete env[k];
  if (tuned) Object.assign(env, TUNED_ENV);
  return { ...runPython(REFERENCE, ["--json", ...args], env), env: tuned ? "tuned" : "default" };
}

type V4Forms = Pick<AlphaNetV4Config, "attention" | "positional">;

/** The peer's flags for V4's attention and positional forms. */
export function peerNetworkArgs(f: V4Forms): string[] {
  if (f.attention === "mean") throw new Error("the PyTorch peer has no network without attention");
  return [...(f.attention === "paper" ? ["--paper-attention"] : []), ...(f.positional !== "none" ? ["--positional"] : [])];
}

async function benchTrainOnce(o: { threads: number; batch: number; steps: number; features: number; seq: number; aux: number } & V4Forms): Promise<Json> {
  // Loaded here, not at the top: the load benchmark must not carry libtorch in its memory.
  const { getNumThreads, manualSeed, noGrad, optim, randn, scope, setNumThreads, torchVersion } = await import("../engine/index.js");
  const { AlphaNetV4 } = await import("../models/index.js");
  setNumThreads(o.threads);
  manualSeed(0);
  // The reference network exactly: no dropout in the Transformers; with attention "self", scores
  // v . tanh(h) + b.
  const net = new AlphaNetV4({ features: o.features, seqLen: o.seq, auxImages: o.aux, transformerDropout: 0, attentionProjection: false,
    attention: o.attention, positional: o.positional });
  const opt = new optim.Adam(net.parameters(), { lr: 1e-3 });
  const xs = Array.from({ length: o.aux + 1 }, () => randn([o.batch, o.seq, o.features]));
  const y = randn([o.batch]);
  const step = (): void => scope(() => {
    opt.zeroGrad();
    net.forward(xs).sub(y).square().mean().backward();
    opt.step();
  });
  const timeIt = (f: () => void): number => {
    const t = process.hrtime.bigint();
    f();
    return Number(process.hrtime.bigint() - t) / 1e9;
  };
  // The same steps with batches assembled from a feature store: images gathered from the panels of
  // a synthetic market for random valid samples, then made into tensors, every step.
  const pstep = await (async (): Promise<(() => void) | null> => {
    if (o.aux !== 2 || o.seq !== 20) return null;
    const { syntheticMarket } = await import("../data/index.js");
    const { buildFeatureStore, readFeaturePanel, imageValid } = await import("../features/index.js");
    const { imagesFor } = await import("../train/index.js");
    const { mkdtempSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const m = syntheticMarket({ stocks: 200, start: "2019-01-01", end: "2020-06-30", seed: 1 });
    const dir = mkdtempSync(resolve(tmpdir(), "alphanet-bench-"));
    const store = buildFeatureStore(m.panel, dir, { windows: [5, 10, 20], standardize: true });
    const cols = Array.from({ length: o.features }, (_, i) => i);
    const panels = new Map([10, 5, 20].map((d) => [d, readFeaturePanel(store, d, cols)]));
    rmSync(dir, { recursive: true, force: true });
    const specs = [10, 5, 20].map((d) => ({ d, T: o.seq, step: 1 }));
    const D = m.panel.calendar.length;
    const pool: { stock: number; date: number }[] = [];
    for (let s = 0; s < 200; s++) for (let t = 0; t < D; t++)
      if (specs.every((sp) => imageValid(panels.get(sp.d)!, s, t, sp.T))) pool.push({ stock: s, date: t });
    let at = 0;
    return () => scope(() => {
      const batch = Array.from({ length: o.batch }, () => pool[(at = (at * 1103515245 + 12345) % pool.length)]);
      opt.zeroGrad();
      net.forward(imagesFor({ specs, panels }, batch)).sub(y).square().mean().backward();
      opt.step();
    });
  })();
  for (let i = 0; i < 2; i++) (step(), pstep?.());
  // Network and pipeline steps alternate, so that the machine's drift falls on both alike.
  const train: number[] = [];
  const piped: number[] = [];
  for (let i = 0; i < o.steps; i++) {
    train.push(timeIt(step));
    if (pstep) piped.push(timeIt(pstep));
  }
  net.eval();
  const infer = (): void => noGrad(() => scope(() => void net.forward(xs)));
  infer();
  const inf = Array.from({ length: o.steps }, () => timeIt(infer));
  // The peer reports the mean over its steps; report the mean too, and the median beside it.
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    engine: "alphanet",
    what: "train",
    torch: torchVersion(),
    threads: getNumThreads(),
    train_samples_per_s: o.batch / mean(train),
    pipeline_samples_per_s: piped.length ? o.batch / mean(piped) : NaN,
    infer_samples_per_s: o.batch / mean(inf),
    train_step_median_s: median(train),
    params: net.numParameters(),
    shape: { K: o.features, T: o.seq, H: o.features, aux: o.aux, batch: o.batch, attention: o.attention, positional: o.positional },
  };
}

/** Loads a bar file into validated Panels (the A-share file of ../shared/data by default). */
async function benchLoadOnce(file: string): Promise<Json> {
  const isAshare = file.includes("ashare-2017-2019");
  const t = process.hrtime.bigint();
  const { panel, quality } = await loadBars(file, isAshare ? {
    instruments: { path: file.replace(".csv.gz", "-stocks.csv"), map: { total_shares_10k: "total_shares" }, scale: { total_shares: 1e4 } },
  } : {});
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  return {
    engine: "alphanet", what: "load", file, rows: quality.rowsIn, rows_per_s: quality.rowsIn / seconds, seconds,
    stocks: panel.stocks.length, dates: panel.calendar.length, validated: true,
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
  };
}

/**
 * The operator panels of all four windows for random inputs of `stocks` x `days`, the shape of
 * torch_reference.py --features: inputs uniform on [0.5, 1.5), every window, every date.
 */
async function benchFeaturesOnce(o: { stocks: number; days: number; windows: number[] }): Promise<Json> {
  const { extractStock, N_FEATURES, N_INPUTS } = await import("../features/index.js");
  const { Rng } = await import("../data/index.js");
  const rng = new Rng(0);
  const x = Array.from({ length: o.stocks }, () => Array.from({ length: N_INPUTS }, () =>
    Float64Array.from({ length: o.days }, () => 0.5 + rng.uniform())));
  const out = new Float32Array(o.days * N_FEATURES);
  const valid = new Uint8Array(o.days);
  const run = (): void => {
    for (const d of o.windows) for (const xs of x) extractStock(xs, o.days, d, out, valid);
  };
  run();
  const reps = 3;
  const t = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) run();
  const seconds = Number(process.hrtime.bigint() - t) / 1e9 / reps;
  return {
    engine: "alphanet", what: "features", stock_days_per_s: (o.stocks * o.days) / seconds, seconds, stocks: o.stocks,
    days: o.days, windows: o.windows, threads: 1, peak_rss_mb: process.resourceUsage().maxRSS / 1024,
  };
}

/**
 * The feature store of a synthetic market of `stocks` from 2015-06-01 to 2021-06-01 (1,504
 * dates), all four windows, built in a temporary folder and removed: build time, size, peak memory.
 * `--stocks 5000` is the full A-share scale of issue 4 (25 GB of disk).
 */
export async function benchStore(stocks: number): Promise<Json> {
  const { syntheticMarket } = await import("../data/index.js");
  const { buildFeatureStore } = await import("../features/index.js");
  const { mkdtempSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const m = syntheticMarket({ stocks, start: "2015-06-01", end: "2021-06-01", indexSize: Math.min(500, Math.floor(stocks / 5)) });
  const rssBefore = process.memoryUsage().rss;
  const dir = mkdtempSync(resolve(tmpdir(), "alphanet-store-"));
  const t = process.hrtime.bigint();
  buildFeatureStore(m.panel, dir, { windows: [2, 5, 10, 20], standardize: true });
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  rmSync(dir, { recursive: true, force: true });
  const S = m.panel.stocks.length, D = m.panel.calendar.length;
  return {
    engine: "alphanet", what: "store", stocks: S, dates: D, windows: [2, 5, 10, 20], build_seconds: seconds,
    stock_days_per_s: (S * D) / seconds, bytes_on_disk: S * D * 208 * 4 * 4, rss_before_build_mb: rssBefore / 1e6,
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
  };
}

type Emit = (line: Json) => void;
export type TrainBench = Parameters<typeof benchTrainOnce>[0];

/**
 * The training step; with `peer`, R rounds of (default peer, ours, tuned peer): each ratio compares
 * runs minutes apart at most, and the rounds show how far the machine's drift moves it.
 */
export async function benchTrain(o: TrainBench, peer: { rounds: number } | null, emit: Emit): Promise<void> {
  if (!peer) return emit(await benchTrainOnce(o));
  const args = ["--threads", String(o.threads), "--batch", String(o.batch), "--steps", String(o.steps),
    "--features-in", String(o.features), "--seq", String(o.seq), "--aux", String(o.aux), ...peerNetworkArgs(o)];
  const ratios: Record<string, { train: number[]; infer: number[] }> = { default: { train: [], infer: [] }, tuned: { train: [], infer: [] } };
  for (let r = 0; r < peer.rounds; r++) {
    const before = runPeer(args, false);
    const ours = await benchTrainOnce(o);
    const after = runPeer(args, true);
    for (const line of [before, ours, after]) emit(line);
    for (const p of [before, after]) {
      const ratio = {
        train: (ours.train_samples_per_s as number) / (p.train_samples_per_s as number),
        infer: (ours.infer_samples_per_s as number) / (p.infer_samples_per_s as number),
      };
      ratios[p.env as string].train.push(ratio.train);
      ratios[p.env as string].infer.push(ratio.infer);
      emit({ ratio_vs: `pytorch-${p.env}`, round: r, ...ratio });
    }
  }
  for (const [env, x] of Object.entries(ratios)) {
    emit({ ratio_vs: `pytorch-${env}`, rounds: x.train.length, train_median: median(x.train),
      train_range: [Math.min(...x.train), Math.max(...x.train)], infer_median: median(x.infer), infer_range: [Math.min(...x.infer), Math.max(...x.infer)] });
  }
}

/** The operator panels; with `peer`, PyTorch's (default and tuned environment) and the ratios. */
export async function benchFeatures(o: { stocks: number; days: number; threads: number }, peer: boolean, emit: Emit): Promise<void> {
  const ours = await benchFeaturesOnce({ stocks: o.stocks, days: o.days, windows: [2, 5, 10, 20] });
  emit(ours);
  if (!peer) return;
  for (const tuned of [false, true]) {
    const p = runPeer(["--features", "--stocks", String(o.stocks), "--days", String(o.days), "--threads", String(o.threads)], tuned);
    emit(p);
    emit({ ratio_vs: `pytorch-${p.env}`, stock_days_per_s: (ours.stock_days_per_s as number) / (p.stock_days_per_s as number) });
  }
}

/** The load of a bar file; with `peer`, pandas' and the ratios. */
export async function benchLoad(file: string, peer: boolean, emit: Emit): Promise<void> {
  const ours = await benchLoadOnce(file);
  emit(ours);
  if (!peer) return;
  const p = runPython(resolve(ROOT, "../shared/bench/pandas_load_reference.py"), [file, "--json"]);
  emit(p);
  emit({
    ratio_vs: "pandas",
    rows_per_s: (ours.rows_per_s as number) / (p.rows_per_s as number),
    peak_rss: (ours.peak_rss_mb as number) / (p.peak_rss_mb as number),
  });
}
