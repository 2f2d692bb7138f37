#!/usr/bin/env node
/**
 * Compares two runs' metrics.json key by key: `node scripts/compare-metrics.mjs A.json B.json`.
 * Prints each leaf that changed or is missing from B (its dotted path and both values), and the keys
 * only B has, folded by path (`--allow-added`: those alone do not fail). Exits 1 when any leaf differs,
 * 0 when the two agree on everything but the ignored keys:
 *   - `seconds`, `train_seconds` and any `*_seconds`, at any depth: wall-clock timings (the run's,
 *     each model's training, each window's and refit's), which vary from run to run;
 *   - `settings.out`: the output folder the run was given, which two runs to compare differ in.
 * Numbers are compared exactly (the same seed and settings replay the same arithmetic).
 */
import { readFileSync } from "node:fs";

const args = process.argv.slice(2);
const allowAdded = args.includes("--allow-added");
const [a, b] = args.filter((x) => x !== "--allow-added");
if (!a || !b) {
  console.error("usage: node scripts/compare-metrics.mjs [--allow-added] A.json B.json");
  process.exit(2);
}
const ignored = (path) => /(^|\.)(seconds|[a-z_]*_seconds)$/.test(path) || path === "settings.out";

const leaves = (x, path, out) => {
  if (x && typeof x === "object") {
    const entries = Array.isArray(x) ? x.map((v, i) => [String(i), v]) : Object.entries(x);
    if (entries.length === 0) out.set(path, JSON.stringify(x));
    for (const [k, v] of entries) leaves(v, path ? `${path}.${k}` : k, out);
  } else {
    out.set(path, JSON.stringify(x));
  }
  return out;
};

const [la, lb] = [a, b].map((f) => leaves(JSON.parse(readFileSync(f, "utf8")), "", new Map()));
let differ = 0, skipped = 0, same = 0;
// Keys only B has, by their path with array indices folded (a new series is one line, not one per value).
const added = new Map();
for (const k of [...new Set([...la.keys(), ...lb.keys()])].sort()) {
  if (ignored(k)) { skipped++; continue; }
  if (la.get(k) === lb.get(k)) { same++; continue; }
  if (!la.has(k)) {
    const shape = k.replace(/\.\d+(?=\.|$)/g, ".#");
    added.set(shape, (added.get(shape) ?? 0) + 1);
    continue;
  }
  differ++;
  console.log(`${k}: ${la.get(k)} vs ${lb.get(k) ?? "(absent)"}`);
}
for (const [shape, n] of added) console.log(`added: ${shape}${n > 1 ? ` (${n} values)` : ""}`);
const nAdded = [...added.values()].reduce((x, y) => x + y, 0);
console.log(`${same} keys equal, ${differ} changed or removed, ${nAdded} added, ${skipped} ignored (timings, settings.out)`);
process.exit(differ || (nAdded && !allowAdded) ? 1 : 0);
