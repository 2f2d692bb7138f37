/**
 * Qlib's data directory: `calendars/day.txt` (one date a line), `instruments/<name>.txt`
 * (code TAB start TAB end, a line per membership span), `features/<code>/<field>.day.bin`
 * (little-endian float32; element 0 is the index of the first value in the calendar).
 *
 * alphanet adds two side files that Qlib ignores: `instruments/industry.txt` (code TAB industry)
 * and index weights as the feature `<index>_weight`.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FIELD_NAMES, FLAG_NAMES, type FieldName, type FlagName, type Panel, emptyField, looksLikeAshare } from "./panel.js";
import { DataError, type QualityReport, newQualityReport } from "./quality.js";

function spans(mask: (d: number) => boolean, D: number): [number, number][] {
  const out: [number, number][] = [];
  let start = -1;
  for (let d = 0; d <= D; d++) {
    const on = d < D && mask(d);
    if (on && start < 0) start = d;
    if (!on && start >= 0) {
      out.push([start, d - 1]);
      start = -1;
    }
  }
  return out;
}

/** Writes a Panel as a Qlib data directory (atomically: a half-written directory never has the name). */
export function writeQlib(p: Panel, dir: string): void {
  const D = p.calendar.length;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, "calendars"), { recursive: true });
  mkdirSync(join(tmp, "instruments"), { recursive: true });
  writeFileSync(join(tmp, "calendars", "day.txt"), p.calendar.join("\n") + "\n");
  const close = p.fields.close!;
  const all: string[] = [];
  const industry: string[] = [];
  p.stocks.forEach((code, s) => {
    const listed = spans((d) => Number.isFinite(close[s * D + d]), D);
    if (!listed.length) return;
    const a = listed[0][0];
    const b = listed[listed.length - 1][1];
    all.push(`${code}\t${p.calendar[a]}\t${p.calendar[b]}`);
    if (p.industry[s] !== null) industry.push(`${code}\t${p.industry[s]}`);
    const fdir = join(tmp, "features", code.toLowerCase());
    mkdirSync(fdir, { recursive: true });
    // Qlib's bins hold float32 only: flags are written as 0/1.
    const write = (name: string, f: Float64Array | Uint8Array): void => {
      const buf = new Float32Array(b - a + 2);
      buf[0] = a;
      for (let d = a; d <= b; d++) buf[d - a + 1] = f[s * D + d];
      writeFileSync(join(fdir, `${name}.day.bin`), new Uint8Array(buf.buffer));
    };
    for (const [name, f] of [...Object.entries(p.fields), ...Object.entries(p.flags)]) if (f) write(name, f);
    for (const [idx, w] of Object.entries(p.indexWeights)) write(`${idx}_weight`, w);
  });
  writeFileSync(join(tmp, "instruments", "all.txt"), all.join("\n") + "\n");
  if (industry.length) writeFileSync(join(tmp, "instruments", "industry.txt"), industry.join("\n") + "\n");
  for (const [idx, w] of Object.entries(p.indexWeights)) {
    const lines = p.stocks.flatMap((code, s) => spans((d) => w[s * D + d] > 0, D)
      .map(([a, b]) => `${code}\t${p.calendar[a]}\t${p.calendar[b]}`));
    writeFileSync(join(tmp, "instruments", `${idx}.txt`), lines.join("\n") + "\n");
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
}

/** Reads a Qlib data directory into a Panel. Bad files stop with an error that names them. */
export function loadQlib(dir: string, { priceBasis = "as stored in the Qlib directory" } = {}):
  { panel: Panel; quality: QualityReport } {
  const calPath = join(dir, "calendars", "day.txt");
  if (!existsSync(calPath)) throw new DataError(calPath, "no such file: a Qlib directory needs calendars/day.txt");
  const calendar = readFileSync(calPath, "utf8").split(/\r?\n/).map((l) => l.trim()).filter(Boolean).map((l) => l.slice(0, 10));
  calendar.forEach((d, i) => {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(d)) throw new DataError(calPath, `cannot parse date "${d}": expected YYYY-MM-DD`, i + 1);
  });
  const D = calendar.length;
  const featDir = join(dir, "features");
  if (!existsSync(featDir)) throw new DataError(featDir, "no such folder: a Qlib directory needs features/");
  const instPath = join(dir, "instruments", "all.txt");
  const listed = existsSync(instPath)
    ? readFileSync(instPath, "utf8").split(/\r?\n/).filter(Boolean).map((l) => l.split("\t")[0])
    : readdirSync(featDir).map((c) => c.toUpperCase());
  const stocks = [...new Set(listed)].sort();
  const S = stocks.length;
  const fields: Partial<Record<FieldName, Float64Array>> = {};
  const flags: Partial<Record<FlagName, Uint8Array>> = {};
  const indexWeights: Record<string, Float64Array> = {};
  stocks.forEach((code, s) => {
    const fdir = join(featDir, code.toLowerCase());
    if (!existsSync(fdir)) return;
    for (const file of readdirSync(fdir)) {
      if (!file.endsWith(".day.bin")) continue;
      const name = file.slice(0, -".day.bin".length);
      const path = join(fdir, file);
      const bytes = readFileSync(path);
      if (bytes.length % 4 !== 0 || bytes.length < 4)
        throw new DataError(path, `${bytes.length} bytes: a .day.bin file holds float32 values, so its length must be a positive multiple of 4`);
      const v = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
      const start = v[0];
      if (!Number.isInteger(start) || start < 0 || start + v.length - 1 > D)
        throw new DataError(path, `starts at calendar index ${start} with ${v.length - 1} values, past the calendar's ${D} dates`);
      const target = name.endsWith("_weight") ? (indexWeights[name.slice(0, -7)] ??= emptyField(S, D, 0))
        : FIELD_NAMES.includes(name as FieldName) ? (fields[name as FieldName] ??= emptyField(S, D))
        : FLAG_NAMES.includes(name as FlagName) ? (flags[name as FlagName] ??= new Uint8Array(S * D)) : null;
      if (!target) continue;
      // A flag is true where its value is non-zero (NaN: no bar, false).
      if (target instanceof Uint8Array) for (let i = 1; i < v.length; i++) target[s * D + start + i - 1] = v[i] !== 0 && v[i] === v[i] ? 1 : 0;
      else for (let i = 1; i < v.length; i++) target[s * D + start + i - 1] = v[i];
    }
  });
  if (!fields.close) throw new DataError(featDir, "no close.day.bin in any instrument");
  const indPath = join(dir, "instruments", "industry.txt");
  const indMap = new Map(existsSync(indPath)
    ? readFileSync(indPath, "utf8").split(/\r?\n/).filter(Boolean).map((l) => l.split("\t") as [string, string]) : []);
  const panel: Panel = {
    calendar, stocks, fields, flags, industry: stocks.map((c) => indMap.get(c) ?? null), listDate: stocks.map(() => null),
    indexWeights, priceBasis, market: looksLikeAshare(stocks) ? "cn" : "other",
  };
  const quality = newQualityReport(dir);
  let cells = 0;
  for (let k = 0; k < S * D; k++) if (Number.isFinite(fields.close[k])) cells++;
  quality.rowsIn = quality.rowsKept = cells;
  quality.priceBasis = priceBasis;
  quality.stocks = S;
  quality.dates = D;
  return { panel, quality };
}
