import { test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validateConfig } from "../../src/run/config.js";
import { prepareRun, rollingOptions, run } from "../../src/run/index.js";
import type { Grid } from "../../src/data/index.js";
import { icTest } from "../../src/evaluate/index.js";
import { neutralizePanel } from "../../src/risk/index.js";
import { PanelCache, checkResume, runRolling } from "../../src/train/index.js";
import { alphanet } from "../helpers.js";

const BASE = {
  data: { synthetic: { stocks: 60, start: "2018-01-01", end: "2019-12-31", indexSize: 25, seed: 5 } },
  schedule: { trainStart: "2018-01-01", testStart: "2019-01-01", testEnd: "2019-12-31", retrainMonths: 6 },
  models: ["v1"], sampleStep: 10, features: { windows: [5, 10, 20] }, train: { maxEpochs: 2, patience: 2 }, seed: 2,
};

type Row = { ic_mean: number; rank_ic_mean: number; factor?: string; seeds?: SeedsRow; raw?: Row; neutralised?: Row };
type SeedsRow = { seeds: { seed: number; ic_mean: number; rank_ic_mean: number }[]; ic_mean: Spread; rank_ic_mean: Spread };
type Spread = { mean: number; std: number; min: number; max: number };
const close = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) < 1e-12, `${what}: ${a} vs ${b}`);

test("seeds: 2 trains each seed as its own run would, the factor is their mean, each seed's IC is reported; in process and in 2 workers alike", { timeout: 900_000 }, async () => {
  const runWith = async (extra: object): Promise<{ out: string; r: Awaited<ReturnType<typeof run>>; lines: string[] }> => {
    const out = mkdtempSync(join(tmpdir(), "alphanet-seeds-"));
    const lines: string[] = [];
    const r = await run(validateConfig({ ...BASE, ...extra, out }), { log: (s) => lines.push(s), progress: false });
    return { out, r, lines };
  };
  const inProcess = await runWith({ seeds: 2 });
  const workers = await runWith({ seeds: 2, jobs: 2 });
  const single = await runWith({});

  // Each seed independently: the rolling trainer with seed 2, then seed 3, nothing shared.
  const cfg = validateConfig({ ...BASE, out: mkdtempSync(join(tmpdir(), "alphanet-seeds-ref-")) });
  const prepared = await prepareRun(cfg, () => {});
  const own = [2, 3].map((seed) => {
    const o = rollingOptions({ ...cfg, seed });
    return runRolling("v1", { kind: "v1" }, prepared, prepared.windows, new PanelCache(prepared.store), { ...o, outDir: undefined }).factor;
  });
  const { panel, labels } = prepared;
  assert.ok(own[0].values.some(Number.isFinite));
  assert.ok(own[0].values.some((v, c) => Number.isFinite(v) && v !== own[1].values[c]), "the two seeds predict differently");
  const mean = own[0].map((v, c) => {
    const xs = [v, own[1].values[c]].filter(Number.isFinite);
    return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
  });

  for (const { r, lines, out } of [inProcess, workers]) {
    const rolling = r.evaluations.find((e) => e.name === "v1")!.rolling!;
    assert.deepEqual(rolling.factor, mean, "the ensemble's factor is the mean of the seeds' own factors, cell by cell");
    assert.deepEqual(rolling.seeds!.map((x) => x.seed), [2, 3]);
    rolling.seeds!.forEach((x, k) => assert.deepEqual(x.factor, own[k], `seed ${x.seed}'s factor is its own run's`));
    const m = (r.metrics.models as Record<string, Row>).v1;
    const ics = own.map((f) => icTest(f, labels.raw, panel.calendar, cfg.evaluate.every).summary);
    assert.deepEqual(m.seeds!.seeds.map((x) => x.seed), [2, 3]);
    m.seeds!.seeds.forEach((x, k) => (close(x.ic_mean, ics[k].ic.mean, `seed ${x.seed} IC`), close(x.rank_ic_mean, ics[k].rankIc.mean, `seed ${x.seed} rank IC`)));
    const [a, b] = ics.map((t) => t.ic.mean);
    close(m.seeds!.ic_mean.mean, (a + b) / 2, "mean IC over seeds");
    close(m.seeds!.ic_mean.std, Math.abs(a - b) / Math.SQRT2, "std of IC over seeds");
    close(m.seeds!.ic_mean.min, Math.min(a, b), "min");
    close(m.seeds!.ic_mean.max, Math.max(a, b), "max");
    close(m.ic_mean, icTest(mean, labels.raw, panel.calendar, cfg.evaluate.every).summary.ic.mean, "the model's row is the ensemble's IC");
    assert.equal((r.metrics.models as Record<string, Row>).ridge.seeds, undefined, "the ridge row is trained once");
    assert.ok(lines.some((l) => /seed 3/.test(l)), "the log names seed 3's windows");
    // Seed 0 keeps the single-seed paths; seed k > 0 is in seed-<k>, its checkpoint made with its own seed.
    for (const w of ["0", "1"]) {
      assert.ok(readFileSync(join(out, "models", "v1", w, "weights.safetensors")).equals(readFileSync(join(single.out, "models", "v1", w, "weights.safetensors"))),
        `window ${w}: seed 2's saved weights are the single-seed run's`);
      assert.ok(existsSync(join(out, "models", "v1", w, "seed-1", "weights.safetensors")));
      const made = (dir: string): { train: { seed: number } } => JSON.parse(readFileSync(join(dir, "state.json"), "utf8")).made;
      assert.equal(made(join(out, "checkpoints", "v1", w)).train.seed, 2);
      assert.equal(made(join(out, "checkpoints", "v1", w, "seed-1")).train.seed, 3);
    }
  }
  const untimed = (x: unknown): unknown => JSON.parse(JSON.stringify(x, (k, v) => (k === "seconds" || k === "train_seconds" ? undefined : v)));
  assert.deepEqual(untimed(workers.r.metrics.models), untimed(inProcess.r.metrics.models), "workers and one process: the same metrics, seeds included");

  // seeds: 1 is today's run: seed 2's own factor, no seeds block, no seed folders.
  const one = single.r.evaluations.find((e) => e.name === "v1")!.rolling!;
  assert.deepEqual(one.factor, own[0]);
  assert.equal(one.seeds, undefined);
  assert.equal((single.r.metrics.models as Record<string, Row>).v1.seeds, undefined);
  assert.equal((single.r.metrics.models as Record<string, Row>).v1.factor, undefined);
  assert.ok(!existsSync(join(single.out, "models", "v1", "0", "seed-1")));

  // A resume checks every seed's checkpoint against that seed: seed 3's folder holding seed 2's is refused.
  const o = rollingOptions({ ...cfg, seeds: 2, out: inProcess.out, resume: true });
  assert.doesNotThrow(() => checkResume("v1", { kind: "v1" }, prepared, prepared.windows, o));
  cpSync(join(inProcess.out, "checkpoints", "v1", "0", "state.json"), join(inProcess.out, "checkpoints", "v1", "0", "seed-1", "state.json"));
  assert.throws(() => checkResume("v1", { kind: "v1" }, prepared, prepared.windows, o),
    (e: Error) => e.name === "DataError" && e.message.startsWith(join(inProcess.out, "checkpoints", "v1", "0", "seed-1")) && /made with seed 2, this run has seed 3/.test(e.message));
});

