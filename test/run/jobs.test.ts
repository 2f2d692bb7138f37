/**
 * Rolling windows trained by worker processes (`jobs`) give the very factor, logs and saved models
 * that one process gives: windows share nothing but read-only data, and each replays its seed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validateConfig } from "../../src/run/config.js";
import { run } from "../../src/run/index.js";
import { ROOT, alphanet } from "../helpers.js";

const BASE = {
  data: { synthetic: { stocks: 60, start: "2018-01-01", end: "2019-12-31", indexSize: 25, seed: 5 } },
  schedule: { trainStart: "2018-01-01", testStart: "2019-01-01", testEnd: "2019-12-31", retrainMonths: 6 },
  models: ["v1", "v3"], sampleStep: 10, features: { windows: [5, 10, 20] }, train: { maxEpochs: 2, patience: 2 }, seed: 2,
};

test("two worker processes train the same windows to the same factor as one process", { timeout: 600_000 }, async () => {
  const runs = [];
  for (const jobs of [1, 2]) {
    const out = mkdtempSync(join(tmpdir(), `alphanet-jobs${jobs}-`));
    const lines: string[] = [];
    const r = await run(validateConfig({ ...BASE, jobs, out }), { log: (s) => lines.push(s), progress: false });
    runs.push({ r, out, lines });
  }
  const [one, two] = runs;
  assert.ok(two.lines.some((l) => /in worker \d+/.test(l)), "the windows ran in workers");
  const workers = new Set(two.lines.flatMap((l) => /in worker (\d+)/.exec(l)?.[1] ?? []));
  assert.equal(workers.size, 2, `two workers took tasks: ${[...workers]}`);
  for (const name of ["v1", "v3"]) {
    const a = one.r.evaluations.find((e) => e.name === name)!.rolling!;
    const b = two.r.evaluations.find((e) => e.name === name)!.rolling!;
    assert.equal(a.windows.length, 2);
    assert.ok(a.factor.values.some(Number.isFinite));
    assert.deepEqual(b.factor, a.factor, `${name}: the factor, cell for cell`);
    assert.deepEqual(b.windows.map((w) => w.log.map(({ seconds: _s, ...e }) => e)), a.windows.map((w) => w.log.map(({ seconds: _s, ...e }) => e)));
    assert.deepEqual(b.lastSelection, a.lastSelection);
    for (const w of ["0", "1"]) {
      const weights = (out: string): Buffer => readFileSync(join(out, "models", name, w, "weights.safetensors"));
      assert.ok(existsSync(join(two.out, "models", name, w, "manifest.json")));
      assert.ok(weights(two.out).equals(weights(one.out)), `${name} window ${w}: the saved weights, byte for byte`);
    }
  }
  assert.deepEqual((two.r.metrics.models as Record<string, { ic_mean: number }>).v3.ic_mean,
    (one.r.metrics.models as Record<string, { ic_mean: number }>).v3.ic_mean);
});

test("a killed worker stops the run with one line that says so, leaves no worker behind, and --resume finishes it", { timeout: 600_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "alphanet-kill-"));
  const cfg = join(dir, "config.json");
  writeFileSync(cfg, JSON.stringify({ ...BASE, train: { maxEpochs: 6, patience: 6 } }));
  const out = join(dir, "out");
  const run = spawn(process.execPath, [join(ROOT, "dist/src/cli/main.js"), "run", "--config", cfg, "--out", out, "--jobs", "2"], { cwd: ROOT });
  let err = "";
  const workers = new Set<number>();
  let killed = 0;
  run.stderr.setEncoding("utf8").on("data", (s: string) => {
    err += s;
    for (const m of s.matchAll(/in worker (\d+)/g)) workers.add(Number(m[1]));
    // The second task started: both workers are training; kill the one that took it.
    const started = [...err.matchAll(/in worker (\d+)/g)];
    if (!killed && started.length >= 2) process.kill((killed = Number(started[1][1])), "SIGKILL");
  });
  const code = await new Promise<number | null>((resolve) => run.on("exit", (c) => resolve(c)));
  assert.equal(code, 1, err);
  const last = err.trim().split("\n").at(-1)!;
  assert.match(last, new RegExp(`^alphanet: training worker ${killed} stopped \\(SIGKILL\\) with \\d+ of 6 windows to train; .*--resume`)); // v1, v3 and the ridge row: 3 x 2 windows
  assert.ok(!/\n\s+at /.test(err), "no stack trace");
  await new Promise((r) => setTimeout(r, 500));
  for (const pid of workers) assert.throws(() => process.kill(pid, 0), `worker ${pid} is gone`);
  assert.ok(!existsSync(join(out, "metrics.json")), "no results that look complete");

  const resumed = alphanet(["run", "--config", cfg, "--out", out, "--jobs", "2", "--resume"]);
  assert.equal(resumed.code, 0, resumed.err);
  const whole = alphanet(["run", "--config", cfg, "--out", join(dir, "whole")]);
  assert.equal(whole.code, 0, whole.err);
  for (const m of ["v1", "v3"])
    assert.equal(readFileSync(join(out, `factor_${m}.csv`), "utf8"), readFileSync(join(dir, "whole", `factor_${m}.csv`), "utf8"), `factor_${m}.csv`);
});
