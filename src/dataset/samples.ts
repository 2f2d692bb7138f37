/**
 * The samples (stock, date) that the paper's cleaning rules allow, with counts of what was left out
 * and why: ST or PT stocks, suspended days, days at the limit, new listings, images with missing
 * windows, missing labels (training and validation only: a test sample needs no label to be scored).
 */
import type { Grid, Panel } from "../data/index.js";
import { type FeaturePanel, type ImageSpec, type Sample, imageValid } from "../features/index.js";
import type { Range } from "./splits.js";

export interface SampleOptions {
  /** Take every k-th date (training: the paper samples every few days). */
  step: number;
  minListingDays: number;
  requireLabel: boolean;
}

export interface SampleSet {
  samples: Sample[];
  /** Dates present, in order, with the slice of `samples` each holds (samples are grouped by date). */
  dates: { date: number; from: number; to: number }[];
  excluded: Record<string, number>;
}

export function buildSamples(p: Panel, panels: Map<number, FeaturePanel>, specs: ImageSpec[], label: Grid,
  range: Range, o: SampleOptions): SampleSet {
  const S = p.stocks.length, D = p.calendar.length;
  const F = p.fields;
  const { is_st: st, is_suspended: susp, limit_up: up, limit_down: down } = p.flags;
  const listIdx = p.listDate.map((d) => (d === null ? 0 : Math.max(0, p.calendar.findIndex((c) => c >= d))));
  const excluded: Record<string, number> = { not_listed: 0, st: 0, suspended: 0, at_price_limit: 0, new_listing: 0,
    not_in_universe: 0, image_incomplete: 0, no_label: 0 };
  const samples: Sample[] = [];
  const dates: SampleSet["dates"] = [];
  for (let t = range.from; t < range.to; t += o.step) {
    if (t < 0 || t >= D) continue;
    const from = samples.length;
    for (let s = 0; s < S; s++) {
      const k = label.index(s, t);
      if (!Number.isFinite(F.close![k])) { excluded.not_listed++; continue; }
      if (st && st[k] === 1) { excluded.st++; continue; }
      if (susp && susp[k] === 1) { excluded.suspended++; continue; }
      if ((up && up[k] === 1) || (down && down[k] === 1)) { excluded.at_price_limit++; continue; }
      if (t - listIdx[s] < o.minListingDays) { excluded.new_listing++; continue; }
      if (p.universe && p.universe[k] !== 1) { excluded.not_in_universe++; continue; }
      if (!specs.every((sp) => imageValid(panels.get(sp.d)!, s, t, sp.T, sp.step))) { excluded.image_incomplete++; continue; }
      if (o.requireLabel && !Number.isFinite(label.values[k])) { excluded.no_label++; continue; }
      samples.push({ stock: s, date: t });
    }
    if (samples.length > from) dates.push({ date: t, from, to: samples.length });
  }
  return { samples, dates, excluded };
}
