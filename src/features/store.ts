/**
 * Feature panels, computed once per dataset and kept on disk.
 *
 * Layout of a store (a folder named by the hash of the data and the settings):
 *   meta.json          settings, stocks, calendar, feature names, counts of masked windows
 *   d<d>.f32           float32, [stock][date][F], little-endian: a stock's rows are contiguous,
 *                      so building and reading go stock by stock and never hold the whole panel
 *   d<d>.valid         uint8 [stock][date]: 1 where the window had no missing input
 *   d<d>.stats         float64 [date][F][4]: the cross-sectional mean and standard deviation (of
 *                      the winsorised values when winsorising), and the winsorising bounds
 * F is the input set's feature count (V4's 13 inputs: 208). Peak memory while building is the
 * inputs plus one stock's rows; while reading, the columns
 * asked for plus one stock's rows. float32 throughout: float16 would lose the covariances of
 * volume-scale inputs, whose values exceed its range (65,504).
 */
import { createHash } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Panel } from "../data/index.js";
import { INPUT_SETS, type InputSet, type Inputs, computeInputs } from "./inputs.js";
import { extractStock, featureCount, featureName, featuresOf } from "./operators.js";

/** 2: stats hold the winsorising bounds (stores of version 1 are rebuilt). */
export const FEATURE_VERSION = 2;

export interface FeatureSettings {
  /** Windows d (the paper: 2, 5, 10, 20; primary 10). */
  windows: number[];
  /** Standardise each feature across stocks on each date when reading (z-score, clipped to +-5). */
  standardize: boolean;
  /**
   * Before the z-score, clip each date's cross-section to median +- k x MAD (scaled to a normal's
   * standard deviation), so that one exploding value (a ts_return of inputs near zero) does not
   * inflate the standard deviation and squash every other stock to ~0. 0: plain z-score.
   */
  winsorize?: number;
  /**
   * The inputs the operators read: V4's 13 (absent), or an earlier AlphaNet's own (V1's 9, V2's
   * 15). Absent rather than "v4" in a V4 store's settings, so that its key (the cache folder) is the
   * one stores had before input sets existed.
   */
  inputs?: InputSet;
}
export const DEFAULT_FEATURE_SETTINGS: Required<Omit<FeatureSettings, "inputs">> = { windows: [2, 5, 10, 20], standardize: true, winsorize: 0 };

export interface FeatureStoreMeta {
  version: number;
  key: string;
  settings: FeatureSettings;
  stocks: string[];
  calendar: string[];
  /** Feature names per window. */
  names: Record<string, string[]>;
  /** Windows (stock, date) masked for missing input, per d. */
  masked: Record<string, number>;
  standIns: Inputs["standIns"];
  seconds: number;
}

export interface FeatureStore {
  dir: string;
  meta: FeatureStoreMeta;
}

/** The input set of a store's settings. */
export const inputSetOf = (settings: FeatureSettings): InputSet => settings.inputs ?? "v4";

/** Features per (stock, date) of an input set's store: 208 for V4's inputs. */
export const inputSetFeatureCount = (set: InputSet): number => featureCount(INPUT_SETS[set].length);

/** Features per (stock, date) of a store. */
export const storeFeatureCount = (store: FeatureStore): number => inputSetFeatureCount(inputSetOf(store.meta.settings));

/** Hash of what the features depend on: the panel's values and the settings. */
export function featureKey(p: Panel, settings: FeatureSettings): string {
  const h = createHash("sha256");
  h.update(JSON.stringify({ v: FEATURE_VERSION, settings, stocks: p.stocks, calendar: p.calendar }));
  for (const f of ["open", "high", "low", "close", "vwap", "volume", "turnover", "free_turnover", "is_suspended"] as const) {
    const a = f === "is_suspended" ? p.flags[f] : p.fields[f];
    h.update(f);
    if (a) h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }
  return h.digest("hex").slice(0, 24);
}

/** Numbers per (date, feature) in a .stats file: mean, standard deviation, lower and upper bound. */
const STATS = 4;

function welford(stats: Float64Array, count: Int32Array, row: Float32Array | Float64Array, base: number, t: number, F: number): void {
  const n = ++count[t];
  for (let f = 0; f < F; f++) {
    const x = row[base + f];
    const i = (t * F + f) * STATS;
    const delta = x - stats[i];
    stats[i] += delta / n;
    stats[i + 1] += delta * (x - stats[i]); // M2, turned into a standard deviation at the end
  }
}

/**
 * Builds (or finds) the feature store of a panel under `root`. Returns at once when a store with
 * the same key exists: features are computed once per dataset and settings.
 */
