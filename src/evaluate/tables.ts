/**
 * Tables made from evaluations, one function each, for every place that shows them: the IC test
 * (table 1-1: the command line's print, table_1_1_ic.csv and the report) and the parameter
 * significance grid (figure 5-2: metrics.json and the report's heat map).
 */
import type { IcTest } from "./ic.js";
import type { Significance } from "./significance.js";

export interface IcColumn {
  /** The column's name in table_1_1_ic.csv. */
  key: string;
  /** Its heading in the report. */
  label: string;
  /** A share (the report shows it as a percentage). */
  share?: boolean;
}

export interface IcTable {
  columns: IcColumn[];
  /** One row per factor, its values in the order of `columns`. */
  rows: { name: string; values: number[] }[];
}

const IC_COLUMNS: IcColumn[] = [
  { key: "ic_mean", label: "IC mean" }, { key: "ic_std", label: "IC std" }, { key: "ir", label: "IR" },
  { key: "rank_ic_mean", label: "rank IC mean" }, { key: "rank_ic_std", label: "rank IC std" }, { key: "rank_ir", label: "rank IR" },
  { key: "ic_t", label: "t" }, { key: "ic_positive", label: "IC > 0", share: true },
];

/** Table 1-1: each factor's IC test summarised. */
export function icTable(rows: { name: string; ic: IcTest }[]): IcTable {
  return {
    columns: IC_COLUMNS,
    rows: rows.map(({ name, ic: { summary: { ic, rankIc } } }) =>
      ({ name, values: [ic.mean, ic.std, ic.ir, rankIc.mean, rankIc.std, rankIc.ir, ic.t, ic.positive] })),
  };
}

/** A column of an IC table by its key (the command line prints a few). */
export function icColumn(t: IcTable, key: string): number[] {
  const j = t.columns.findIndex((c) => c.key === key);
  if (j < 0) throw new Error(`no column "${key}" in the IC table`);
  return t.rows.map((r) => r.values[j]);
}

/** Figure 5-2's tables: the mean |first-layer weight| by operator and window, and by input. */
export interface SignificanceTables {
  operators: string[];
  /** The image windows d, as text. */
  windows: string[];
  /** [operator][window]: the mean over the features of that operator and window; NaN where none. */
  grid: number[][];
  /** By input, largest first. */
  byInput: { input: string; value: number }[];
}

export function significanceTables(sig: Significance): SignificanceTables {
  const operators = [...new Set(sig.features.map((f) => f.operator))];
  const windows = [...new Set(sig.features.map((f) => String(f.window)))];
  const grid = operators.map((op) => windows.map((w) => {
    const xs = sig.features.filter((f) => f.operator === op && String(f.window) === w).map((f) => f.value);
    return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
  }));
  const byInput = Object.entries(sig.byInput).sort((a, b) => b[1] - a[1]).map(([input, value]) => ({ input, value }));
  return { operators, windows, grid, byInput };
}
