/**
 * Broken outputs of earlier runs and misdirected outputs stop with one line that names the file
 * and what is wrong: a saved model's damaged or mismatched files (before any data is read), an
 * --out that is a file, and a --resume whose checkpoints were made by a different run.
 */
import { test } from "node:test";
import { execFile } from "node:child_process";
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Config, merge, validateConfig } from "../../src/run/config.js";
import { type RunResult, prepareRun, rollingOptions, run } from "../../src/run/index.js";
import { encodeSafetensors, manualSeed } from "../../src/engine/index.js";
import { createModel, imageSpecs } from "../../src/models/index.js";
import { PanelCache, trainWindow } from "../../src/train/index.js";
import { ROOT, alphanet } from "../helpers.js";

const DIR = mkdtempSync(join(tmpdir(), "alphanet-integrity-"));

/** A tiny run: 40 synthetic stocks, one test window, V1 for two epochs (seconds). */
const BASE = {
  data: { synthetic: { stocks: 40, start: "2018-06-01", end: "2019-12-31", indexSize: 20, seed: 5 } },
  schedule: { trainStart: "2018-06-01", testStart: "2019-09-01", testEnd: "2019-12-31", retrainMonths: 6 },
  models: ["v1"], sampleStep: 10, features: { windows: [5, 10, 20] }, train: { maxEpochs: 2, patience: 2 }, seed: 2,
};
const config = (over: Record<string, unknown>): Config => validateConfig(merge(BASE, over));
const quiet = { log: (): void => {}, progress: false };

/** The uninterrupted run, trained once for the tests that need its saved model or its factor. */
let whole: Promise<RunResult> | undefined;
const wholeRun = (): Promise<RunResult> => (whole ??= run(config({ out: join(DIR, "whole") }), quiet));

/** The last stderr line of a command that must stop with exit 2, checked to be one `alphanet:` line without a stack trace. */
function stops(args: string[]): string {
  return lastLine(args, alphanet(args));
}

/** stops() for commands run side by side (each loads libtorch, a second of start-up). */
async function allStop(commands: string[][]): Promise<string[]> {
  const lines: string[] = [];
  const queue = commands.map((args, i) => ({ args, i }));
  await Promise.all(Array.from({ length: 4 }, async () => {
    for (let c = queue.shift(); c; c = queue.shift()) {
      const r = await new Promise<{ code: number; out: string; err: string }>((resolve) =>
        execFile(process.execPath, [join(ROOT, "dist/src/cli/main.js"), ...c!.args], { cwd: ROOT, encoding: "utf8" },
          (e, out, err) => resolve({ code: e ? (typeof e.code === "number" ? e.code : -1) : 0, out, err })));
      lines[c.i] = lastLine(c.args, r);
    }
  }));
  return lines;
}

function lastLine(args: string[], r: { code: number; err: string }): string {
  assert.equal(r.code, 2, `${args.join(" ")}: exit ${r.code}\n${r.err}`);
  assert.ok(!/\n\s+at /.test(r.err), `${args.join(" ")}: a stack trace\n${r.err}`);
  const last = r.err.trim().split("\n").at(-1)!;
  assert.match(last, /^alphanet: /);
  return last;
}

