/**
 * Checkpoints: what one records it was made from, what differs from this run's settings in words,
 * whether one may be continued, and saving one after an epoch.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  SafetensorsError, type Tensor, type optim, parseSafetensorsHeader, readSafetensorsFile, saveSafetensors,
} from "../engine/index.js";
import { DataError } from "../data/index.js";
import type { AlphaNet } from "../models/index.js";
import { DEFAULT_TRAIN, type EpochLog, type TrainOptions, dateStrideOf } from "./options.js";

export interface CheckpointState {
  epoch: number;
  bestEpoch: number;
  bestSharpe: number;
  log: EpochLog[];
  step: number;
  lr: number;
  stale: number;
  done: boolean;
  /** What the checkpoint was made from (checkpointMade): a resume must match it. */
  made?: Record<string, unknown>;
}

/**
 * The settings that shape training: all recorded in a checkpoint, and the dates each epoch strides
 * over, under the name checkpoints have always given it (dateStride: dateStrideOf's value).
 */
const TRAIN_SETTINGS = ["maxEpochs", "patience", "lrStart", "lrEnd", "lrEpochs", "minBatch", "seed", "longWeight", "weightDecay"] as const;

/**
 * What a checkpoint records it was made from: the caller's record and every training setting, as JSON.
 * The factor early stopping reads is recorded when it is the neutral one (so checkpoints of raw runs
 * read as before, and a resume never mixes the two).
 */
export function checkpointMade(options: Partial<TrainOptions>): Record<string, unknown> {
  const o = { ...DEFAULT_TRAIN, ...options };
  const train: Record<string, unknown> = { ...Object.fromEntries(TRAIN_SETTINGS.map((k) => [k, o[k]])), dateStride: dateStrideOf(o) };
  if (o.factor === "neutral") train.factor = "neutral";
  // keepLast is recorded only when set, so checkpoints made before it existed still resume.
  if (o.keepLast) train.keepLast = true;
  return JSON.parse(JSON.stringify({ ...o.record, train }));
}

/** Leaves of a JSON value by dotted path, each as JSON text. */
function leaves(x: unknown, path: string, out: Map<string, string>): Map<string, string> {
  if (x && typeof x === "object" && !Array.isArray(x)) {
    for (const [k, v] of Object.entries(x)) leaves(v, path ? `${path}.${k}` : k, out);
  } else if (x !== undefined) {
    out.set(path, JSON.stringify(x));
  }
  return out;
}

/** A setting's name as the configuration spells it. */
const settingName = (path: string): string =>
  path === "train.seed" ? "seed" : path === "train.factor" ? "factor" : path === "spec.kind" ? "model kind" : path.replace(/^spec\.v4\./, "v4.").replace(/^features\.settings\./, "features.");

/**
 * What differs between a checkpoint's record and this run's, in words (null: nothing). Only the
 * top-level keys this run's record has are compared (a pre-flight check knows no feature selection yet).
 */
export function checkpointChanges(saved: Record<string, unknown>, current: Record<string, unknown>): string | null {
  const changes: string[] = [];
  for (const key of Object.keys(current)) {
    const [a, b] = [leaves(saved[key], key, new Map()), leaves(current[key], key, new Map())];
    if ([...new Set([...a.keys(), ...b.keys()])].every((k) => a.get(k) === b.get(k))) continue;
    if (key === "data") {
      changes.push(`made with other data (data hash ${saved.data}, this run's ${current.data})`);
    } else if (key === "window") {
      const w = (x: unknown): string => {
        const d = x as Record<string, [string, string]> | undefined;
        return d?.test && d.train && d.valid
          ? `tests ${d.test.join("..")} after training on ${d.train.join("..")} (validated on ${d.valid.join("..")})` : "none";
      };
      changes.push(`made for the window that ${w(saved.window)}, this run's ${w(current.window)}`);
    } else {
      for (const k of new Set([...a.keys(), ...b.keys()])) {
        if (a.get(k) === b.get(k)) continue;
        const name = settingName(k);
        // A raw run records no factor (checkpointMade).
        const unset = k === "train.factor" ? '"raw"' : "unset";
        changes.push(`made with ${name} ${a.get(k) ?? unset}, this run has ${name} ${b.get(k) ?? unset}`);
      }
    }
  }
  return changes.length ? changes.join("; ") : null;
}

const CHECKPOINT_FILES = ["model.safetensors", "best.safetensors", "optimizer.safetensors"];

/**
 * The checkpoint in `dir` that a resumed run may continue: null when there is none; its state when
 * it is whole and was made from `current` (checkpointMade); else a DataError naming the file or
 * the folder and what is wrong or what changed.
 */
export function resumableCheckpoint(dir: string, current: Record<string, unknown>): CheckpointState | null {
  const statePath = join(dir, "state.json");
  if (!existsSync(statePath)) return null;
  const fix = "remove --resume to train it afresh, or use another --out";
  let st: CheckpointState;
  try {
    st = JSON.parse(readFileSync(statePath, "utf8")) as CheckpointState;
  } catch (e) {
    throw new DataError(statePath, `a damaged checkpoint (${(e as Error).message.replace(/\s+/g, " ")}); ${fix}`);
  }
  if (!st || typeof st !== "object" || typeof st.epoch !== "number" || !Array.isArray(st.log))
    throw new DataError(statePath, `a damaged checkpoint (no epoch or log); ${fix}`);
  // Checkpoints made before the log's fields were camelCase wrote valid_ic and valid_sharpe.
  st.log = st.log.map((e) => {
    const { valid_ic, valid_sharpe, ...rest } = e as EpochLog & { valid_ic?: number; valid_sharpe?: number };
    return valid_ic === undefined && valid_sharpe === undefined ? e : { ...rest, validIc: valid_ic ?? NaN, validSharpe: valid_sharpe ?? NaN };
  });
  if (!st.made || typeof st.made !== "object")
    throw new DataError(dir, `a checkpoint that does not record the data and settings it was made from (an earlier alphanet); ${fix}`);
  const changes = checkpointChanges(st.made, current);
  if (changes) throw new DataError(dir, `${changes}; ${fix}`);
  for (const f of CHECKPOINT_FILES) {
    try {
      parseSafetensorsHeader(readSafetensorsFile(join(dir, f)), join(dir, f));
    } catch (e) {
      if (e instanceof SafetensorsError) throw new DataError(e.file, `a damaged checkpoint: ${e.reason}; ${fix}`);
      throw e;
    }
  }
  return st;
}

export function saveCheckpoint(dir: string, model: AlphaNet, opt: optim.Adam, best: Map<string, Tensor>, st: CheckpointState): void {
  mkdirSync(dir, { recursive: true });
  saveSafetensors(join(dir, "model.safetensors"), model.stateDict());
  saveSafetensors(join(dir, "best.safetensors"), best);
  const o = opt.stateDict();
  saveSafetensors(join(dir, "optimizer.safetensors"), o.tensors);
  const tmp = join(dir, `state.json.tmp-${process.pid}`);
  writeFileSync(tmp, JSON.stringify({ ...st, step: o.step, lr: o.lr }));
  renameSync(tmp, join(dir, "state.json"));
}
