#!/usr/bin/env node
/**
 * The `alphanet` command line: parses the flags into a configuration (src/run/config.ts), calls
 * the workflow stage (src/run) and prints. Bad arguments or configuration end with exit code 2 and
 * one line that says what to fix.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type Config, DEMO_PRESETS, UsageError, checkOutFolder, merge, readConfigFile, resolveConfig } from "../run/config.js";
import { COMMAND_HELP, HELP } from "./help.js";

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
  const file = values.config ? readConfigFile(values.config as string) as Record<string, unknown> : {};
  const config = resolveConfig([base, file, clean(flags) as Record<string, unknown>], values.config ? String(values.config) : "configuration");
  checkOutFolder(config.out);
  return config;
}

async function run(argv: string[], base: Record<string, unknown> = {}): Promise<number> {
  const cfg = configFrom(argv, base);
  const { icColumn } = await import("../evaluate/index.js");
  const r = await (await import("../run/index.js")).run(cfg);
  const [ic, std, ir, rankIc] = ["ic_mean", "ic_std", "ir", "rank_ic_mean"].map((k) => icColumn(r.icTable, k));
  console.log("table 1-1 (IC test):");
  console.log("model          IC mean   IC std     IR   rank IC");
  r.icTable.rows.forEach(({ name }, i) =>
    console.log(`${name.padEnd(14)} ${ic[i].toFixed(4).padStart(7)} ${std[i].toFixed(4).padStart(8)} ${ir[i].toFixed(3).padStart(6)} ${rankIc[i].toFixed(4).padStart(9)}`));
  console.log(`report: ${join(r.outDir, "report.html")}`);
  return 0;
}

function demo(argv: string[]): Promise<number> {
  const size = argv.includes("--quick") ? "quick" : argv.includes("--paper-scale") ? "paper-scale" : "default";
  const rest = argv.filter((a) => a !== "--quick" && a !== "--paper-scale");
  return run(rest, merge({ out: join("out", "demo") }, DEMO_PRESETS[size]));
}

async function ingest(argv: string[]): Promise<number> {
  const cfg = configFrom(argv.filter((a) => a !== "--qlib"));
  if (!cfg.data.path) throw new UsageError("ingest needs --data FILE|DIR");
  // The data module alone: ingest does not load the tensor engine.
  const { ingest } = await import("../run/data.js");
  console.log(JSON.stringify(await ingest(cfg, { qlib: argv.includes("--qlib") })));
  return 0;
}

async function features(argv: string[]): Promise<number> {
  const cfg = configFrom(argv);
  const { loadData } = await import("../run/data.js");
  const { featureStoreOf } = await import("../run/prepare.js");
  const store = featureStoreOf(cfg, (await loadData(cfg)).panel);
  console.log(JSON.stringify({ store: store.dir, key: store.meta.key, windows: store.meta.settings.windows, masked: store.meta.masked,
    stand_ins: store.meta.standIns, seconds: store.meta.seconds }));
  return 0;
}

async function evaluate(argv: string[]): Promise<number> {
  const [factorPath, afterFactor] = takeOption(argv, "--factor", "evaluate needs --factor FILE (a CSV with date,code,factor) and --data FILE");
  let rest = afterFactor, column: string | undefined;
  if (rest.includes("--factor-column")) [column, rest] = takeOption(rest, "--factor-column", "--factor-column needs the name of the factor's column");
  const cfg = configFrom(rest);
  if (!existsSync(factorPath)) throw new UsageError(`--factor ${factorPath}: no such file`);
  if (!cfg.data.path) throw new UsageError("evaluate needs --data FILE: the prices the factor is evaluated on");
  const { evaluateFactorFile } = await import("../run/evaluation.js");
  // NaN (no groups on any date, or no IC) is printed as null.
  console.log(JSON.stringify(await evaluateFactorFile(cfg, factorPath, column), null, 2));
  return 0;
}

async function predict(argv: string[]): Promise<number> {
  const [modelDir, rest] = takeOption(argv, "--model", "predict needs --model DIR (a saved model: weights.safetensors and manifest.json) and --data FILE");
  const cfg = configFrom(rest);
  const { writeLatestScores } = await import("../run/predict.js");
  console.log(JSON.stringify(await writeLatestScores(modelDir, cfg)));
  return 0;
}

function report(argv: string[]): number {
  const out = argv[argv.indexOf("--out") + 1] ?? "out";
  checkOutFolder(out);
  const path = join(out, "report.html");
  if (!existsSync(path)) throw new UsageError(`${path}: no report there: run 'alphanet run --out ${out}' first`);
  console.log(`report: ${path}`);
  return 0;
}

const COMMANDS: Record<string, (argv: string[]) => number | Promise<number>> = {
  demo, run: (argv) => run(argv), train: (argv) => run(argv), ingest, features, predict, evaluate, report,
  bench: async (argv) => (await import("./bench.js")).runBench(argv),
};

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === "--help" || cmd === "-h" || cmd === "help") return console.log(HELP), 0;
  const command = COMMANDS[cmd];
  if (!command) throw new UsageError(`unknown command "${cmd}"; run 'alphanet --help'`);
  if (rest.includes("--help") || rest.includes("-h")) return console.log(COMMAND_HELP[cmd]), 0;
  return command(rest);
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
