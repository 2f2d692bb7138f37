/**
 * The workflow stage: one run, driven by one configuration, through every stage of the data flow
 * (DESIGN.md section 2), each called through its folder's public surface: data, features, risk
 * model and labels (prepare.ts), rolling training (train.ts), evaluation (evaluation.ts), the
 * outputs (outputs.ts). The command line only parses flags into a Config and prints.
 */
import { mkdirSync } from "node:fs";
import { setNumThreads } from "../engine/index.js";
import type { IcTable } from "../evaluate/index.js";
import type { Config } from "./config.js";
import { type ModelEvaluation, evaluateRun } from "./evaluation.js";
import { clearResults, runMetrics, writeOutputs } from "./outputs.js";
import { prepareRun } from "./prepare.js";
import { progressBar } from "./progress.js";
import { checkResumes, trainModels } from "./train.js";

export interface RunResult {
  metrics: Record<string, unknown>;
  evaluations: ModelEvaluation[];
  /** Table 1-1 of every evaluation (models, reference factors, oracle): printed, written as table_1_1_ic.csv, drawn in the report. */
  icTable: IcTable;
  outDir: string;
}

/** A whole run: data to features, risk model and labels; models trained per window; evaluation; metrics.json, CSVs and the report. */
export async function run(cfg: Config, opts: { log?: (s: string) => void; progress?: boolean } = {}): Promise<RunResult> {
  const log = opts.log ?? ((s: string) => process.stderr.write(s + "\n"));
  const bar = (label: string) => progressBar(label, opts.progress ?? process.stderr.isTTY === true);
  setNumThreads(cfg.threads);
  const t0 = Date.now();
  mkdirSync(cfg.out, { recursive: true });

  // bars -> Panel -> feature store -> styles, industries, labels, schedule (data/, features/, risk/, dataset/)
  const prepared = await prepareRun(cfg, log, bar("features"));
  // the models, each trained per rolling window into a factor (models/, train/)
  const { specs } = prepared;
  checkResumes(cfg, prepared, specs);
  clearResults(cfg.out);
  const trained = await trainModels(cfg, prepared, specs, { log, bar });
  // IC, quintiles, index enhancement (evaluate/)
  const evaluations = await evaluateRun(cfg, prepared, trained, log);
  // metrics.json, CSVs, the report (report/)
  const metrics = runMetrics(cfg, prepared, evaluations, (Date.now() - t0) / 1000);
  const table = await writeOutputs(cfg.out, prepared, evaluations, metrics, log);
  return { metrics, evaluations: evaluations.models, icTable: table, outDir: cfg.out };
}

export {
  type Config, ConfigSchema, DEMO_PRESETS, UsageError, checkOutFolder, costsOf, featureSettingsOf, merge, readConfigFile, rollingOptions,
  validateConfig,
} from "./config.js";
export { ingest, loadData } from "./data.js";
export { ABLATIONS, type PreparedRun, featureStoreOf, modelSpecs, prepareRun } from "./prepare.js";
export { type ModelEvaluation, type RunEvaluations, type SeedSummary, type Spread, evaluateFactorFile, spread } from "./evaluation.js";
export { WorkerError } from "./jobs.js";
export { openSavedModel, scoreLatest, specOfManifest, writeLatestScores } from "./predict.js";