export function buildFeatureStore(p: Panel, root: string, given: FeatureSettings = DEFAULT_FEATURE_SETTINGS,
  onProgress?: (done: number, total: number) => void): FeatureStore {
  const { inputs: set = "v4", ...rest } = { ...DEFAULT_FEATURE_SETTINGS, ...given };
  // V4's settings as before input sets (its key unchanged); another set's named last.
  const settings: FeatureSettings = set === "v4" ? rest : { ...rest, inputs: set };
  const key = featureKey(p, settings);
  const dir = join(root, key);
  if (existsSync(join(dir, "meta.json"))) return openFeatureStore(dir);
  const t0 = process.hrtime.bigint();
  const inputs = computeInputs(p, set);
  const S = p.stocks.length, D = p.calendar.length;
  const F = featureCount(inputs.values.length);
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const masked: Record<string, number> = {};
  const row = new Float32Array(D * F);
  const valid = new Uint8Array(D);
  const x = Array.from({ length: inputs.values.length }, () => new Float64Array(D));
  for (const d of settings.windows) {
    const fd = openSync(join(tmp, `d${d}.f32`), "w");
    const validAll = new Uint8Array(S * D);
    const stats = new Float64Array(D * F * STATS);
    const count = new Int32Array(D);
    // Winsorised statistics are read back from the written panel (winsorizedStats): no running ones then.
    const running = rest.winsorize === 0;
    let m = 0;
    for (let s = 0; s < S; s++) {
      for (let i = 0; i < x.length; i++) x[i].set(inputs.values[i].row(s));
      row.fill(0);
      valid.fill(0);
      extractStock(x, D, d, row, valid);
      for (let t = 0; t < D; t++) {
        validAll[s * D + t] = valid[t];
        if (!valid[t]) {
          if (t >= d - 1) m++;
        } else if (running) welford(stats, count, row, t * F, t, F);
      }
      writeSync(fd, new Uint8Array(row.buffer), 0, row.byteLength, s * row.byteLength);
      onProgress?.(settings.windows.indexOf(d) * S + s + 1, settings.windows.length * S);
    }
    closeSync(fd);
    for (let t = 0; t < D; t++) for (let f = 0; f < F; f++) {
      const i = (t * F + f) * STATS;
      stats[i + 1] = count[t] > 1 ? Math.sqrt(stats[i + 1] / (count[t] - 1)) : 0;
      stats[i + 2] = -Infinity;
      stats[i + 3] = Infinity;
    }
    if (!running) winsorizedStats(join(tmp, `d${d}.f32`), validAll, S, D, rest.winsorize, stats, F);
    writeFileSync(join(tmp, `d${d}.valid`), validAll);
    writeFileSync(join(tmp, `d${d}.stats`), new Uint8Array(stats.buffer));
    masked[d] = m;
  }
  const features = featuresOf(INPUT_SETS[set]);
  const meta: FeatureStoreMeta = {
    version: FEATURE_VERSION, key, settings, stocks: p.stocks, calendar: p.calendar,
    names: Object.fromEntries(settings.windows.map((d) => [d, Array.from({ length: F }, (_, f) => featureName(f, d, features))])),
    masked, standIns: inputs.standIns, seconds: Number(process.hrtime.bigint() - t0) / 1e9,
  };
  writeFileSync(join(tmp, "meta.json"), JSON.stringify(meta));
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return { dir, meta };
}

export function openFeatureStore(dir: string): FeatureStore {
  const path = join(dir, "meta.json");
  if (!existsSync(path)) throw new Error(`${dir}: not a feature store (no meta.json)`);
  const meta = JSON.parse(readFileSync(path, "utf8")) as FeatureStoreMeta;
  if (meta.version !== FEATURE_VERSION) throw new Error(`${dir}: feature store version ${meta.version}, expected ${FEATURE_VERSION}: delete it to rebuild`);
  return { dir, meta };
}

/** One window's panel with the chosen columns: values [stock][date][K] and validity [stock][date]. */
export interface FeaturePanel {
  d: number;
  S: number;
  D: number;
  columns: number[];
  values: Float32Array;
  valid: Uint8Array;
}

/**
 * Reads window d's panel, keeping `columns` (default: all F), standardised across stocks per
 * date when the store says so. Reads stock by stock: peak memory is the result plus one stock.
 */
