import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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

// A small Qlib directory to damage: 5 stocks over 60 dates, every field over each stock's whole span,
// and two dates of SZ001973 without a bar (NaN close inside the span, as Qlib writes a gap).
function smallQlib(): { p: ReturnType<typeof syntheticMarket>["panel"]; dir: string; D: number; bin: (code: string, field: string) => string } {
  const p = syntheticMarket({ stocks: 5, start: "2019-01-01", end: "2019-03-31", seed: 3 }).panel;
  const D = p.calendar.length;
  const s = p.stocks.indexOf("SZ001973");
  p.fields.close![s * D + 10] = NaN;
  p.fields.close![s * D + 11] = NaN;
  const dir = join(mkdtempSync(join(tmpdir(), "alphanet-qlib-")), "qlib");
  writeQlib(p, dir);
  return { p, dir, D, bin: (code, field) => join(dir, "features", code.toLowerCase(), `${field}.day.bin`) };
}
const readBin = (path: string): Float32Array => { const b = readFileSync(path); return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length)); };
const writeBin = (path: string, v: Float32Array): void => writeFileSync(path, new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
const finite = (v: ArrayLike<number>): number => Array.from(v).filter(Number.isFinite).length;
const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);
/** The DataError thrown, asserted to name `file` (and `line`, `column` where given). */
function dataError(f: () => unknown, file: string, line?: number, column?: string): DataError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof DataError, String(e));
    assert.equal(e.file, file);
    assert.equal(e.line, line);
    assert.equal(e.column, column);
    return e;
  }
  assert.fail("no DataError");
}

test("an undamaged Qlib directory: every close a bar kept, the NaN closes inside a span counted as gaps", () => {
  const { p, dir, D } = smallQlib();
  const { quality: q } = loadQlib(dir);
  // Independently: each stock's span runs from its first to its last finite close.
  let bars = 0;
  let gaps = 0;
  p.stocks.forEach((_, s) => {
    const row = p.fields.close!.subarray(s * D, (s + 1) * D);
    const idx = [...row.keys()].filter((d) => Number.isFinite(row[d]));
    bars += idx.length;
    gaps += idx[idx.length - 1] - idx[0] + 1 - idx.length;
  });
  assert.equal(gaps, 2);
  assert.equal(q.rowsIn, bars);
  assert.equal(q.rowsKept, bars);
  assert.deepEqual(q.rowsDropped, {});
  assert.deepEqual(q.cells, { gap: 2 });
  assert.deepEqual(q.examples.gap, [`SZ001973 ${p.calendar[10]}`, `SZ001973 ${p.calendar[11]}`]);
});

test("a .day.bin cut short by whole values: each span cell it no longer covers counted as short_bin, the file named", () => {
  const { p, dir, D, bin } = smallQlib();
  const before = loadQlib(dir).quality;
  // close of one stock loses its last 7 values; volume of another its last 3 (its fields now disagree).
  const cuts: [string, string, number][] = [["SH609948", "close", 7], ["SZ004101", "volume", 3]];
  let removedBars = 0;
  for (const [code, field, k] of cuts) {
    const v = readBin(bin(code, field));
    if (field === "close") removedBars += finite(v.subarray(v.length - k));
    writeFileSync(bin(code, field), readFileSync(bin(code, field)).subarray(0, 4 * (v.length - k)));
  }
  const { panel, quality: q } = loadQlib(dir);
  assert.equal(q.cells.short_bin, 7 + 3);
  assert.equal(q.rowsKept, before.rowsKept - removedBars);
  assert.equal(q.rowsIn, q.rowsKept + sum(q.rowsDropped));
  for (const [code, field, k] of cuts) {
    const ex = q.examples.short_bin.find((e) => e.startsWith(join("features", code.toLowerCase(), `${field}.day.bin`)));
    assert.ok(ex, `${code} ${field} named in ${q.examples.short_bin}`);
    assert.match(ex, new RegExp(`^\\S+: ${k} of the span's ${D} dates have no value \\(${p.calendar[D - k]} to ${p.calendar[D - 1]}\\): the file ends early`));
  }
  assert.ok(q.notes.some((n) => n.startsWith("2 .day.bin files are shorter than the instrument's span: 10 cells have no value")), q.notes.join("; "));
  // The cut dates are missing in that field only; the stock's other fields keep their values there.
  const s = panel.stocks.indexOf("SH609948");
  for (let d = D - 7; d < D; d++) {
    assert.ok(Number.isNaN(panel.fields.close![s * D + d]));
    assert.equal(panel.fields.open![s * D + d], Math.fround(p.fields.open![s * D + d]));
  }
});

