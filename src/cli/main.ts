#!/usr/bin/env node
/** The `alphanet` command line. */
import { benchTrain, runBench } from "./bench.js";

const HELP = `alphanet: mine stock-selection alphas with AlphaNetV4

usage: alphanet <command> [options]

commands:
  demo     run the demonstration (see below)
  bench    benchmarks that print JSON: alphanet bench train [--threads N] [--peer]

Run 'alphanet <command> --help' for a command's options.`;

async function demo(argv: string[]): Promise<number> {
  if (argv.includes("--help")) {
    console.log("alphanet demo: trains the AlphaNetV4 benchmark network on random data and reports its speed.");
    return 0;
  }
  // The data, features and training stages are not in place yet: until they are, the demo trains
  // the benchmark network on random tensors and says so.
  console.log("alphanet demo: the data pipeline is not built yet; training the AlphaNetV4 network of DESIGN.md");
  console.log("section 6 (K = 103, T = 20, batch 512) on random data to show the engine at work.");
  const r = await benchTrain({ threads: 1, batch: 512, steps: 5, features: 103, seq: 20, aux: 2 });
  console.log(JSON.stringify(r));
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case undefined:
    case "--help":
    case "-h":
    case "help":
      console.log(HELP);
      return 0;
    case "demo":
      return demo(rest);
    case "bench":
      return runBench(rest);
    default:
      console.error(`alphanet: unknown command "${cmd}"; run 'alphanet --help'`);
      return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
