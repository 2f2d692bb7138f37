/**
 * Feature panels, computed once per dataset and kept on disk.
 *
 * Layout of a store (a folder named by the hash of the data and the settings):
 *   meta.json          settings, stocks, calendar, feature names, counts of masked windows
 *   d<d>.f32           float32, [stock][date][208], little-endian: a stock's rows are contiguous,
 *                      so building and reading go stock by stock and never hold the whole panel
 *   d<d>.valid         uint8 [stock][date]: 1 where the window had no missing input
 *   d<d>.stats         float64 [date][208][2]: cross-sectional mean and standard deviation
 * Peak memory while building is the 13 inputs plus one stock's rows; while reading, the columns
 * asked for plus one stock's rows. float32 throughout: float16 would lose the covariances of
 * volume-scale inputs, whose values exceed its range (65,504).
 */
import { createHash } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Panel } from "../data/index.js";
import { type Inputs, computeInputs } from "./inputs.js";
import { N_FEATURES, extractStock, featureName } from "./operators.js";

export const FEATURE_VERSION = 1;

export interface FeatureSettings {
  /** Windows d (the paper: 2, 5, 10, 20; primary 10). */
  windows: number[];
  /** Standardise each feature across stocks on each date when reading (z-score, clipped to +-5). */
  standardize: boolean;
}
export const DEFAULT_FEATURE_SETTINGS: FeatureSettings = { windows: [2, 5, 10, 20], standardize: true };

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

function welford(stats: Float64Array, count: Int32Array, row: Float32Array | Float64Array, base: number, t: number): void {
  const n = ++count[t];
  for (let f = 0; f < N_FEATURES; f++) {
    const x = row[base + f];
    const i = (t * N_FEATURES + f) * 2;
    const delta = x - stats[i];
    stats[i] += delta / n;
    stats[i + 1] += delta * (x - stats[i]); // M2, turned into a standard deviation at the end
  }
}

/**
 * Builds (or finds) the feature store of a panel under `root`. Returns at once when a store with
 * the same key exists: features are computed once per dataset and settings.
 */
export function buildFeatureStore(p: Panel, root: string, settings: FeatureSettings = DEFAULT_FEATURE_SETTINGS,
  onProgress?: (done: number, total: number) => void): FeatureStore {
  const key = featureKey(p, settings);
  const dir = join(root, key);
  if (existsSync(join(dir, "meta.json"))) return openFeatureStore(dir);
  const t0 = process.hrtime.bigint();
  const inputs = computeInputs(p);
  const { S, D } = inputs;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const masked: Record<string, number> = {};
  const row = new Float32Array(D * N_FEATURES);
  const valid = new Uint8Array(D);
  const x = Array.from({ length: inputs.values.length }, () => new Float64Array(D));
  for (const d of settings.windows) {
    const fd = openSync(join(tmp, `d${d}.f32`), "w");
    const validAll = new Uint8Array(S * D);
    const stats = new Float64Array(D * N_FEATURES * 2);
    const count = new Int32Array(D);
    let m = 0;
    for (let s = 0; s < S; s++) {
      for (let i = 0; i < x.length; i++) x[i].set(inputs.values[i].subarray(s * D, (s + 1) * D));
      row.fill(0);
      valid.fill(0);
      extractStock(x, D, d, row, valid);
      for (let t = 0; t < D; t++) {
        validAll[s * D + t] = valid[t];
        if (valid[t]) welford(stats, count, row, t * N_FEATURES, t);
        else if (t >= d - 1) m++;
      }
      writeSync(fd, new Uint8Array(row.buffer), 0, row.byteLength, s * row.byteLength);
      onProgress?.(settings.windows.indexOf(d) * S + s + 1, settings.windows.length * S);
    }
    closeSync(fd);
    for (let t = 0; t < D; t++) for (let f = 0; f < N_FEATURES; f++) {
      const i = (t * N_FEATURES + f) * 2;
      stats[i + 1] = count[t] > 1 ? Math.sqrt(stats[i + 1] / (count[t] - 1)) : 0;
    }
    writeFileSync(join(tmp, `d${d}.valid`), validAll);
    writeFileSync(join(tmp, `d${d}.stats`), new Uint8Array(stats.buffer));
    masked[d] = m;
  }
  const meta: FeatureStoreMeta = {
    version: FEATURE_VERSION, key, settings, stocks: p.stocks, calendar: p.calendar,
    names: Object.fromEntries(settings.windows.map((d) => [d, Array.from({ length: N_FEATURES }, (_, f) => featureName(f, d))])),
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
 * Reads window d's panel, keeping `columns` (default: all 208), standardised across stocks per
 * date when the store says so. Reads stock by stock: peak memory is the result plus one stock.
 */
export function readFeaturePanel(store: FeatureStore, d: number, columns?: number[]): FeaturePanel {
  const { meta, dir } = store;
  if (!meta.settings.windows.includes(d)) throw new Error(`the feature store has no window d = ${d} (it has ${meta.settings.windows})`);
  const S = meta.stocks.length;
  const D = meta.calendar.length;
  const cols = columns ?? Array.from({ length: N_FEATURES }, (_, f) => f);
  const K = cols.length;
  const values = new Float32Array(S * D * K);
  const valid = new Uint8Array(readFileSync(join(dir, `d${d}.valid`)));
  const statsBuf = readFileSync(join(dir, `d${d}.stats`));
  const stats = new Float64Array(statsBuf.buffer.slice(statsBuf.byteOffset, statsBuf.byteOffset + statsBuf.byteLength));
  const std = meta.settings.standardize;
  const fd = openSync(join(dir, `d${d}.f32`), "r");
  const row = new Float32Array(D * N_FEATURES);
  const bytes = new Uint8Array(row.buffer);
  for (let s = 0; s < S; s++) {
    readSync(fd, bytes, 0, bytes.length, s * bytes.length);
    for (let t = 0; t < D; t++) {
      if (!valid[s * D + t]) continue;
      const src = t * N_FEATURES;
      const dst = (s * D + t) * K;
      for (let j = 0; j < K; j++) {
        const f = cols[j];
        let v = row[src + f];
        if (std) {
          const i = (t * N_FEATURES + f) * 2;
          v = stats[i + 1] > 0 ? Math.max(-5, Math.min(5, (v - stats[i]) / stats[i + 1])) : 0;
        }
        values[dst + j] = v;
      }
    }
  }
  closeSync(fd);
  return { d, S, D, columns: cols, values, valid };
}
