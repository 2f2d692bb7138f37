/**
 * libtorch is loaded on first use of a tensor, not on import: the stages that never compute with
 * tensors (data, risk, dataset, evaluate, report), a constant of train or models, and the commands
 * that need none (`alphanet evaluate`, `alphanet ingest`) run without it. Each check runs in a child
 * process that records what process.dlopen loads.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { syntheticMarket } from "../../src/data/index.js";
import { ROOT, alphanet, writeBars } from "../helpers.js";

const ADDON = "alphanet_native.node";

/** Wraps process.dlopen so that every native library the process loads is listed in globalThis.loaded. */
const RECORD_DLOPEN = `
globalThis.loaded = [];
const dlopen = process.dlopen;
process.dlopen = function (module, file, ...rest) { globalThis.loaded.push(file); return dlopen.call(this, module, file, ...rest); };
`;

/** Runs an ES module's text in a child node; returns its stdout (it fails the test on a non-zero exit). */
function child(code: string): string {
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", RECORD_DLOPEN + code], { encoding: "utf8", cwd: ROOT, timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

const url = (path: string): string => pathToFileURL(join(ROOT, "dist/src", path)).href;

test("importing data, risk, dataset, evaluate, report, or train and models for a constant, does not load libtorch; a tensor does", () => {
  const stages = ["data", "risk", "dataset", "evaluate", "report", "features"];
  const out = JSON.parse(child(`
    ${stages.map((s) => `await import(${JSON.stringify(url(`${s}/index.js`))});`).join("\n")}
    const { DEFAULT_TRAIN } = await import(${JSON.stringify(url("train/index.js"))});
    const { ALPHANET_V4_DEFAULTS } = await import(${JSON.stringify(url("models/index.js"))});
    const constants = DEFAULT_TRAIN.maxEpochs + ALPHANET_V4_DEFAULTS.seqLen;
    const stagesLoaded = [...globalThis.loaded];
    const engine = await import(${JSON.stringify(url("engine/index.js"))});
    const engineLoaded = [...globalThis.loaded];
    const sum = engine.tensor(Float32Array.from([1, 2, 3])).sum().item();
    console.log(JSON.stringify({ constants, stagesLoaded, engineLoaded, tensorLoaded: globalThis.loaded, sum }));
  `));
  assert.equal(out.constants, 90 + 20);
  assert.ok(!out.stagesLoaded.some((f: string) => f.endsWith(ADDON)), `loaded: ${out.stagesLoaded.join(", ")}`);
  assert.ok(!out.engineLoaded.some((f: string) => f.endsWith(ADDON)), `the engine's import loaded: ${out.engineLoaded.join(", ")}`);
  // The recording sees the addon when it is loaded (else the checks above could not fail).
  assert.ok(out.tensorLoaded.some((f: string) => f.endsWith(ADDON)), `a tensor loaded: ${out.tensorLoaded.join(", ")}`);
  assert.equal(out.sum, 6);
});

test("alphanet evaluate and alphanet ingest run without loading libtorch", () => {
  const dir = mkdtempSync(join(tmpdir(), "alphanet-lazy-load-"));
  const m = syntheticMarket({ seed: 3, stocks: 20, start: "2019-01-01", end: "2019-06-30", industries: 3, indexSize: 10, targetIC: 0.1, horizon: 10 });
  const p = m.panel, S = p.stocks.length, D = p.calendar.length;
  const bars = writeBars(p, join(dir, "bars.csv"));
  const factor = join(dir, "factor.csv");
  const rows = ["date,code,factor"];
  for (let d = 0; d < D; d++) for (let s = 0; s < S; s++) if (Number.isFinite(m.oracle.at(s, d))) rows.push(`${p.calendar[d]},${p.stocks[s]},${m.oracle.at(s, d)}`);
  writeFileSync(factor, rows.join("\n") + "\n");
  // A module preloaded into the command (NODE_OPTIONS --import) appends each library it loads to a file.
  const preload = join(dir, "record-dlopen.mjs");
  writeFileSync(preload, `import { appendFileSync } from "node:fs";
const dlopen = process.dlopen;
process.dlopen = function (module, file, ...rest) {
  appendFileSync(process.env.ALPHANET_DLOPEN_LOG, file + "\\n");
  return dlopen.call(this, module, file, ...rest);
};
`);
  for (const [name, args] of [
    ["evaluate", ["evaluate", "--factor", factor, "--data", bars]],
    ["ingest", ["ingest", "--data", bars, "--out", join(dir, "ingest")]],
  ] as const) {
    const log = join(dir, `${name}.log`);
    writeFileSync(log, "");
    const r = alphanet([...args], 300_000, { NODE_OPTIONS: `--import ${pathToFileURL(preload).href}`, ALPHANET_DLOPEN_LOG: log });
    assert.equal(r.code, 0, r.err);
    const loaded = readFileSync(log, "utf8").split("\n").filter(Boolean);
    // It did record: the data stage reads through DuckDB's native library.
    assert.ok(loaded.some((f) => f.endsWith("duckdb.node")), `${name} loaded: ${loaded.join(", ")}`);
    assert.ok(!loaded.some((f) => f.endsWith(ADDON)), `${name} loaded ${loaded.join(", ")}`);
  }
});
