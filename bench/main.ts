/** `npm run bench -- WHAT [options]`: see src/cli/bench.ts (arguments) and src/run/bench.ts (the benchmarks). */
import { runBench } from "../src/cli/bench.js";

process.exitCode = await runBench(process.argv.slice(2));
