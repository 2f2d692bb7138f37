/**
 * The run's training: every model's rolling windows, in this process or in `jobs` worker
 * processes (jobs.ts), with their logs and progress.
 */
import type { ModelSpec } from "../models/index.js";
import { PanelCache, type RollingResult, checkResume, runRolling } from "../train/index.js";
import { type Config, rollingOptions } from "./config.js";
import { trainInWorkers } from "./jobs.js";
import type { PreparedRun } from "./prepare.js";
import { type Progress, epochLine } from "./progress.js";

/** Where training reports: log lines, and a progress bar by label. */
export interface TrainUi {
  log: (s: string) => void;
  bar: (label: string) => Progress;
}

/**
 * Resume continues only this run's checkpoints: any made from other data or settings stops the run
 * here, before training (and before the finished results of the run that made them are removed).
 */
export function checkResumes(cfg: Config, prepared: PreparedRun, specs: [string, ModelSpec][]): void {
  for (const [name, spec] of specs) checkResume(name, spec, prepared, prepared.windows, rollingOptions(cfg));
}

/** Every model's rolling training, in the order of `specs`. */
export async function trainModels(cfg: Config, prepared: PreparedRun, specs: [string, ModelSpec][], ui: TrainUi): Promise<RollingResult[]> {
  const { panel, windows, store } = prepared;
  if (cfg.jobs > 1) {
    return trainInWorkers(cfg, specs, windows, { stocks: panel.stocks.length, dates: panel.calendar.length }, { log: ui.log, progress: ui.bar(`train (${cfg.jobs} jobs)`) });
  }
  const cache = new PanelCache(store);
  return specs.map(([name, spec]) => {
    const tb = ui.bar(`train ${name}`);
    const r = runRolling(name, spec, prepared, windows, cache, {
      ...rollingOptions(cfg, {
        onProgress: (d, t) => tb.update(d, t),
        onEpoch: (e) => { tb.done(); ui.log(`${name}: ${epochLine(e)}`); },
      }),
      onWindow: (w, i, n, k) => ui.log(`${name}: window ${i + 1}/${n} (${w.name})${k > 0 ? ` seed ${cfg.seed + k}` : ""}`),
    });
    tb.done();
    return r;
  });
}
