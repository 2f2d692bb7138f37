import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DataError, loadQlib, syntheticMarket, writeQlib } from "../../src/data/index.js";

test("a Qlib directory written from a Panel reads back identical (at float32, Qlib's precision)", () => {
  const m = syntheticMarket({ stocks: 15, start: "2019-01-01", end: "2019-06-30", seed: 11 });
  const p = m.panel;
  for (const f of Object.values(p.fields)) if (f) for (let k = 0; k < f.length; k++) f[k] = Math.fround(f[k]);
  for (const w of Object.values(p.indexWeights)) for (let k = 0; k < w.length; k++) w[k] = Math.fround(w[k]);
  const dir = join(mkdtempSync(join(tmpdir(), "alphanet-qlib-")), "qlib");
  writeQlib(p, dir);
  const { panel: q } = loadQlib(dir);
  assert.deepEqual(q.calendar, p.calendar);
  assert.deepEqual(q.stocks, p.stocks);
  assert.deepEqual(q.industry, p.industry);
  const D = p.calendar.length;
  for (const [name, f] of Object.entries(p.fields)) {
    const g = q.fields[name as keyof typeof q.fields]!;
    assert.ok(g, name);
    // Only a stock's listed span is stored, as Qlib does; outside it both are missing.
    for (let s = 0; s < p.stocks.length; s++) for (let d = 0; d < D; d++) {
      const k = s * D + d;
      if (!Number.isFinite(p.fields.close![k])) continue;
      assert.ok(Object.is(g[k], f![k]) || (Number.isNaN(g[k]) && Number.isNaN(f![k])), `${name} ${p.stocks[s]} ${p.calendar[d]}`);
    }
  }
  // Flags travel as float32 0/1 and come back as the same bytes (every flag set somewhere).
  for (const [name, f] of Object.entries(p.flags)) {
    assert.ok(f!.some((x) => x === 1), name);
    assert.deepEqual(q.flags[name as keyof typeof q.flags], f, name);
  }
  assert.deepEqual([...q.indexWeights.csi500], [...p.indexWeights.csi500]);
});

test("a .day.bin of a bad length is rejected with the file's name", () => {
  const m = syntheticMarket({ stocks: 3, start: "2019-01-01", end: "2019-02-28", seed: 2 });
  const dir = join(mkdtempSync(join(tmpdir(), "alphanet-qlib-")), "qlib");
  writeQlib(m.panel, dir);
  const D = m.panel.calendar.length;
  const listed = m.panel.stocks.find((_, s) => Number.isFinite(m.panel.fields.close![s * D + D - 1]))!;
  const bad = join(dir, "features", listed.toLowerCase(), "close.day.bin");
  writeFileSync(bad, Buffer.alloc(10));
  assert.throws(() => loadQlib(dir), (e: Error) => e instanceof DataError && e.message.includes("close.day.bin") && /multiple of 4/.test(e.message));
  assert.throws(() => loadQlib(join(dir, "nosuch")), /calendars\/day\.txt: no such file/);
});