export function readFeaturePanel(store: FeatureStore, d: number, columns?: number[]): FeaturePanel {
  const { meta, dir } = store;
  if (!meta.settings.windows.includes(d)) throw new Error(`the feature store has no window d = ${d} (it has ${meta.settings.windows})`);
  const S = meta.stocks.length;
  const D = meta.calendar.length;
  const F = storeFeatureCount(store);
  const cols = columns ?? Array.from({ length: F }, (_, f) => f);
  const K = cols.length;
  const values = new Float32Array(S * D * K);
  const valid = new Uint8Array(readFileSync(join(dir, `d${d}.valid`)));
  const statsBuf = readFileSync(join(dir, `d${d}.stats`));
  const stats = new Float64Array(statsBuf.buffer.slice(statsBuf.byteOffset, statsBuf.byteOffset + statsBuf.byteLength));
  const std = meta.settings.standardize;
  const fd = openSync(join(dir, `d${d}.f32`), "r");
  const row = new Float32Array(D * F);
  const bytes = new Uint8Array(row.buffer);
  for (let s = 0; s < S; s++) {
    readSync(fd, bytes, 0, bytes.length, s * bytes.length);
    for (let t = 0; t < D; t++) {
      if (!valid[s * D + t]) continue;
      const src = t * F;
      const dst = (s * D + t) * K;
      for (let j = 0; j < K; j++) {
        const f = cols[j];
        let v = row[src + f];
        if (std) {
          const i = (t * F + f) * STATS;
          v = Math.max(stats[i + 2], Math.min(stats[i + 3], v));
          v = stats[i + 1] > 0 ? Math.max(-5, Math.min(5, (v - stats[i]) / stats[i + 1])) : 0;
        }
        values[dst + j] = v;
      }
    }
  }
  closeSync(fd);
  return { d, S, D, columns: cols, values, valid };
}

/** A normal variable's standard deviation per unit of median absolute deviation. */
const MAD_TO_SD = 1.4826;

/**
 * Each date's winsorised statistics, read back from the written panel a block of dates at a time
 * (the file is stock-major, so a date's cross-section is spread over every stock's rows): per
 * (date, feature), bounds median +- k x 1.4826 x MAD over the valid stocks, then the mean and
 * sample standard deviation of the clipped values. Where more than half the values are equal (MAD
 * 0), the scale is the mean absolute deviation from the median x 1.2533 (a normal's sd per unit).
 * Only the date's own cross-section enters: no date sees another.
 */
function winsorizedStats(path: string, valid: Uint8Array, S: number, D: number, k: number, stats: Float64Array, F: number): void {
  const B = Math.max(1, Math.min(D, Math.floor((1 << 24) / (S * F))));
  const block = new Float32Array(S * B * F);
  const x = new Float64Array(S);
  const dev = new Float64Array(S);
  const fd = openSync(path, "r");
  try {
    for (let t0 = 0; t0 < D; t0 += B) {
      const nb = Math.min(B, D - t0);
      for (let s = 0; s < S; s++)
        readSync(fd, new Uint8Array(block.buffer, s * B * F * 4, nb * F * 4), 0, nb * F * 4, (s * D + t0) * F * 4);
      for (let b = 0; b < nb; b++) {
        const t = t0 + b;
        for (let f = 0; f < F; f++) {
          let n = 0;
          for (let s = 0; s < S; s++) if (valid[s * D + t]) x[n++] = block[(s * B + b) * F + f];
          const i = (t * F + f) * STATS;
          if (n < 2) continue;
          const med = median(x, n);
          let absSum = 0;
          for (let j = 0; j < n; j++) absSum += (dev[j] = Math.abs(x[j] - med));
          const mad = median(dev, n);
          const scale = mad > 0 ? MAD_TO_SD * mad : 1.2533 * (absSum / n);
          const lo = med - k * scale, hi = med + k * scale;
          let mean = 0;
          for (let j = 0; j < n; j++) mean += Math.max(lo, Math.min(hi, x[j]));
          mean /= n;
          let ss = 0;
          for (let j = 0; j < n; j++) {
            const e = Math.max(lo, Math.min(hi, x[j])) - mean;
            ss += e * e;
          }
          stats[i] = mean;
          stats[i + 1] = Math.sqrt(ss / (n - 1));
          stats[i + 2] = lo;
          stats[i + 3] = hi;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** The median of a[0..n) (reorders it): quickselect of the middle element(s). */
export function median(a: Float64Array, n: number): number {
  const m = n >> 1;
  select(a, 0, n - 1, m);
  if (n & 1) return a[m];
  let below = -Infinity;
  for (let j = 0; j < m; j++) if (a[j] > below) below = a[j];
  return (below + a[m]) / 2;
}

/** Rearranges a[lo..hi] so that a[k] is the value it would have sorted, smaller ones before it. */
function select(a: Float64Array, lo: number, hi: number, k: number): void {
  while (hi > lo) {
    // Median of three as the pivot: sorted or constant runs do not make it quadratic.
    const mid = (lo + hi) >> 1;
    const p = Math.max(Math.min(a[lo], a[mid]), Math.min(Math.max(a[lo], a[mid]), a[hi]));
    let i = lo, j = hi;
    while (i <= j) {
      while (a[i] < p) i++;
      while (a[j] > p) j--;
      if (i <= j) {
        const tmp = a[i];
        a[i] = a[j];
        a[j] = tmp;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}
