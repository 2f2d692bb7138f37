/**
 * The stages' imports (DESIGN.md section 2), read from the sources: a stage imports its own files
 * and lower stages only, the stages that compute without tensors never import the engine, the
 * models or training, and no file imports itself through others.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { ROOT } from "./helpers.js";

/** Each stage's level, low to high; stages of one level may import each other. */
const LEVEL: Record<string, number> = { engine: 0, data: 0, features: 1, risk: 1, models: 1, dataset: 2, evaluate: 3, train: 4, report: 5, run: 6, cli: 7 };
/** Pure TypeScript: importing them must not load libtorch (test/engine/lazy-load.test.ts runs them). */
const PURE = ["data", "risk", "dataset", "evaluate", "report", "features"];
const TENSORS = ["engine", "models", "train"];

/** Every relative import of every file under src (static, `export ... from` and dynamic), as paths from src. */
function importGraph(): Map<string, string[]> {
  const src = join(ROOT, "src");
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.endsWith(".ts")) files.push(join(d, e.name));
    }
  };
  walk(src);
  const spec = /(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s+"(\.[^"]+)"|import\(\s*"(\.[^"]+)"\s*\)/g;
  return new Map(files.map((f) => [relative(src, f), [...readFileSync(f, "utf8").matchAll(spec)]
    .map((m) => relative(src, resolve(dirname(f), (m[1] ?? m[2]).replace(/\.js$/, ".ts"))))]));
}

const stageOf = (file: string): string => file.split("/")[0];

test("each stage imports only its own and lower stages; data, features, risk, dataset, evaluate and report never import engine, models or train", () => {
  const graph = importGraph();
  assert.ok(graph.size > 50 && [...graph.values()].flat().length > 100, "the sources and their imports were read");
  const wrong: string[] = [];
  for (const [file, deps] of graph) {
    const from = stageOf(file);
    assert.ok(from in LEVEL, `${file}: a stage without a level`);
    for (const dep of deps) {
      const to = stageOf(dep);
      if (!(to in LEVEL)) wrong.push(`${file} imports ${dep}, outside the stages`);
      else if (LEVEL[to] > LEVEL[from]) wrong.push(`${file} (${from}) imports ${dep} of the higher stage ${to}`);
      if (PURE.includes(from) && TENSORS.includes(to)) wrong.push(`${file} (${from}, pure) imports ${dep} (${to})`);
    }
  }
  assert.deepEqual(wrong, []);
});

test("no import cycle between files", () => {
  const graph = importGraph();
  // Depth-first search; a dependency on the current path closes a cycle.
  const done = new Set<string>(), path: string[] = [], cycles: string[] = [];
  const visit = (f: string): void => {
    if (done.has(f)) return;
    const at = path.indexOf(f);
    if (at >= 0) return void cycles.push([...path.slice(at), f].join(" -> "));
    path.push(f);
    for (const dep of graph.get(f) ?? []) visit(dep);
    path.pop();
    done.add(f);
  };
  for (const f of graph.keys()) visit(f);
  assert.deepEqual(cycles, []);
});
