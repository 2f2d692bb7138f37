#!/usr/bin/env node
/**
 * The `alphanet` command line. Bad arguments or configuration end with exit code 2 and one line
 * that says what to fix.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  type Config, DEMO_PRESETS, UsageError, checkOutFolder, featureSettingsOf, merge, readConfigFile, validateConfig,
} from "./config.js";
import { PAPER_SCHEDULE } from "../dataset/splits.js";

const HELP = `alphanet: mine stock-selection alphas with AlphaNetV4

usage: alphanet <command> [options]

commands:
  demo       the whole pipeline on the embedded synthetic market, with the report
  run        the whole pipeline on your data: ingest, features, rolling training, evaluation, report
  ingest     load and validate a bar file or Qlib directory; write the quality report (and a Qlib copy)
  features   build the feature store of a dataset
  train      rolling training of the chosen models (as run: factors, saved models, evaluation)
  predict    score the stocks on the latest dates with a saved model
  evaluate   evaluate a factor CSV (date,code,factor) against a dataset
  bench      benchmarks that print JSON: train, features, load

Run 'alphanet <command> --help' for a command's options.`;

const RUN_OPTIONS = {
  config: { type: "string" },
  data: { type: "string" },
  preset: { type: "string" },
  map: { type: "string" },
  "universe-column": { type: "string" },
  instruments: { type: "string" },
  "price-basis": { type: "string" },
  market: { type: "string" },
  encoding: { type: "string" },
  "pad-codes": { type: "boolean" },
  models: { type: "string" },
  ablations: { type: "boolean" },
  "baseline-inputs": { type: "string" },
  "train-start": { type: "string" },
  "test-start": { type: "string" },
  "test-end": { type: "string" },
  "retrain-months": { type: "string" },
  "valid-days": { type: "string" },
  refit: { type: "boolean" },
  "sample-step": { type: "string" },
  "max-epochs": { type: "string" },
  horizon: { type: "string" },
  costs: { type: "string" },
  seed: { type: "string" },
  seeds: { type: "string" },
  threads: { type: "string" },
  jobs: { type: "string" },
  out: { type: "string" },
  resume: { type: "boolean" },
  quick: { type: "boolean" },
  "paper-scale": { type: "boolean" },
  help: { type: "boolean" },
} as const;

const RUN_HELP = `options (flags override the configuration file):
  --config FILE            a YAML or JSON configuration (keys as in README's configuration reference)
  --data FILE|DIR          a long CSV/Parquet bar file or a Qlib directory (default: the synthetic market)
  --preset NAME            tushare, akshare, baostock or canonical column names and units
  --map col=field,...      source column -> canonical field (e.g. trade_date=date,vol=volume)
  --universe-column COL    a 0/1 point-in-time membership column
  --instruments FILE       static stock attributes: code, industry, list_date, total_shares
  --price-basis TEXT       what the prices are (e.g. "split-adjusted"), when the data has no adj_factor
  --market auto|cn|us|other  the market's rules (default: from the codes)   --encoding utf8|gbk   a CSV's text encoding
  --pad-codes              pad A-share codes that lost their leading zeros in a spreadsheet (1 -> 000001)
  --models v1,v3,v4        models to train (v1, v2, v3, v4)       --ablations   also V4's chapter-4 ablations
  --baseline-inputs own|v4 V1-V3 on their own inputs (V1's 9, V2/V3's 15, no Spearman dropout) or V4's (default)
  --train-start DATE --test-start DATE --test-end DATE --retrain-months N
  --valid-days N           the validation tail in trading days (default: 20% of the training span, at least 40)
  --refit                  after early stopping, retrain on train + validation for the chosen epochs, then predict
  --sample-step K          training samples every K days        --max-epochs N   --horizon H
  --costs paper|realistic  --seed N   --threads N   --jobs N   --out DIR   --resume
  --seeds N                train N seeds per model and window (seed .. seed+N-1); the factor is their mean`;

function num(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isFinite(x)) throw new UsageError(`--${flag} ${v}: expected a number`);
  return x;
}

function parseMap(v: string | undefined): Record<string, string> | undefined {
  if (!v) return undefined;
  const out: Record<string, string> = {};
  for (const part of v.split(",")) {
    const [a, b] = part.split("=");
    if (!a || !b) throw new UsageError(`--map ${v}: expected col=field pairs separated by commas`);
    out[a.trim()] = b.trim();
  }
  return out;
}

/** Takes `flag VALUE` out of argv: the value and the remaining arguments, or a UsageError saying what is needed. */
function takeOption(argv: string[], flag: string, need: string): [string, string[]] {
  const i = argv.indexOf(flag);
  if (i < 0 || !argv[i + 1]) throw new UsageError(need);
  return [argv[i + 1], [...argv.slice(0, i), ...argv.slice(i + 2)]];
}