test("factor: neutral makes the neutralised prediction the model's row (tables and metrics), with the raw one beside it", { timeout: 600_000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), "alphanet-neutral-"));
  const r = await run(validateConfig({ ...BASE, factor: "neutral", references: false, out }), { log: () => {}, progress: false });
  const ev = r.evaluations.find((e) => e.name === "v1")!;
  const cfg = validateConfig({ ...BASE, out });
  const { panel, labels, styles, industries } = await prepareRun(cfg, () => {});
  const raw = ev.rolling!.factor;
  const neutral = neutralizePanel(raw, styles, industries).residual;
  const ic = (f: Grid) => icTest(f, labels.raw, panel.calendar, cfg.evaluate.every).summary;
  const m = (r.metrics.models as Record<string, Row>).v1;
  assert.equal(m.factor, "neutral");
  close(m.ic_mean, ic(neutral).ic.mean, "the row: the neutralised factor's IC");
  close(m.rank_ic_mean, ic(neutral).rankIc.mean, "its rank IC");
  close(m.raw!.ic_mean, ic(raw).ic.mean, "beside it: the raw factor's IC");
  assert.equal(m.neutralised, undefined);
  assert.notEqual(m.ic_mean, m.raw!.ic_mean);
  const row = readFileSync(join(out, "table_1_1_ic.csv"), "utf8").split("\n").find((l) => l.startsWith("v1,"))!.split(",");
  assert.ok(Math.abs(Number(row[1]) - ic(neutral).ic.mean) < 1e-9, `table 1-1: ${row}`);
  for (const f of ["factor_v1.csv", "factor_neutral_v1.csv"]) assert.ok(existsSync(join(out, f)), f);
  const state = JSON.parse(readFileSync(join(out, "checkpoints", "v1", "0", "state.json"), "utf8"));
  assert.equal(state.made.train.factor, "neutral", "early stopping read the neutral factor, and the checkpoint says so");
  assert.match(readFileSync(join(out, "report.html"), "utf8"), /v1 raw/);
});

test("--seeds and factor are validated: a count under 1 or an unknown factor stops with one line naming the key", () => {
  const r = alphanet(["run", "--seeds", "0", "--out", mkdtempSync(join(tmpdir(), "alphanet-seeds-bad-"))]);
  assert.equal(r.code, 2, r.err);
  assert.match(r.err.trim(), /^alphanet: configuration: seeds: .*greater than or equal to 1$/);
  assert.equal(validateConfig({ seeds: 3 }).seeds, 3);
  assert.equal(validateConfig({}).seeds, 1);
  assert.equal(validateConfig({}).factor, "raw");
  assert.throws(() => validateConfig({ factor: "both" }), /^UsageError: configuration: factor: .*'raw' \| 'neutral'/);
});
