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
import { FIELD_NAMES, FLAG_NAMES, type FieldName, type FlagName, type Panel, emptyField } from "./panel.js";
import { marketOfCodes } from "./presets.js";
import { DataError, type QualityReport, checkAccounting, count, example, newQualityReport } from "./quality.js";

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

/** A file's lines as the file has them (1-based physical numbering: the index + 1), CRLF or LF. */
function physicalLines(path: string): string[] {
  const lines = readFileSync(path, "utf8").replace(/^\uFEFF/, "").split(/\r?\n/);
  if (lines.length && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** YYYY-MM-DD (a time of day after it, as pandas writes, is allowed and dropped) of a real date, else null. */
function parseDay(s: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$/.exec(s);
  if (!m) return null;
  const [y, mo, d] = [+m[1], +m[2], +m[3]];
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d ? `${m[1]}-${m[2]}-${m[3]}` : null;
}

/** The calendar: every non-blank line a date, strictly increasing; an error names the line. */
function readCalendar(path: string): string[] {
  const calendar: string[] = [];
  let prevLine = 0;
  physicalLines(path).forEach((raw, i) => {
    const text = raw.trim();
    if (!text) return;
    const day = parseDay(text);
    if (!day) throw new DataError(path, `cannot parse "${text}" as a date: expected YYYY-MM-DD`, i + 1);
    const prev = calendar[calendar.length - 1];
    if (prev !== undefined && day <= prev)
      throw new DataError(path, `${day} does not come after ${prev} (line ${prevLine}): the calendar must increase, without repeats`, i + 1);
    calendar.push(day);
    prevLine = i + 1;
  });
  if (!calendar.length) throw new DataError(path, "no dates: a Qlib calendar has one trading date a line");
  return calendar;
}

/** instruments/all.txt: code TAB start TAB end a line; a code may have several spans. */
function readInstruments(path: string): Map<string, { spans: [string, string][]; line: number }> {
  const out = new Map<string, { spans: [string, string][]; line: number }>();
  physicalLines(path).forEach((raw, i) => {
    if (!raw.trim()) return;
    const parts = raw.replace(/\s+$/, "").split("\t");
    if (parts.length !== 3 || !parts[0].trim())
      throw new DataError(path, `expected code<TAB>start<TAB>end, found "${raw}"`, i + 1);
    const code = parts[0].trim();
    const [start, end] = [parseDay(parts[1].trim()), parseDay(parts[2].trim())];
    if (!start) throw new DataError(path, `cannot parse "${parts[1]}" as a date: expected YYYY-MM-DD`, i + 1, "start");
    if (!end) throw new DataError(path, `cannot parse "${parts[2]}" as a date: expected YYYY-MM-DD`, i + 1, "end");
    if (end < start) throw new DataError(path, `the span ends (${end}) before it starts (${start})`, i + 1, "end");
    const entry = out.get(code);
    if (entry) entry.spans.push([start, end]);
    else out.set(code, { spans: [[start, end]], line: i + 1 });
  });
  return out;
}

interface Bin { name: string; path: string; rel: string; start: number; values: Float32Array }

/** One .day.bin: a whole number of float32 values, the first an index into the calendar, the values inside it. */
function readBin(path: string, rel: string, name: string, D: number): Bin {
  const bytes = readFileSync(path);
  if (bytes.length % 4 !== 0 || bytes.length < 4)
    throw new DataError(path, `${bytes.length} bytes: a .day.bin file holds float32 values, so its length must be a positive multiple of 4 ` +
      `(${bytes.length < 4 ? "it has no start index" : `${bytes.length % 4} stray bytes: cut in the middle of a value`})`);
  // A view where the bytes are aligned (readFileSync's own buffer), a copy otherwise.
  const v = bytes.byteOffset % 4 === 0 ? new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4)
    : new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  const start = v[0];
  const n = v.length - 1;
  if (!Number.isInteger(start) || start < 0 || start >= D)
    throw new DataError(path, `starts at calendar index ${start}, which is not an index into the calendar's ${D} dates (0 to ${D - 1})`);
  if (start + n > D)
    throw new DataError(path, `${n} values from calendar index ${start} run ${start + n - D} dates past the calendar's last date (${D} dates)`);
  return { name, path, rel, start, values: v.subarray(1) };
}

/**
 * Reads a Qlib data directory into a Panel, and the quality report that accounts for it. Bad files
 * (a calendar or instruments line that does not parse, a .day.bin cut mid-value, a start index
 * outside the calendar, values past its end) stop with an error naming them.
 *
 * The accounting: a row is a bar, a finite value of a close.day.bin; rowsIn counts every one in
 * features/, rowsKept those inside their instrument's span (instruments/all.txt), and rowsDropped
 * those outside it (`outside_span`: Qlib ignores them too) or in a folder no instrument names
 * (`not_in_instruments`). Every cell of a span is a bar, a `gap` (the close is NaN there) or, for each
 * field file, counted: `short_bin` (the file starts after or ends before the span), `missing_bin`
 * (the stock lacks a field other stocks have), `no_features` (a listed stock without a folder);
 * `outside_span` cells are values of any field outside the span, not loaded.
 */
export function loadQlib(dir: string, { priceBasis = "as stored in the Qlib directory" } = {}):
  { panel: Panel; quality: QualityReport } {
  const quality = newQualityReport(dir);
  const calPath = join(dir, "calendars", "day.txt");
  if (!existsSync(calPath)) throw new DataError(calPath, "no such file: a Qlib directory needs calendars/day.txt");
  const calendar = readCalendar(calPath);
  const D = calendar.length;
  const featDir = join(dir, "features");
  if (!existsSync(featDir)) throw new DataError(featDir, "no such folder: a Qlib directory needs features/");
  // Qlib writes folder names in lower case; match codes to folders case-blind.
  const folders = new Map(readdirSync(featDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => [e.name.toLowerCase(), e.name]));
  const instPath = join(dir, "instruments", "all.txt");
  const instruments = existsSync(instPath) ? readInstruments(instPath) : null;
  if (!instruments) quality.notes.push("no instruments/all.txt: every features/ folder is a stock, its span the dates its files cover");
  const listed = instruments ? [...instruments.keys()] : [...folders.values()].map((c) => c.toUpperCase());
  const rel = (...parts: string[]): string => join("features", ...parts);

  // Listed stocks without a folder: their span's cells have no value at all.
  const stocks: string[] = [];
  for (const code of [...new Set(listed)].sort()) {
    if (folders.has(code.toLowerCase())) {
      stocks.push(code);
      continue;
    }
    const inst = instruments!.get(code)!;
    const cells = inst.spans.reduce((n, [a, b]) => n + calendar.filter((d) => d >= a && d <= b).length, 0);
    count(quality.cells, "no_features", cells);
    example(quality, "no_features", `${rel(code.toLowerCase())}/: no such folder for ${code} (instruments/all.txt line ${inst.line}; ${cells} dates of its span)`);
  }
  const S = stocks.length;

  // A stock's files, each checked as it is read (whole values, a start index in the calendar, no value past it).
  const ignored = new Set<string>();
  const known = (name: string): boolean => name.endsWith("_weight") || FIELD_NAMES.includes(name as FieldName) || FLAG_NAMES.includes(name as FlagName);
  const binsOf = (folder: string, only?: string): Bin[] => {
    const out: Bin[] = [];
    for (const file of readdirSync(join(featDir, folder)).sort()) {
      if (!file.endsWith(".day.bin")) continue;
      const name = file.slice(0, -".day.bin".length);
      if (only ? name !== only : !known(name)) {
        if (!only) ignored.add(name);
        continue;
      }
      out.push(readBin(join(featDir, folder, file), rel(folder, file), name, D));
    }
    return out;
  };

  const fields: Partial<Record<FieldName, Float64Array>> = {};
  const flags: Partial<Record<FlagName, Uint8Array>> = {};
  const indexWeights: Record<string, Float64Array> = {};
  const targetOf = (name: string): Float64Array | Uint8Array =>
    name.endsWith("_weight") ? (indexWeights[name.slice(0, -7)] ??= emptyField(S, D, 0))
    : FIELD_NAMES.includes(name as FieldName) ? (fields[name as FieldName] ??= emptyField(S, D))
    : (flags[name as FlagName] ??= new Uint8Array(S * D));

  let shortFiles = 0;
  const present: { folder: string; spanCells: number; names: Set<string> }[] = [];
  const inSpan = new Uint8Array(D);
  stocks.forEach((code, s) => {
    const folder = folders.get(code.toLowerCase())!;
    const own = binsOf(folder);
    inSpan.fill(0);
    if (instruments) {
      for (const [a, b] of instruments.get(code)!.spans) for (let d = 0; d < D; d++) if (calendar[d] >= a && calendar[d] <= b) inSpan[d] = 1;
    } else {
      // No instruments: the span is every date some field of the stock covers.
      const first = Math.min(...own.map((b) => b.start));
      const last = Math.max(...own.map((b) => b.start + b.values.length - 1));
      for (let d = first; d <= last; d++) inSpan[d] = 1;
    }
    let spanCells = 0;
    for (let d = 0; d < D; d++) spanCells += inSpan[d];
    present.push({ folder, spanCells, names: new Set(own.map((b) => b.name)) });
    for (const bin of own) {
      const { start, values } = bin;
      const target = targetOf(bin.name);
      const isClose = bin.name === "close";
      const end = start + values.length;
      const base = s * D;
      let outside = 0;
      const outsideAt = (d: number, x: number): void => {
        outside++;
        if (isClose && Number.isFinite(x)) {
          quality.rowsIn++;
          count(quality.rowsDropped, "outside_span");
          example(quality, "outside_span", `${bin.rel}: a close on ${calendar[d]}, outside ${code}'s span in instruments/all.txt`);
        }
      };
      // One loop per kind of target: a loop that stores to one array type stays fast.
      if (target instanceof Uint8Array) {
        for (let i = 0, d = start; i < values.length; i++, d++) {
          const x = values[i];
          // A flag is true where its value is non-zero (NaN: no bar, false).
          if (inSpan[d]) target[base + d] = x !== 0 && x === x ? 1 : 0;
          else if (x === x) outsideAt(d, x);
        }
      } else if (isClose) {
        for (let i = 0, d = start; i < values.length; i++, d++) {
          const x = values[i];
          if (!inSpan[d]) {
            if (x === x) outsideAt(d, x);
          } else if (Number.isFinite(x)) {
            target[base + d] = x;
            quality.rowsIn++;
            quality.rowsKept++;
          } else {
            // No bar that day: Qlib writes NaN for a date inside the span without data.
            count(quality.cells, "gap");
            example(quality, "gap", `${code} ${calendar[d]}`);
          }
        }
      } else {
        for (let i = 0, d = start; i < values.length; i++, d++) {
          const x = values[i];
          if (inSpan[d]) target[base + d] = x;
          else if (x === x) outsideAt(d, x);
        }
      }
      // Span dates the file does not reach, before its start or after its end.
      let missing = 0;
      let missingFirst = -1;
      let missingLast = -1;
      for (const [from, to] of [[0, start], [end, D]]) for (let d = from; d < to; d++) {
        if (!inSpan[d]) continue;
        missing++;
        if (missingFirst < 0) missingFirst = d;
        missingLast = d;
      }
      if (outside) count(quality.cells, "outside_span", outside);
      if (missing) {
        shortFiles++;
        count(quality.cells, "short_bin", missing);
        const late = missingFirst < start;
        const early = missingLast >= end;
        example(quality, "short_bin", `${bin.rel}: ${missing} of the span's ${spanCells} dates have no value (${calendar[missingFirst]}` +
          `${missing > 1 ? ` to ${calendar[missingLast]}` : ""}): the file ${late && early ? "starts late and ends early" : late ? "starts late" : "ends early"}`);
      }
    }
  });
  if (!fields.close) throw new DataError(featDir, "no close.day.bin in any instrument");
  // A field some stocks have and others lack: the others' spans have no value of it.
  const names = [...new Set(present.flatMap((p) => [...p.names]))].sort();
  for (const { folder, spanCells, names: own } of present) for (const name of names) if (!own.has(name)) {
    count(quality.cells, "missing_bin", spanCells);
    example(quality, "missing_bin", `${rel(folder, `${name}.day.bin`)}: no such file, though other stocks have ${name} (${spanCells} dates of the span)`);
  }

  // Folders no instrument names: not loaded (as in Qlib), their bars counted.
  if (instruments) {
    const loaded = new Set(stocks.map((c) => c.toLowerCase()));
    for (const [lower, folder] of [...folders].sort()) {
      if (loaded.has(lower)) continue;
      const bars = binsOf(folder, "close").reduce((n, b) => n + b.values.filter(Number.isFinite).length, 0);
      quality.rowsIn += bars;
      count(quality.rowsDropped, "not_in_instruments", bars);
      example(quality, "not_in_instruments", `${rel(folder)}/: no line in instruments/all.txt; not loaded (${bars} bars)`);
    }
  }
  if (shortFiles) quality.notes.push(`${shortFiles} .day.bin file${shortFiles > 1 ? "s are" : " is"} shorter than the instrument's span: ${quality.cells.short_bin} cells have no value (cells.short_bin)`);
  if (ignored.size) quality.notes.push(`features not used, ignored: ${[...ignored].sort().join(", ")}`);

  const indPath = join(dir, "instruments", "industry.txt");
  const indMap = new Map<string, string>();
  if (existsSync(indPath)) physicalLines(indPath).forEach((raw, i) => {
    if (!raw.trim()) return;
    const parts = raw.replace(/\s+$/, "").split("\t");
    if (parts.length !== 2 || !parts[0].trim()) throw new DataError(indPath, `expected code<TAB>industry, found "${raw}"`, i + 1);
    indMap.set(parts[0].trim(), parts[1].trim());
  });
  const panel: Panel = {
    calendar, stocks, fields, flags, industry: stocks.map((c) => indMap.get(c) ?? null), listDate: stocks.map(() => null),
    indexWeights, priceBasis, market: marketOfCodes(stocks),
  };
  quality.priceBasis = priceBasis;
  quality.stocks = S;
  quality.dates = D;
  checkAccounting(quality);
  return { panel, quality };
}