/** Configuration from the file (if any), the demo preset (if any) and the flags, validated. */
function configFrom(argv: string[], base: Record<string, unknown> = {}): Config {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: argv, options: RUN_OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new UsageError((e as Error).message.split("\n")[0]);
  }
  let cfg: Record<string, unknown> = { ...base };
  if (values.config) cfg = merge(cfg, readConfigFile(values.config as string) as Record<string, unknown>);
  const s = (k: string): string | undefined => values[k] as string | undefined;
  const flags: Record<string, unknown> = {
    data: {
      path: s("data"), preset: s("preset"), map: parseMap(s("map")), universeColumn: s("universe-column"),
      priceBasis: s("price-basis"), market: s("market"), encoding: s("encoding"), padCodes: values["pad-codes"],
      instruments: s("instruments") ? { path: s("instruments") } : undefined,
    },
    models: s("models")?.split(",").map((m) => m.trim()),
    ablations: values.ablations,
    baselineInputs: s("baseline-inputs"),
    schedule: {
      trainStart: s("train-start"), testStart: s("test-start"), testEnd: s("test-end"),
      retrainMonths: num("retrain-months", s("retrain-months")), validDays: num("valid-days", s("valid-days")),
    },
    sampleStep: num("sample-step", s("sample-step")),
    horizon: num("horizon", s("horizon")),
    train: { maxEpochs: num("max-epochs", s("max-epochs")), refit: values.refit },
    evaluate: { costs: s("costs") },
    seed: num("seed", s("seed")),
    seeds: num("seeds", s("seeds")),
    threads: num("threads", s("threads")),
    jobs: num("jobs", s("jobs")),
    out: s("out"),
    resume: values.resume,
  };
  const clean = (o: unknown): unknown => {
    if (!o || typeof o !== "object" || Array.isArray(o)) return o;
    const e = Object.entries(o as Record<string, unknown>).map(([k, v]) => [k, clean(v)] as const)
      .filter(([, v]) => v !== undefined && !(v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0));
    return Object.fromEntries(e);
  };
  // A schedule given in part on the command line completes the default one.
  const merged = merge(cfg, clean(flags) as Record<string, unknown>);
  if (merged.schedule && typeof merged.schedule === "object")
    merged.schedule = { ...PAPER_SCHEDULE, ...(merged.schedule as object) };
  const config = validateConfig(merged, values.config ? String(values.config) : "configuration");
  checkOutFolder(config.out);
  return config;
}

type IcRow = { ic_mean: number; ic_std: number; ir: number; rank_ic_mean: number };

async function run(argv: string[], base: Record<string, unknown> = {}): Promise<number> {
  const cfg = configFrom(argv, base);
  const { runPipeline } = await import("./pipeline.js");
  const r = await runPipeline(cfg);
  const rows = Object.entries(r.metrics.models as Record<string, IcRow>);
  rows.push(...Object.entries((r.metrics.references ?? {}) as Record<string, IcRow>));
  const oracle = r.metrics.oracle as IcRow | null;
  if (oracle) rows.push(["oracle", oracle]);
  console.log("table 1-1 (IC test):");
  console.log("model          IC mean   IC std     IR   rank IC");
  for (const [name, m] of rows)
    console.log(`${name.padEnd(14)} ${m.ic_mean.toFixed(4).padStart(7)} ${m.ic_std.toFixed(4).padStart(8)} ${m.ir.toFixed(3).padStart(6)} ${m.rank_ic_mean.toFixed(4).padStart(9)}`);
  console.log(`report: ${join(r.outDir, "report.html")}`);
  return 0;
}

