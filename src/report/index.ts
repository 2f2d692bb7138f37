/**
 * The report: one self-contained HTML file (inline CSS and SVG, no script, no network) that draws
 * the evaluations it is given (src/evaluate's FactorEvaluation, with each model's name and
 * training) and computes none of its own: every number in it is in metrics.json or the tables
 * beside it. One function per section, each a table or figure of the paper.
 */
import type { Panel, QualityReport } from "../data/index.js";
import type { FeatureStoreMeta } from "../features/index.js";
import type { FactorEvaluation, IcTable } from "../evaluate/index.js";
import { barChart, esc, fmt, heatmap, histogram, lineChart, pct, table } from "./charts.js";

/** A factor's evaluation as the report draws it: the evaluation, its name, and the model's training behind it. */
export interface ReportModel extends FactorEvaluation {
  name: string;
  trainSeconds: number;
  rolling?: {
    windows: { window: string; log: { epoch: number; loss: number; validIc: number; validSharpe: number }[];
      selection: { kept: number; names: string[]; dropped: { name: string; by: string; rho: number }[] } | null;
      /** V4: attention weights over the T steps, oldest first, averaged over the window's test samples. */
      attention?: number[] }[];
  };
}

export interface ReportInput {
  metrics: Record<string, unknown>;
  evaluations: ReportModel[];
  /** Table 1-1 of the evaluations (the one the command line prints and table_1_1_ic.csv holds). */
  icTable: IcTable;
  quality: QualityReport;
  store: FeatureStoreMeta;
  panel: Panel;
}

export { chartPngs } from "./png.js";

const list = (items: string[]): string => `<ul>${items.map((x) => `<li>${x}</li>`).join("")}</ul>`;

function header(r: ReportInput, models: ReportModel[]): string {
  const p = r.panel, D = p.calendar.length;
  return `<h1>AlphaNet report</h1><p>${esc(p.stocks.length.toString())} stocks × ${D} dates (${esc(p.calendar[0])} to ${esc(p.calendar[D - 1])}); ` +
    `prices: ${esc(r.quality.priceBasis)}. Models: ${models.map((m) => esc(m.name)).join(", ")}.</p>`;
}

function dataQuality(q: QualityReport): string[] {
  const dropped = Object.values(q.rowsDropped).reduce((a, b) => a + b, 0);
  const s = [`<h2 id="quality">Data quality</h2><p>${q.rowsIn} rows in = ${q.rowsKept} kept + ${dropped} dropped.</p>`];
  s.push(table(["what", "reason", "count"], [
    ...Object.entries(q.rowsDropped).map(([k, v]) => ["rows dropped", k, String(v)]),
    ...Object.entries(q.rowsFlagged).map(([k, v]) => ["rows flagged (kept)", k, String(v)]),
    ...Object.entries(q.cells).map(([k, v]) => ["panel cells", k, String(v)]),
  ]));
  if (q.derived.length) s.push(`<h3>Derived fields</h3>${list(q.derived.map((d) => `<b>${esc(d.field)}</b>: ${esc(d.how)}`))}`);
  if (q.notes.length) s.push(list(q.notes.map(esc)));
  return s;
}

function inputs(store: FeatureStoreMeta): string[] {
  return [
    `<h2 id="inputs">Inputs and stand-ins</h2>`,
    store.standIns.length ? list(store.standIns.map((x) => `<b>${esc(x.input)}</b>: ${esc(x.how)}`)) : "<p>All 13 inputs computed from the data; no stand-ins.</p>",
    `<p>Windows masked for missing input: ${Object.entries(store.masked).map(([d, n]) => `d=${d}: ${n}`).join(", ")}.</p>`,
  ];
}

/** The features each window keeps of the 208 (Spearman selection), from the first model that selects. */
function spearmanSelection(models: ReportModel[]): string[] {
  const withSel = models.find((m) => m.rolling?.windows.some((w) => w.selection));
  if (!withSel) return [];
  const windows = withSel.rolling!.windows;
  const s = [`<h2 id="spearman">Spearman selection</h2>`, table(["window", "kept of 208"], windows.map((w) => [w.window, String(w.selection?.kept ?? 208)]))];
  const last = windows.at(-1)!.selection;
  if (last) {
    s.push(`<details><summary>Kept features (last window, d = 10)</summary><p class="small">${last.names.map(esc).join(", ")}</p></details>`);
    s.push(`<details><summary>Dropped features and the kept feature that dropped each (|Spearman rho| > threshold)</summary>` +
      `${table(["dropped", "by", "rho"], last.dropped.map((d) => [d.name, d.by, d.rho]))}</details>`);
  }
  return s;
}

