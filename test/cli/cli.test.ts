/** The command line as a user meets it: bad use, and whole runs on synthetic and real data. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SHARED, alphanet, smallRunConfig } from "../helpers.js";

test("bad use ends with exit code 2 and one line that says what to fix", () => {
  const dir = mkdtempSync(join(tmpdir(), "alphanet-cli-"));
  const cases: [string[], RegExp][] = [
    [["run", "--data", join(dir, "nosuch.csv")], /--data .*nosuch\.csv: no such file/],
    [["run", "--data", join(SHARED, "data/sp500-2013-2018.csv.gz"), "--map", "closing=close"], /--map closing=close: the file has no column "closing"/],
    [["run", "--data", join(SHARED, "data/sp500-2013-2018.csv.gz"), "--test-start", "2019-01-01", "--test-end", "2019-06-30", "--out", dir],
      /schedule: the test window 2019-01-01..2019-06-30 is outside the data/],
    [["run", "--max-epochs", "ten"], /--max-epochs ten: expected a number/],
    [["run", "--nosuchflag"], /Unknown option '--nosuchflag'/],
    [["frobnicate"], /unknown command "frobnicate"/],
  ];
  const typo = join(dir, "typo.yaml");
  writeFileSync(typo, "train:\n  maxEpoch: 3\n");
  cases.push([["run", "--config", typo], /typo\.yaml: train: unknown key\(s\) "maxEpoch"/]);
  const badType = join(dir, "bad.json");
  writeFileSync(badType, JSON.stringify({ horizon: "ten" }));
  cases.push([["run", "--config", badType], /bad\.json: horizon: Expected number, received string/]);
  for (const [args, want] of cases) {
    const r = alphanet(args);
    assert.equal(r.code, 2, `${args.join(" ")}: exit ${r.code}\n${r.err}`);
    // Progress lines may come first; the reason is one line, the last, and no stack trace.
    const lines = r.err.trim().split("\n");
    const last = lines[lines.length - 1];
    assert.match(last, /^alphanet: /);
    assert.match(last, want);
    assert.ok(!/\n\s+at /.test(r.err), `${args.join(" ")}: a stack trace\n${r.err}`);
  }
  for (const cmd of ["demo", "run", "ingest", "features", "train", "predict", "evaluate", "report", "bench"]) {
    const r = alphanet([cmd, "--help"]);
    assert.equal(r.code, 0, cmd);
    assert.match(r.out, /alphanet|options/);
  }
});

function checkOutputs(out: string, models: string[]): Record<string, unknown> {
  for (const f of ["report.html", "metrics.json", "table_1_1_ic.csv", "table_5_2_groups.csv", "table_5_3_enhancement.csv", "ic_series.csv",
    "series_group_nav.csv", "series_enhancement_nav.csv", ...models.map((m) => `factor_${m}.csv`)]) assert.ok(existsSync(join(out, f)), `${f} is written`);
  const metrics = JSON.parse(readFileSync(join(out, "metrics.json"), "utf8"));
  for (const m of models) {
    const mm = metrics.models[m];
    for (const k of ["ic_mean", "ic_std", "ir", "rank_ic_mean", "rank_ic_std", "rank_ir", "long_short_annual", "train_seconds"])
      assert.ok(Number.isFinite(mm[k]), `${m}.${k} = ${mm[k]}`);
    assert.equal(mm.group_annual_excess.length, 5);
    assert.ok(mm.group_annual_excess.every(Number.isFinite));
    assert.ok(Object.values(mm.style_exposure).every((v) => Number.isFinite(v)));
  }
  for (const f of ["table_1_1_ic.csv", "table_5_2_groups.csv"]) {
    const rows = readFileSync(join(out, f), "utf8").trim().split("\n").slice(1);
    for (const r of rows) assert.ok(r.split(",").slice(1).every((c) => c !== "" && c !== "NaN"), `${f}: ${r}`);
  }
  const factor = readFileSync(join(out, `factor_${models[0]}.csv`), "utf8").trim().split("\n");
  assert.equal(factor[0], "date,code,factor");
  assert.ok(factor.length > 100 && factor.slice(1).every((l) => Number.isFinite(Number(l.split(",")[2]))));
  const dq = metrics.data_quality;
  assert.equal(dq.rowsIn, dq.rowsKept + Object.values(dq.rowsDropped as Record<string, number>).reduce((a, b) => a + b, 0));
  return metrics;
}

test("alphanet run on a small synthetic market writes the report, metrics.json and the factors", () => {
  const out = mkdtempSync(join(tmpdir(), "alphanet-run-"));
  const cfg = smallRunConfig(out, { stocks: 60, indexSize: 25, seed: 3, models: ["v1", "v4"], maxEpochs: 1 });
  const r = alphanet(["run", "--config", cfg, "--out", out, "--seed", "1"]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /table 1-1/);
  assert.match(r.out, /report: /);
  const metrics = checkOutputs(out, ["v1", "v4"]);
  const oracle = metrics.oracle as { ic_mean: number };
  assert.ok(Number.isFinite(oracle.ic_mean));
  const enh = (metrics.models as Record<string, { enhancement: { max_constraint_violation: number; by_year: unknown[] } }>).v1.enhancement;
  assert.ok(enh.by_year.length >= 1);
  assert.ok(existsSync(join(out, "models", "v4", "0", "weights.safetensors")) && existsSync(join(out, "models", "v4", "0", "manifest.json")));
  // Daily use: score the last date with the saved model.
  const p = alphanet(["predict", "--model", join(out, "models", "v4", "0"), "--config", cfg, "--out", out]);
  assert.equal(p.code, 0, p.err);
  const scores = readFileSync(join(out, "scores.csv"), "utf8").trim().split("\n");
  assert.ok(scores.length > 20 && scores[1].startsWith("2019-12-3"));
});

test("alphanet run on the real A-share data with a short schedule", () => {
  const out = mkdtempSync(join(tmpdir(), "alphanet-ashare-"));
  const cfg = join(out, "config.json");
  writeFileSync(cfg, JSON.stringify({
    data: { path: join(SHARED, "data/ashare-2017-2019.csv.gz"),
      instruments: { path: join(SHARED, "data/ashare-2017-2019-stocks.csv"), map: { total_shares_10k: "total_shares" }, scale: { total_shares: 1e4 } } },
    schedule: { trainStart: "2017-06-01", testStart: "2019-06-01", testEnd: "2019-11-15", retrainMonths: 6 },
    models: ["v1"], sampleStep: 10, features: { windows: [5, 10, 20] }, train: { maxEpochs: 1, patience: 1 },
  }));
  const r = alphanet(["run", "--config", cfg, "--out", out]);
  assert.equal(r.code, 0, r.err);
  const metrics = checkOutputs(out, ["v1"]);
  assert.equal(metrics.oracle, null);
  assert.equal((metrics.models as Record<string, { enhancement: unknown }>).v1.enhancement, null, "no index weights in this data");
});