async function demo(argv: string[]): Promise<number> {
  if (argv.includes("--help")) {
    console.log(`alphanet demo [--quick | --paper-scale] [run options]
The synthetic market on the paper's calendar (2016-01-01 to 2021-06-01), V1, V3 and V4 with rolling
retraining every 6 months from 2019-01-01, the evaluation and the report, in out/demo by default.
--quick: a small market and 2 test windows (about 3 minutes). --paper-scale: 3,000 stocks and the
paper's 90-epoch protocol (hours on a CPU; see README).\n\n${RUN_HELP}`);
    return 0;
  }
  const size = argv.includes("--quick") ? "quick" : argv.includes("--paper-scale") ? "paper-scale" : "default";
  const rest = argv.filter((a) => a !== "--quick" && a !== "--paper-scale");
  return run(rest, merge({ out: join("out", "demo") }, DEMO_PRESETS[size]));
}

async function ingest(argv: string[]): Promise<number> {
  const cfg = configFrom(argv.filter((a) => a !== "--qlib"));
  if (!cfg.data.path) throw new UsageError("ingest needs --data FILE|DIR");
  const { loadData } = await import("./data.js");
  const { writeQlib } = await import("../data/index.js");
  const { panel, quality } = await loadData(cfg);
  mkdirSync(cfg.out, { recursive: true });
  writeFileSync(join(cfg.out, "data_quality.json"), JSON.stringify(quality, null, 2));
  if (argv.includes("--qlib")) writeQlib(panel, join(cfg.out, "qlib"));
  console.log(JSON.stringify({ stocks: panel.stocks.length, dates: panel.calendar.length, rows_in: quality.rowsIn, rows_kept: quality.rowsKept,
    rows_dropped: quality.rowsDropped, rows_flagged: quality.rowsFlagged, report: join(cfg.out, "data_quality.json") }));
  return 0;
}

async function features(argv: string[]): Promise<number> {
  const cfg = configFrom(argv);
  const { loadData } = await import("./data.js");
  const { buildFeatureStore } = await import("../features/index.js");
  const { panel } = await loadData(cfg);
  const store = buildFeatureStore(panel, join(cfg.out, "cache", "features"), featureSettingsOf(cfg));
  console.log(JSON.stringify({ store: store.dir, key: store.meta.key, windows: store.meta.settings.windows, masked: store.meta.masked,
    stand_ins: store.meta.standIns, seconds: store.meta.seconds }));
  return 0;
}

async function evaluateCmd(argv: string[]): Promise<number> {
  const [factorPath, afterFactor] = takeOption(argv, "--factor", "evaluate needs --factor FILE (a CSV with date,code,factor) and --data FILE");
  let rest = afterFactor, column: string | undefined;
  if (rest.includes("--factor-column")) [column, rest] = takeOption(rest, "--factor-column", "--factor-column needs the name of the factor's column");
  const cfg = configFrom(rest);
  if (!existsSync(factorPath)) throw new UsageError(`--factor ${factorPath}: no such file`);
  const { costsOf } = await import("./pipeline.js");
  const { loadData } = await import("./data.js");
  const { icTest, stratify } = await import("../evaluate/index.js");
  const { forwardReturns } = await import("../dataset/index.js");
  const { readFactorFile } = await import("../data/index.js");
  if (!cfg.data.path) throw new UsageError("evaluate needs --data FILE: the prices the factor is evaluated on");
  const { panel } = await loadData(cfg);
  const S = panel.stocks.length;
  // The factor is read as the bars are: codes through the data's normaliser, every row accounted for.
  const { factor, accounting } = await readFactorFile(factorPath, panel, { column, padCodes: cfg.data.padCodes, encoding: cfg.data.encoding });
  const fwd = forwardReturns(panel, cfg.horizon).fwd;
  const ic = icTest(factor, fwd, panel.calendar, S, cfg.evaluate.every);
  const g = stratify(panel, factor, { groups: cfg.evaluate.groups, every: cfg.evaluate.every, costs: costsOf(cfg.evaluate.costs) });
  // NaN (no groups on any date, or no IC) is printed as null.
  console.log(JSON.stringify({ ic: ic.summary, ic_by_year: ic.byYear, group_annual_excess: g.annualExcess, long_short_annual: g.longShortAnnual,
    rebalance_dates_without_groups: { count: g.ungrouped.length, examples: g.ungrouped.slice(0, 5),
      why: "the factor's values on those dates cannot fill the groups (all equal, or too few distinct values)" },
    factor_rows: accounting }, null, 2));
  return 0;
}