/** Loss and validation IC by epoch, per model and window; V4's attention over its time steps. */
function training(models: ReportModel[]): string[] {
  const s = [`<h2 id="training">Training curves</h2>`];
  for (const m of models) {
    for (const w of m.rolling?.windows ?? []) {
      if (!w.log.length) continue;
      s.push(lineChart(`${m.name} ${w.window}: loss and validation IC by epoch`, w.log.map((e) => `epoch ${e.epoch}`),
        [{ name: "train loss", y: w.log.map((e) => e.loss) }, { name: "valid IC x 10", y: w.log.map((e) => e.validIc * 10) }], { height: 160, width: 420 }));
    }
  }
  // Where V4's pooling looks: a signal in the latest features needs weight on the last steps.
  for (const m of models) {
    const ws = (m.rolling?.windows ?? []).filter((w) => w.attention?.length);
    if (!ws.length) continue;
    const T = ws[0].attention!.length;
    s.push(lineChart(`${m.name}: attention by time step, mean over test samples (uniform ${(1 / T).toFixed(3)})`,
      Array.from({ length: T }, (_, i) => (i === T - 1 ? "t" : `t-${T - 1 - i}`)), ws.map((w) => ({ name: w.window, y: w.attention! })), { width: 620 }));
  }
  return s;
}

/** Table 1-1: the IC test, each factor's IC series and histogram, IC by year, IC decay. */
function icTest(t: IcTable, evaluations: ReportModel[]): string[] {
  const s = [`<h2 id="ic">IC test (table 1-1)</h2>`];
  s.push(table(["model", ...t.columns.map((c) => c.label)],
    t.rows.map((r) => [r.name, ...r.values.map((v, j) => (t.columns[j].share ? pct(v, 0) : v))])));
  for (const m of evaluations) {
    s.push(`<div class="row">${lineChart(`${m.name}: IC by rebalance date`, m.ic.dates, [{ name: "IC", y: m.ic.ic }, { name: "rank IC", y: m.ic.rankIc }],
      { zero: true, width: 520 })}${histogram(`${m.name}: IC histogram`, m.ic.ic)}</div>`);
  }
  s.push(table(["model", ...(evaluations[0]?.ic.byYear.map((y) => `IC ${y.year}`) ?? [])], evaluations.map((e) => [e.name, ...e.ic.byYear.map((y) => y.ic)])));
  s.push(table(["model", ...(evaluations[0]?.decay.map((d) => `rank IC h=${d.horizon}`) ?? [])], evaluations.map((e) => [e.name, ...e.decay.map((d) => d.rankIc)])));
  return s;
}

/** Table 5-2 and figure 5-1: each group's annual excess, the long-short return, the groups' NAVs. */
function groups(evaluations: ReportModel[]): string[] {
  const s = [`<h2 id="groups">Stratification (table 5-2, figure 5-1)</h2>`];
  const G = evaluations[0]?.groups.groups ?? 5;
  s.push(table(["model", ...Array.from({ length: G }, (_, g) => `group ${g + 1}`), "long-short"],
    evaluations.map((e) => [e.name, ...e.groups.annualExcess.map((x) => pct(x)), pct(e.groups.longShortAnnual)])));
  for (const m of evaluations) {
    const g = m.groups;
    const nav = lineChart(`${m.name}: cumulative NAV by group (group 1 = highest factor)`, g.dates,
      [...g.nav.map((n, k) => ({ name: `G${k + 1}`, y: n })), { name: "universe", y: g.universe }], { width: 520 });
    s.push(`<div class="row">${nav}${barChart(`${m.name}: annual excess by group`, g.annualExcess.map((_, k) => `G${k + 1}`), g.annualExcess)}</div>`);
  }
  return s;
}

