/**
 * A training worker (see jobs.ts): prepares the run's data as the run did (the feature store is
 * read from its cache), then trains the (model, window, seed) tasks it is sent, one at a time.
 */
import { setNumThreads } from "../engine/index.js";
import { PanelCache, trainWindow } from "../train/index.js";
import type { WorkerReply, WorkerRequest } from "./jobs.js";
import { type PreparedRun, prepareRun } from "./prepare.js";
import { type Config, rollingOptions } from "./config.js";

let cfg: Config | undefined;
let prepared: PreparedRun | undefined;
let cache: PanelCache | undefined;
const reply = (m: WorkerReply): void => void process.send!(m);

async function handle(m: WorkerRequest): Promise<void> {
  if (m.type === "init") {
    cfg = m.config;
    setNumThreads(cfg.threads);
    prepared = await prepareRun(cfg, () => {});
    cache = new PanelCache(prepared.store);
    return reply({ type: "ready" });
  }
  const { name, spec, window, seed } = m;
  const outcome = trainWindow({ name, spec, data: prepared!, cache: cache!, window: prepared!.windows[window], index: window, seed,
    options: rollingOptions(cfg!, { onEpoch: (entry) => reply({ type: "epoch", name, window, seed, entry }), onProgress: stopIfOrphaned }) });
  reply({ type: "done", name, window, seed, outcome });
}

// A worker whose run has gone stops: between tasks when the channel closes, and during one at its
// next batch (training is synchronous, so only the parent's pid, read live, can tell).
const parent = process.ppid;
const stopIfOrphaned = (): void => {
  if (process.ppid !== parent) process.exit(1);
};
process.on("disconnect", () => process.exit(0));

// Requests arrive one at a time (the run sends the next task after "done"), so they never overlap.
process.on("message", (m: WorkerRequest) => {
  handle(m).catch((e: Error) => {
    process.stderr.write(`${e.stack ?? e.message}\n`);
    process.send!({ type: "error", message: e.message } satisfies WorkerReply, () => process.exit(1));
  });
});
