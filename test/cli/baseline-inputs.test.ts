/**
 * baselineInputs "own": V1 and V3 trained on their own inputs (Huatai's 9 and 15), all of their
 * features, the input set recorded in metrics.json and the saved models, which predict rebuilds.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { alphanet } from "../helpers.js";

test("a run with --baseline-inputs own trains V1 and V3 on their own inputs, records them, and predict rebuilds them", () => {
  const dir = mkdtempSync(join(tmpdir(), "alphanet-own-"));
  const cfg = join(dir, "config.json");
  writeFileSync(cfg, JSON.stringify({
    data: { synthetic: { stocks: 40, start: "2018-06-01", end: "2019-12-31", indexSize: 20, seed: 5 } },
    schedule: { trainStart: "2018-06-01", testStart: "2019-09-01", testEnd: "2019-12-31", retrainMonths: 6 },
    models: ["v1", "v3"], references: false, sampleStep: 10, features: { windows: [5, 10, 20] }, train: { maxEpochs: 1, patience: 1 },
  }));
  const out = join(dir, "run");
  const r = alphanet(["run", "--config", cfg, "--baseline-inputs", "own", "--out", out]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /features of the v1 inputs: 108 per window/);
  assert.match(r.err, /features of the v2 inputs: 270 per window/);
  const metrics = JSON.parse(readFileSync(join(out, "metrics.json"), "utf8"));
  assert.equal(metrics.settings.baselineInputs, "own");
  assert.equal(metrics.models.v1.inputs, "v1");
  assert.equal(metrics.models.v3.inputs, "v2");
  for (const m of ["v1", "v3"]) {
    assert.ok(Number.isFinite(metrics.models[m].ic_mean), m);
    // Huatai's baselines had no Spearman dropout: every feature of their set.
    assert.ok(metrics.models[m].windows.every((w: { kept_features: unknown }) => w.kept_features === null), m);
  }
  assert.equal(metrics.features.input_sets.v1.features, 108);
  assert.equal(metrics.features.input_sets.v2.features, 270);
  for (const [m, set, F] of [["v1", "v1", 108], ["v3", "v2", 270]] as const) {
    const manifest = JSON.parse(readFileSync(join(out, "models", m, "0", "manifest.json"), "utf8"));
    assert.equal(manifest.spec.inputs, set);
    assert.equal(manifest.featureSettings.inputs, set);
    assert.equal(manifest.features, F);
    assert.equal(manifest.featureColumns, null);
    assert.equal(manifest.featureNames[0], "ts_corr(open,high,10)");
    assert.equal(manifest.featureNames.at(-1), set === "v1" ? "ts_decaylinear(free_turn,10)" : "ts_decaylinear(div_vwap_close,10)");
    // Predict into a fresh folder: the features are rebuilt from the manifest's settings, not found in the run's cache.
    const scoresDir = join(dir, `scores-${m}`);
    const p = alphanet(["predict", "--model", join(out, "models", m, "0"), "--config", cfg, "--out", scoresDir]);
    assert.equal(p.code, 0, p.err);
    const scores = readFileSync(join(scoresDir, "scores.csv"), "utf8").trim().split("\n");
    assert.ok(scores.length > 20 && scores[1].startsWith("2019-12-3"), scores.slice(0, 2).join("\n"));
    assert.ok(scores.slice(1).every((l) => Number.isFinite(Number(l.split(",")[2]))));
    assert.ok(existsSync(join(scoresDir, "cache", "features")));
  }
  // A manifest without an input set (written before input sets existed) reads as V4's: 108 columns are then not all of them.
  const old = join(dir, "old-v1");
  mkdirSync(old);
  const manifest = JSON.parse(readFileSync(join(out, "models", "v1", "0", "manifest.json"), "utf8"));
  delete manifest.spec.inputs;
  delete manifest.featureSettings.inputs;
  writeFileSync(join(old, "manifest.json"), JSON.stringify(manifest));
  writeFileSync(join(old, "weights.safetensors"), readFileSync(join(out, "models", "v1", "0", "weights.safetensors")));
  const o = alphanet(["predict", "--model", old, "--config", cfg, "--out", join(dir, "scores-old")]);
  assert.equal(o.code, 2, o.err);
  assert.match(o.err, /manifest\.json: features is 108 with no featureColumns \(all 208 columns\)/);
});
