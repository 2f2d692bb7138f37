/**
 * `alphanet bench` and `npm run bench`: the arguments of the benchmarks in src/run/bench.ts, whose
 * JSON lines are printed here.
 *
 *   npm run bench -- train [--threads N] [--batch 512] [--steps 5] [--peer [--rounds R]]
 *                          [--attention paper|self] [--positional none|sinusoidal|learned]
 *   npm run bench -- features [--stocks 500] [--days 250] [--threads N] [--peer]
 *   npm run bench -- store --stocks 5000     (the full-scale feature store: 25 GB of disk)
 *   npm run bench -- load [FILE] [--peer]
 */
import { parseArgs } from "node:util";
import { UsageError } from "../run/config.js";

/** `alphanet bench WHAT [options]`; returns the process exit code. */
export async function runBench(argv: string[]): Promise<number> {
  const [what = "train", ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      threads: { type: "string", default: "1" },
      batch: { type: "string", default: "512" },
      steps: { type: "string", default: "5" },
      features: { type: "string", default: "103" },
      seq: { type: "string", default: "20" },
      aux: { type: "string", default: "2" },
      json: { type: "boolean", default: true },
      peer: { type: "boolean", default: false },
      rounds: { type: "string", default: "1" },
      stocks: { type: "string", default: "500" },
      days: { type: "string", default: "250" },
      attention: { type: "string" },
      positional: { type: "string" },
    },
    allowPositionals: true,
  });
  const n = (k: keyof typeof values): number => Number(values[k]);
  const emit = (line: Record<string, unknown>): void => console.log(JSON.stringify(line));
  const bench = await import("../run/bench.js");
  if (what === "train") {
    const { ALPHANET_V4_DEFAULTS } = await import("../models/index.js");
    const attention = values.attention ?? ALPHANET_V4_DEFAULTS.attention;
    const positional = values.positional ?? ALPHANET_V4_DEFAULTS.positional;
    if (attention !== "paper" && attention !== "self") throw new UsageError(`--attention ${attention}: expected paper or self`);
    if (positional !== "none" && positional !== "sinusoidal" && positional !== "learned")
      throw new UsageError(`--positional ${positional}: expected none, sinusoidal or learned`);
    const o = { threads: n("threads"), batch: n("batch"), steps: n("steps"), features: n("features"), seq: n("seq"), aux: n("aux"),
      attention, positional } as const;
    await bench.benchTrain(o, values.peer ? { rounds: n("rounds") } : null, emit);
  } else if (what === "features") {
    await bench.benchFeatures({ stocks: n("stocks"), days: n("days"), threads: n("threads") }, values.peer!, emit);
  } else if (what === "store") {
    emit(await bench.benchStore(n("stocks")));
  } else if (what === "load") {
    await bench.benchLoad(rest.find((a) => !a.startsWith("--")) ?? bench.DEFAULT_LOAD_FILE, values.peer!, emit);
  } else {
    console.error(`unknown benchmark "${what}": use train, features, store or load`);
    return 2;
  }
  return 0;
}