test("a saved model whose files are damaged, missing or of another model stops before the data is read, naming the file", async () => {
  await wholeRun();
  const saved = join(DIR, "whole", "models", "v1", "0");
  const weights = readFileSync(join(saved, "weights.safetensors"));
  const manifest = JSON.parse(readFileSync(join(saved, "manifest.json"), "utf8"));
  const headerLength = Number(weights.readBigUInt64LE(0));
  // The data does not exist: a model that passes its checks stops on the data instead.
  const data = join(DIR, "no-such-data.csv");
  let n = 0;
  const broken = (what: string, edit: (dir: string) => void): string => {
    const dir = join(DIR, "broken", `${n++}-${what}`);
    cpSync(saved, dir, { recursive: true });
    edit(dir);
    return dir;
  };
  const W = (dir: string): string => join(dir, "weights.safetensors");
  const M = (dir: string): string => join(dir, "manifest.json");
  const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

  const v4 = { kind: "v4" as const, v4: { lstmDropout: 0.2 } };
  manualSeed(0);
  const narrowV1 = encodeSafetensors(createModel({ kind: "v1" }, 40).stateDict(), { format: "pt" });
  const cases: [string, (dir: string) => void, (dir: string) => RegExp][] = [
    ["weights-truncated", (d) => writeFileSync(W(d), weights.subarray(0, weights.length >> 1)),
      (d) => new RegExp(`${esc(W(d))}: tensor \\S+ bytes \\d+\\.\\.\\d+ run past the end of the data \\(\\d+ bytes\\): the file is truncated`)],
    ["weights-cut-in-header", (d) => writeFileSync(W(d), weights.subarray(0, 100)),
      (d) => new RegExp(`${esc(W(d))}: the header length ${headerLength} runs past the end of the file \\(100 bytes\\)`)],
    ["weights-garbled-length", (d) => {
      const b = Buffer.from(weights);
      b.writeBigUInt64LE(0x4142434445464748n, 0);
      writeFileSync(W(d), b);
    }, (d) => new RegExp(`${esc(W(d))}: the header length \\d+ runs past the end of the file`)],
    ["weights-garbled-json", (d) => {
      const b = Buffer.from(weights);
      b.fill(0x5a, 20, 40);
      writeFileSync(W(d), b);
    }, (d) => new RegExp(`${esc(W(d))}: the header is not valid JSON`)],
    ["weights-offsets-past-end", (d) => {
      const header = JSON.parse(weights.subarray(8, 8 + headerLength).toString("utf8"));
      const [, e] = Object.entries(header).find(([k]) => k !== "__metadata__") as [string, { data_offsets: number[] }];
      e.data_offsets = e.data_offsets.map((x) => x + weights.length);
      const json = Buffer.from(JSON.stringify(header));
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(json.length));
      writeFileSync(W(d), Buffer.concat([len, json, weights.subarray(8 + headerLength)]));
    }, (d) => new RegExp(`${esc(W(d))}: tensor \\S+ bytes \\d+\\.\\.\\d+ run past the end of the data`)],
    ["weights-text", (d) => writeFileSync(W(d), "date,code,score\n2019-12-31,SH600000,0.5\n"),
      (d) => new RegExp(`${esc(W(d))}: the header length \\d+ runs past the end of the file \\(\\d+ bytes\\): truncated, or not a safetensors file`)],
    ["weights-missing", (d) => rmSync(W(d)), (d) => new RegExp(`${esc(W(d))}: no such file`)],
    ["manifest-truncated", (d) => writeFileSync(M(d), readFileSync(M(d), "utf8").slice(0, 200)),
      (d) => new RegExp(`${esc(M(d))}: truncated: the JSON ends early`)],
    ["manifest-garbled", (d) => writeFileSync(M(d), readFileSync(M(d), "utf8").replace(/"features":/, "\"features\";")),
      (d) => new RegExp(`${esc(M(d))}: not valid JSON`)],
    ["manifest-no-spec", (d) => writeFileSync(M(d), JSON.stringify({ ...manifest, spec: undefined })),
      (d) => new RegExp(`${esc(M(d))}: spec: missing`)],
    ["manifest-bad-columns", (d) => writeFileSync(M(d), JSON.stringify({ ...manifest, featureColumns: manifest.featureColumns.slice(1) })),
      (d) => new RegExp(`${esc(M(d))}: featureColumns lists ${manifest.features - 1} columns, but features is ${manifest.features}`)],
    ["manifest-other-format", (d) => writeFileSync(M(d), JSON.stringify({ ...manifest, format: "keras" })),
      (d) => new RegExp(`${esc(M(d))}: format: .*not an alphanet model's manifest`)],
    ["manifest-missing", (d) => rmSync(M(d)), (d) => new RegExp(`${esc(M(d))}: no such file`)],
    // V1's weights under a manifest that describes V4.
    ["v1-weights-v4-manifest", (d) => writeFileSync(M(d), JSON.stringify({ ...manifest, spec: v4, images: imageSpecs(v4) })),
      (d) => new RegExp(`${esc(W(d))}: not the weights of the model manifest.json describes \\(v4, ${manifest.features} features\\): no tensor `)],
    // V1's weights for 40 features where the manifest says the model reads more.
    ["weights-other-width", (d) => writeFileSync(W(d), narrowV1),
      (d) => new RegExp(`${esc(W(d))}: not the weights of the model manifest.json describes \\(v1, ${manifest.features} features\\): \\S+ has shape \\[`)],
  ];
  const dirs = cases.map(([what, edit]) => broken(what, edit));
  const lines = await allStop([
    ...dirs.map((dir) => ["predict", "--model", dir, "--data", data, "--out", join(DIR, "scores")]),
    ["predict", "--model", join(DIR, "nosuch"), "--data", data],
    ["predict", "--model", W(saved), "--data", data],
    ["predict", "--model", saved, "--data", data],
  ]);
  cases.forEach(([what, , want], i) => assert.match(lines[i], want(dirs[i]), what));
  const [noSuch, aFile, intact] = lines.slice(cases.length);
  assert.match(noSuch, /--model \S+nosuch: no such folder/);
  assert.match(aFile, /--model \S+weights\.safetensors: a file; expected a saved model's folder/);
  // The intact model passes its checks: the command goes on to the data, which is missing.
  assert.match(intact, new RegExp(`--data ${esc(data)}: no such file`));
});

test("--out naming an existing file stops every command that writes there", async () => {
  const file = join(DIR, "results.csv");
  writeFileSync(file, "date,code,score\n");
  const commands: string[][] = [
    ["run"], ["train"], ["demo", "--quick"], ["ingest", "--data", file], ["features"], ["predict", "--model", DIR],
    ["evaluate", "--factor", file, "--data", file], ["report"],
  ];
  const lines = await allStop([...commands.map((c) => [...c, "--out", file]), ["run", "--out", join(file, "sub")]]);
  commands.forEach((c, i) =>
    assert.match(lines[i], new RegExp(`^alphanet: --out ${file.replace(/\./g, "\\.")}: an existing file, not a folder`), c[0]));
  assert.match(lines.at(-1)!, /--out \S+results\.csv\/sub: \S+results\.csv is a file, so no folder can be made under it/);
  assert.ok(readFileSync(file, "utf8") === "date,code,score\n", "the file is untouched");
});