test("a .day.bin that starts late (its start index moved past the span's first date) counts the cells before it", () => {
  const { p, dir, D, bin } = smallQlib();
  const v = readBin(bin("SH609364", "open"));
  const late = new Float32Array(v.length - 5);
  late[0] = v[0] + 5;
  late.set(v.subarray(6), 1);
  writeBin(bin("SH609364", "open"), late);
  const { quality: q } = loadQlib(dir);
  assert.equal(q.cells.short_bin, 5);
  assert.deepEqual(q.examples.short_bin, [`${join("features", "sh609364", "open.day.bin")}: 5 of the span's ${D} dates have no value (${p.calendar[0]} to ${p.calendar[4]}): the file starts late`]);
});

test("a .day.bin cut mid-value, or whose start index is not in the calendar, stops naming the file", () => {
  const { dir, D, bin } = smallQlib();
  const path = bin("SZ006439", "high");
  const v = readBin(path);
  const good = readFileSync(path);
  writeFileSync(path, good.subarray(0, good.length - 2));
  assert.match(dataError(() => loadQlib(dir), path).reason, /multiple of 4 \(2 stray bytes: cut in the middle of a value\)/);
  for (const start of [D + 5, -1, 2.5]) {
    v[0] = start;
    writeBin(path, v);
    assert.match(dataError(() => loadQlib(dir), path).reason, new RegExp(`starts at calendar index ${start}, which is not an index into the calendar's ${D} dates`));
  }
  // Longer than the calendar: the values would run past its last date.
  v[0] = 3;
  writeBin(path, v);
  assert.match(dataError(() => loadQlib(dir), path).reason, /run 3 dates past the calendar's last date/);
});

test("a .day.bin longer than its instrument's span: the values outside it are not loaded, and counted", () => {
  const { p, dir, D } = smallQlib();
  const before = loadQlib(dir).quality;
  // SZ004101's span now ends 4 dates before its files do.
  const inst = join(dir, "instruments", "all.txt");
  writeFileSync(inst, readFileSync(inst, "utf8").replace(/^(SZ004101\t\S+\t)\S+$/m, `$1${p.calendar[D - 5]}`));
  const { panel, quality: q } = loadQlib(dir);
  const s = p.stocks.indexOf("SZ004101");
  let values = 0;
  for (const f of [...Object.values(p.fields), ...Object.values(p.flags), ...Object.values(p.indexWeights)])
    for (let d = D - 4; d < D; d++) if (!Number.isNaN(f![s * D + d])) values++;
  const bars = finite(p.fields.close!.subarray(s * D + D - 4, s * D + D));
  assert.equal(bars, 4);
  assert.equal(q.rowsIn, before.rowsIn);
  assert.deepEqual(q.rowsDropped, { outside_span: bars });
  assert.equal(q.rowsKept, before.rowsKept - bars);
  assert.equal(q.cells.outside_span, values);
  assert.equal(q.examples.outside_span[0], `${join("features", "sz004101", "close.day.bin")}: a close on ${p.calendar[D - 4]}, outside SZ004101's span in instruments/all.txt`);
  assert.ok(Number.isNaN(panel.fields.close![s * D + D - 1]));
});

test("a listed stock without a features folder, a folder no instrument lists, a missing field file: each counted and named", () => {
  const { p, dir, D, bin } = smallQlib();
  const before = loadQlib(dir).quality;
  rmSync(join(dir, "features", "sh609948"), { recursive: true });
  const inst = join(dir, "instruments", "all.txt");
  const lines = readFileSync(inst, "utf8").split("\n");
  const unlistedLine = lines.findIndex((l) => l.startsWith("SZ006439\t"));
  writeFileSync(inst, lines.filter((_, i) => i !== unlistedLine).join("\n"));
  rmSync(bin("SH609364", "volume"));
  const unlistedBars = finite(readBin(bin("SZ006439", "close")).subarray(1));
  const gone = finite(p.fields.close!.subarray(p.stocks.indexOf("SH609948") * D, (p.stocks.indexOf("SH609948") + 1) * D));
  const { panel, quality: q } = loadQlib(dir);
  assert.deepEqual(panel.stocks, ["SH609364", "SZ001973", "SZ004101"]);
  assert.equal(q.cells.no_features, D);
  assert.equal(q.examples.no_features[0], `features/sh609948/: no such folder for SH609948 (instruments/all.txt line ${p.stocks.indexOf("SH609948") + 1}; ${D} dates of its span)`);
  assert.deepEqual(q.rowsDropped, { not_in_instruments: unlistedBars });
  assert.deepEqual(q.examples.not_in_instruments, [`features/sz006439/: no line in instruments/all.txt; not loaded (${unlistedBars} bars)`]);
  assert.equal(q.rowsIn, before.rowsIn - gone);
  assert.equal(q.rowsKept, before.rowsKept - gone - unlistedBars);
  assert.equal(q.cells.missing_bin, D);
  assert.match(q.examples.missing_bin[0], /^features\/sh609364\/volume\.day\.bin: no such file, though other stocks have volume/);
});

test("instruments and calendar lines that do not parse stop with the file and its physical line", () => {
  const { dir, D } = smallQlib();
  const inst = join(dir, "instruments", "all.txt");
  const good = readFileSync(inst, "utf8");
  writeFileSync(inst, good.replace(/\n/, "\n\nSH600000 2019-01-02 2019-03-29\n"));
  assert.match(dataError(() => loadQlib(dir), inst, 3).reason, /expected code<TAB>start<TAB>end, found "SH600000 2019-01-02 2019-03-29"/);
  writeFileSync(inst, `${good}SH600000\t2019-13-02\t2019-03-29\n`);
  assert.match(dataError(() => loadQlib(dir), inst, 6, "start").reason, /cannot parse "2019-13-02" as a date/);
  writeFileSync(inst, `${good}SH600000\t2019-03-02\t2019-01-29\n`);
  dataError(() => loadQlib(dir), inst, 6, "end");
  writeFileSync(inst, good);

  const cal = join(dir, "calendars", "day.txt");
  const days = readFileSync(cal, "utf8").trimEnd().split("\n");
  assert.equal(days.length, D);
  for (const [bad, reason] of [["2019-02-30", /cannot parse "2019-02-30" as a date/], ["close", /cannot parse "close" as a date/],
    [days[3], /does not come after .* \(line 5\): the calendar must increase/]] as const) {
    // A blank line before the bad one: the line named is still the file's own.
    const edited = [...days.slice(0, 5), "", bad, ...days.slice(6)];
    writeFileSync(cal, edited.join("\r\n") + "\r\n");
    assert.match(dataError(() => loadQlib(dir), cal, 7).reason, reason);
  }
  // With a blank line and CRLF but good dates the calendar reads as before.
  writeFileSync(cal, [...days.slice(0, 5), "", ...days.slice(5)].join("\r\n") + "\r\n");
  assert.deepEqual(loadQlib(dir).panel.calendar, days);
});
