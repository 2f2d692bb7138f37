/**
 * Rolling windows in separate processes. Windows are independent (each trains from the seed on
 * read-only data), so `jobs` worker processes each take (model, window, seed) tasks from one queue. Two
 * one-thread processes beat one two-thread process: small recurrent layers leave a second intra-op
 * thread idle much of the time. Processes, not worker threads, because libtorch's random generator
 * and thread pool are per process: threads sharing them would not replay a seed.
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { RollingWindow } from "../dataset/index.js";
import type { ModelSpec } from "../models/index.js";
import { type EpochLog, type FactorShape, type RollingResult, type WindowOutcome, assembleSeeds, seedCount } from "../train/index.js";
import type { Config } from "./config.js";
import { type Progress, epochLine } from "./progress.js";

/** What the run sends a worker. */
export type WorkerRequest =
  | { type: "init"; config: Config }
  | { type: "task"; name: string; spec: ModelSpec; window: number; seed: number };

/** What a worker sends back. */
export type WorkerReply =
  | { type: "ready" }
  | { type: "epoch"; name: string; window: number; seed: number; entry: EpochLog }
  | { type: "done"; name: string; window: number; seed: number; outcome: WindowOutcome }
  | { type: "error"; message: string };

/** A training worker failed or was killed: the run stops, and `--resume` continues from the checkpoints. */
export class WorkerError extends Error {
  constructor(message: string) {
    super(`${message}; the windows' checkpoints are kept: run again with --resume to continue`);
    this.name = "WorkerError";
  }
}

interface Task {
  name: string;
  spec: ModelSpec;
  window: number;
  /** The seed's index k (seed cfg.seed + k). */
  seed: number;
}

/**
 * Longest first (the classic schedule for a pool): later windows train on more data, and V4 and
 * its ablations cost about twenty times a baseline, so the short tasks fill in at the end.
 */
function taskOrder(specs: [string, ModelSpec][], windows: number, seeds: number): Task[] {
  const weight = (t: Task): number => (t.spec.kind === "v4" ? 20 : t.spec.kind === "v1" ? 1 : 2) * (t.window + 1);
  const tasks = specs.flatMap(([name, spec]) => Array.from({ length: seedCount(spec, { seeds }) }, (_, seed) =>
    Array.from({ length: windows }, (_, window) => ({ name, spec, window, seed }))).flat());
  return tasks.map((t, k) => ({ t, k })).sort((a, b) => weight(b.t) - weight(a.t) || a.k - b.k).map(({ t }) => t);
}

/** Trains every (model, window, seed) in `cfg.jobs` workers; `shape` is the factor's (stocks x dates). */
export async function trainInWorkers(cfg: Config, specs: [string, ModelSpec][], windows: RollingWindow[], shape: FactorShape,
  ui: { log: (s: string) => void; progress: Progress }): Promise<RollingResult[]> {
  const queue = taskOrder(specs, windows.length, cfg.seeds);
  const total = queue.length;
  const outcomes = new Map(specs.map(([name, spec]) => [name,
    Array.from({ length: seedCount(spec, cfg) }, () => new Array<WindowOutcome>(windows.length))]));
  const seedTag = (k: number): string => (k > 0 ? ` seed ${cfg.seed + k}` : "");
  const workerPath = fileURLToPath(new URL("./window-worker.js", import.meta.url));
  const workers: ChildProcess[] = [];
  const dismissed = new Set<ChildProcess>();
  let done = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      let failed = false;
      const fail = (e: Error): void => {
        if (!failed) (failed = true, reject(e));
      };
      const next = (w: ChildProcess): void => {
        const t = queue.shift();
        if (!t) return void (dismissed.add(w), w.disconnect());
        ui.log(`${t.name}: window ${t.window + 1}/${windows.length} (${windows[t.window].name})${seedTag(t.seed)} in worker ${w.pid}`);
        w.send({ type: "task", name: t.name, spec: t.spec, window: t.window, seed: t.seed } satisfies WorkerRequest);
      };
      const n = Math.min(cfg.jobs, total);
      for (let j = 0; j < n; j++) {
        const w = fork(workerPath, [], { serialization: "advanced", stdio: ["ignore", "inherit", "inherit", "ipc"] });
        workers.push(w);
        w.on("message", (m: WorkerReply) => {
          switch (m.type) {
            case "ready":
              return next(w);
            case "epoch":
              ui.progress.done();
              ui.log(`${m.name} [${windows[m.window].name}${seedTag(m.seed)}]: ${epochLine(m.entry)}`);
              return ui.progress.update(done, total);
            case "done":
              outcomes.get(m.name)![m.seed][m.window] = m.outcome;
              ui.progress.update(++done, total);
              if (done === total) resolve();
              return next(w);
            case "error":
              return fail(new WorkerError(`training worker ${w.pid}: ${m.message}`));
          }
        });
        w.on("exit", (code, signal) => {
          if (!dismissed.has(w)) fail(new WorkerError(`training worker ${w.pid} stopped (${signal ?? `exit code ${code}`}) with ${total - done} of ${total} ${cfg.seeds > 1 ? "(window, seed) tasks" : "windows"} to train`));
        });
        w.on("error", fail);
        w.send({ type: "init", config: cfg } satisfies WorkerRequest);
      }
    });
  } finally {
    ui.progress.done();
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill();
  }
  return specs.map(([name, spec]) => assembleSeeds(name, spec, shape, outcomes.get(name)!, cfg.seed));
}