test("--resume continues only the run that made the checkpoints: other data, seed, schedule or settings stop it with what changed", { timeout: 600_000 }, async () => {
  const reference = await wholeRun();
  const out = join(DIR, "resumed");
  mkdirSync(out, { recursive: true });
  // An interrupted run: window 0 stops in the middle of its second epoch, after the first epoch's checkpoint.
  const cfg = config({ out });
  const prepared = await prepareRun(cfg, () => {});
  let epochsDone = 0;
  const o = rollingOptions(cfg, {
    onEpoch: () => void epochsDone++,
    onProgress: (b) => {
      if (epochsDone === 1 && b === 2) throw new Error("interrupted");
    },
  });
  assert.throws(() => trainWindow({ name: "v1", spec: { kind: "v1" }, data: prepared, cache: new PanelCache(prepared.store), window: prepared.windows[0], index: 0, options: o }), /interrupted/);
  const ckpt = join(out, "checkpoints", "v1", "0");
  const state = readFileSync(join(ckpt, "state.json"), "utf8");
  assert.equal(JSON.parse(state).epoch, 1);

  const mismatch = async (over: Record<string, unknown>, want: RegExp): Promise<void> => {
    await assert.rejects(run(config({ out, resume: true, ...over }), quiet), (e: Error) => {
      assert.equal(e.name, "DataError");
      assert.match(e.message, want);
      assert.ok(e.message.startsWith(`${ckpt}: `) && e.message.endsWith("remove --resume to train it afresh, or use another --out"), e.message);
      return true;
    }, JSON.stringify(over));
    assert.equal(readFileSync(join(ckpt, "state.json"), "utf8"), state, "the checkpoint is left as it was");
  };
  await mismatch({ seed: 3 }, /: made with seed 2, this run has seed 3;/);
  await mismatch({ data: { synthetic: { ...BASE.data.synthetic, seed: 6 } } }, /: made with other data \(data hash [0-9a-f]{16}, this run's [0-9a-f]{16}\);/);
  await mismatch({ schedule: { ...BASE.schedule, testStart: "2019-10-01" } },
    /: made for the window that tests 2019-09-02\.\.2019-12-3\d after training on 2018-\d\d-\d\d\.\.2019-\d\d-\d\d \(validated on [-.\d]+\), this run's tests 2019-10-01\.\./);
  await mismatch({ train: { ...BASE.train, lrStart: 0.002 } }, /: made with train\.lrStart 0\.001, this run has train\.lrStart 0\.002;/);
  await mismatch({ sampleStep: 5 }, /: made with sampleStep 10, this run has sampleStep 5;/);
  await mismatch({ features: { ...BASE.features, spearmanThreshold: 0.7 } }, /: made with features\.spearmanThreshold 0\.8, this run has features\.spearmanThreshold 0\.7;/);

  // Unchanged: it resumes, and ends where the uninterrupted run did.
  const resumed = await run(config({ out, resume: true }), quiet);
  const [a, b] = [reference, resumed].map((r) => r.evaluations[0].rolling!);
  assert.ok(a.factor.values.some(Number.isFinite));
  assert.deepEqual(b.factor, a.factor, "the factor, cell for cell");
  assert.deepEqual(b.windows.map((w) => w.log.map(({ seconds: _s, ...e }) => e)), a.windows.map((w) => w.log.map(({ seconds: _s, ...e }) => e)));
  assert.ok(readFileSync(join(out, "models", "v1", "0", "weights.safetensors")).equals(
    readFileSync(join(DIR, "whole", "models", "v1", "0", "weights.safetensors"))), "the saved weights, byte for byte");

  // The finished checkpoint is not reused by a run with another seed either (in workers too), and
  // the finished run's results stay.
  const cfgFile = join(DIR, "config.json");
  writeFileSync(cfgFile, JSON.stringify(BASE));
  const last = stops(["run", "--config", cfgFile, "--out", out, "--resume", "--seed", "4", "--jobs", "2"]);
  assert.equal(last, `alphanet: ${ckpt}: made with seed 2, this run has seed 4; remove --resume to train it afresh, or use another --out`);
  assert.ok(existsSync(join(out, "metrics.json")), "the finished run's results are kept");
  // A damaged checkpoint file is named, not read.
  const model = join(ckpt, "model.safetensors");
  writeFileSync(model, readFileSync(model).subarray(0, 64));
  await assert.rejects(run(config({ out, resume: true }), quiet),
    new RegExp(`${model.replace(/\./g, "\\.")}: a damaged checkpoint: the header length \\d+ runs past the end of the file`));
});