/** Table 5-3: the enhanced portfolio by year, its constraints, its NAV against the benchmark's and its excess drawdown. */
function enhancement(evaluations: ReportModel[]): string[] {
  const s = [`<h2 id="enhancement">Index enhancement (table 5-3)</h2>`];
  const enh = evaluations.filter((e) => e.enhancement && e.enhancement.dates.length);
  if (!enh.length) return [...s, "<p>No benchmark index weights in the data: the enhanced portfolio is not run.</p>"];
  s.push(table(["model", "year", "excess return", "holdings", "volatility", "Sharpe", "max drawdown", "turnover"],
    enh.flatMap((e) => e.enhancement!.byYear.map((y) =>
      [e.name, y.year, pct(y.excess_return), y.holdings.toFixed(1), pct(y.volatility), fmt(y.sharpe, 2), pct(y.max_drawdown), pct(y.turnover)]))));
  const violations = enh.map((e) =>
    `${esc(e.name)} ${e.enhancement!.maxConstraintViolation.toExponential(2)} (${e.enhancement!.relaxed} of ${e.enhancement!.rebalances} rebalances relaxed)`);
  s.push(`<p>Largest constraint violation over all rebalances: ${violations.join("; ")}.</p>`);
  for (const m of enh) {
    const e = m.enhancement!;
    const nav = lineChart(`${m.name}: enhanced portfolio vs benchmark`, e.dates, [{ name: "portfolio", y: e.nav }, { name: "benchmark", y: e.benchmark }], { width: 520 });
    const dd = lineChart(`${m.name}: drawdown of the excess NAV`, e.dates, [{ name: "drawdown", y: e.excessDrawdown }], { width: 420, zero: true });
    s.push(`<div class="row">${nav}${dd}</div>`);
  }
  return s;
}

/** Figure 5-2: each model's mean |first-layer weight| by operator and window, and by input. */
function significance(models: ReportModel[]): string[] {
  const s = [`<h2 id="significance">Parameter significance (figure 5-2)</h2>`];
  for (const m of models) {
    const t = m.significance;
    if (!t) continue;
    s.push(heatmap(`${m.name}: mean |first-layer weight| by operator and window`, t.operators, t.windows.map((w) => `d=${w}`), t.grid));
    s.push(barChart(`${m.name}: by input`, t.byInput.map((x) => x.input.replace(/^div_/, "").slice(0, 10)), t.byInput.map((x) => x.value), { width: 900 }));
  }
  return s;
}

/** Each factor's style exposure (and its neutralised or raw companion's), with its IC. */
function styles(evaluations: ReportModel[]): string[] {
  const names = Object.keys(evaluations[0]?.styleExposure ?? {});
  const rows = evaluations.flatMap((e) => [
    [e.name, e.ic.summary.ic.mean, e.ic.summary.rankIc.mean, ...names.map((k) => e.styleExposure[k])],
    ...(e.neutral ? [[`${e.name} ${e.neutral.label ?? "neutralised"}`, e.neutral.ic, e.neutral.rankIc, ...names.map((k) => e.neutral!.styleExposure[k])]] : []),
  ]);
  return [
    `<h2 id="styles">Style exposure of the factors</h2>`,
    `<p>Mean absolute cross-sectional correlation with each style, weighted by &radic;cap (the neutralising regression&rsquo;s weights). ` +
    `The loss neutralises the prediction before comparing it with the neutralised target, so the raw output may carry any style tilt at no cost; ` +
    `the neutralised factor (the same regression applied to each date's predictions, written as <code>factor_neutral_*.csv</code>) carries none. ` +
    `A random factor reads about 0.8/&radic;stocks.</p>`,
    table(["factor", "IC", "rank IC", ...names], rows),
  ];
}

function conventions(metrics: Record<string, unknown>, oracle: boolean): string[] {
  const conv = metrics.conventions as Record<string, unknown>;
  const s = [`<h2 id="conventions">Conventions</h2>${list(Object.entries(conv).map(([k, v]) => `<b>${esc(k)}</b>: ${esc(typeof v === "string" ? v : JSON.stringify(v))}`))}`];
  if (oracle) s.push(`<p>The oracle row is the synthetic market's planted signal on the same dates: the best IC any model can reach.</p>`);
  return s;
}

const STYLE = "body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1120px;color:#222}table{border-collapse:collapse;margin:8px 0 16px}" +
  "td,th{border:1px solid #ccc;padding:3px 8px}td.num{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}" +
  ".row{display:flex;flex-wrap:wrap;gap:12px}.small{font-size:12px}svg.chart{background:#fff;border:1px solid #eee;margin:4px 0}" +
  "h2{border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px}";

export function renderReport(r: ReportInput): string {
  const models = r.evaluations.filter((e) => e.name !== "oracle");
  const s = [
    header(r, models), ...dataQuality(r.quality), ...inputs(r.store), ...spearmanSelection(models), ...training(models),
    ...icTest(r.icTable, r.evaluations), ...groups(r.evaluations), ...enhancement(r.evaluations), ...significance(models),
    ...styles(r.evaluations), ...conventions(r.metrics, r.evaluations.some((e) => e.name === "oracle")),
  ];
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>AlphaNet report</title>
<style>${STYLE}</style>
</head><body>${s.join("\n")}</body></html>`;
}