async function predictCmd(argv: string[]): Promise<number> {
  const [modelDir, rest] = takeOption(argv, "--model", "predict needs --model DIR (a saved model: weights.safetensors and manifest.json) and --data FILE");
  const cfg = configFrom(rest);
  const { scoreLatest } = await import("./predict.js");
  const rows = await scoreLatest(modelDir, cfg);
  mkdirSync(cfg.out, { recursive: true });
  const path = join(cfg.out, "scores.csv");
  writeFileSync(path, "date,code,score\n" + rows.map((r) => `${r.date},${r.code},${r.score}`).join("\n") + "\n");
  console.log(JSON.stringify({ scored: rows.length, date: rows[0]?.date ?? null, file: path }));
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const wantsHelp = rest.includes("--help") || rest.includes("-h");
  switch (cmd) {
    case undefined:
    case "--help":
    case "-h":
    case "help":
      console.log(HELP);
      return 0;
    case "demo":
      return demo(rest);
    case "run":
      if (wantsHelp) return console.log(`alphanet run [options]: the whole pipeline on your data.\n\n${RUN_HELP}`), 0;
      return run(rest);
    case "train":
      if (wantsHelp) return console.log(`alphanet train [options]: rolling training of the chosen models; factors, saved models and checkpoints in --out, then the evaluation (the same as run).\n\n${RUN_HELP}`), 0;
      return run(rest);
    case "ingest":
      if (wantsHelp) return console.log(`alphanet ingest --data FILE|DIR [--preset NAME] [--map col=field,...] [--instruments FILE] [--market auto|cn|us|other]\n  [--encoding utf8|gbk] [--pad-codes] [--out DIR] [--qlib]\nValidates and cleans the data, writes data_quality.json (and a Qlib directory with --qlib): every line of the file is\naccounted for; a value that cannot be read stops with its file, line and column.`), 0;
      return ingest(rest);
    case "features":
      if (wantsHelp) return console.log(`alphanet features [--data FILE] [--out DIR] [--config FILE]\nBuilds the feature store (computed once per data and settings) under OUT/cache/features.`), 0;
      return features(rest);
    case "predict":
      if (wantsHelp) return console.log(`alphanet predict --model DIR --data FILE [--out DIR]\nScores every eligible stock on the last date of the data with a saved model; writes OUT/scores.csv.`), 0;
      return predictCmd(rest);
    case "evaluate":
      if (wantsHelp) return console.log(`alphanet evaluate --factor FILE [--factor-column NAME] --data FILE [--horizon H] [--costs paper|realistic] [data options]\nIC test and quintile stratification of any factor (CSV: date,code,factor), read as bar files are: every row accounted for.`), 0;
      return evaluateCmd(rest);
    case "report":
      if (wantsHelp) return console.log(`alphanet report --out DIR\nThe report of a finished run is OUT/report.html, written by run and demo.`), 0;
      {
        const out = rest[rest.indexOf("--out") + 1] ?? "out";
        checkOutFolder(out);
        const path = join(out, "report.html");
        if (!existsSync(path)) throw new UsageError(`${path}: no report there: run 'alphanet run --out ${out}' first`);
        console.log(`report: ${path}`);
        return 0;
      }
    case "bench":
      if (wantsHelp) return console.log(`alphanet bench train|features|load [--threads N] [--peer] [--rounds R] [--stocks N --days N] [FILE]`), 0;
      return (await import("./bench.js")).runBench(rest);
    default:
      throw new UsageError(`unknown command "${cmd}"; run 'alphanet --help'`);
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  const err = e as Error;
  if (err.name === "UsageError" || err.name === "DataError") {
    console.error(`alphanet: ${err.message}`);
    process.exitCode = 2;
  } else if (err.name === "WorkerError") {
    console.error(`alphanet: ${err.message}`);
    process.exitCode = 1;
  } else {
    throw e;
  }
}

