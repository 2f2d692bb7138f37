/**
 * The report: one self-contained HTML file (inline CSS and SVG, no script, no network) that
 * renders the evaluation's tables; every number in it comes from metrics.json and the CSVs beside
 * it. Each chart is an <svg class="chart"> with data-points = the number of values it draws.
 */
import type { Panel, QualityReport } from "../data/index.js";
import type { FeatureStoreMeta } from "../features/index.js";
import type { GroupResult, IcTest, EnhancementResult, Significance } from "../evaluate/index.js";

export interface ReportModel {
  name: string;
  ic: IcTest;
  decay: { horizon: number; ic: number; rankIc: number }[];
  groups: GroupResult;
  enhancement: EnhancementResult | null;
  styleExposure: Record<string, number>;
  /**
   * The factor neutralised as the loss sees it (the CNE5 regression's residual on every date): its
   * IC and rank IC against the raw forward return, and its style exposure. With `factor: neutral`
   * the row is the neutralised factor and this is the raw one beside it (label "raw").
   */
  neutral?: { ic: number; rankIc: number; styleExposure: Record<string, number>; label?: string };
  trainSeconds: number;
  rolling?: {
    windows: { window: string; log: { epoch: number; loss: number; validIc: number; validSharpe: number }[];
      selection: { kept: number; names: string[]; dropped: { name: string; by: string; rho: number }[] } | null;
      /** V4: attention weights over the T steps, oldest first, averaged over the window's test samples. */
      attention?: number[] }[];
    significance: Significance | null;
  };
}

export interface ReportInput {
  metrics: Record<string, unknown>;
  evaluations: ReportModel[];
  quality: QualityReport;
  store: FeatureStoreMeta;
  panel: Panel;
}

export { chartPngs, launchChromium } from "./png.js";

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const fmt = (x: number, digits = 4): string => (Number.isFinite(x) ? x.toFixed(digits) : "–");
/** Decimals enough for an axis' two ends to read differently (attention weights span 0.005). */
const axisDigits = (lo: number, hi: number): number => Math.min(6, Math.max(3, Math.ceil(-Math.log10(hi - lo || 1)) + 1));
const pct = (x: number, digits = 2): string => (Number.isFinite(x) ? `${(x * 100).toFixed(digits)}%` : "–");

/** The opening of a chart: `data-points` lets the browser test check that every chart has data. */
function svgOpen(title: string, points: number, width: number, height: number, titleX: number): string {
  return `<svg class="chart" data-points="${points}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(title)}">
<text x="${titleX}" y="14" font-size="12" font-weight="bold">${esc(title)}</text>`;
}

interface Series {
  name: string;
  y: number[];
}

/** A line chart of series over a shared x index, labelled with `x` at the ends. */
export function lineChart(title: string, x: string[], series: Series[], { height = 220, width = 640, zero = false } = {}): string {
  const pad = { l: 56, r: 12, t: 24, b: 36 };
  const all = series.flatMap((s) => s.y.filter(Number.isFinite));
  if (zero) all.push(0);
  const lo = all.length ? Math.min(...all) : 0;
  const hi = all.length ? Math.max(...all) : 1;
  const span = hi - lo || 1;
  const digits = axisDigits(lo, hi);
  const n = Math.max(1, ...series.map((s) => s.y.length));
  const px = (i: number): number => pad.l + ((width - pad.l - pad.r) * i) / Math.max(1, n - 1);
  const py = (v: number): number => pad.t + (height - pad.t - pad.b) * (1 - (v - lo) / span);
  const lines = series.map((s, k) => {
    const pts = s.y.map((v, i) => (Number.isFinite(v) ? `${px(i).toFixed(1)},${py(v).toFixed(1)}` : "")).filter(Boolean).join(" ");
    return `<polyline fill="none" stroke="${COLORS[k % COLORS.length]}" stroke-width="1.5" points="${pts}"><title>${esc(s.name)}</title></polyline>`;
  });
  const legend = series.map((s, k) => `<tspan fill="${COLORS[k % COLORS.length]}" dx="10">■ ${esc(s.name)}</tspan>`).join("");
  const zeroLine = lo < 0 && hi > 0 ? `<line x1="${pad.l}" x2="${width - pad.r}" y1="${py(0)}" y2="${py(0)}" stroke="#999" stroke-dasharray="3,3"/>` : "";
  return `${svgOpen(title, all.length, width, height, pad.l)}
<text x="${pad.l}" y="${height - 6}" font-size="11">${legend}</text>
<line x1="${pad.l}" x2="${pad.l}" y1="${pad.t}" y2="${height - pad.b}" stroke="#333"/>
<line x1="${pad.l}" x2="${width - pad.r}" y1="${height - pad.b}" y2="${height - pad.b}" stroke="#333"/>
<text x="${pad.l - 4}" y="${pad.t + 8}" font-size="10" text-anchor="end">${fmt(hi, digits)}</text>
<text x="${pad.l - 4}" y="${height - pad.b}" font-size="10" text-anchor="end">${fmt(lo, digits)}</text>
<text x="${pad.l}" y="${height - pad.b + 12}" font-size="10">${esc(x[0] ?? "")}</text>
<text x="${width - pad.r}" y="${height - pad.b + 12}" font-size="10" text-anchor="end">${esc(x[x.length - 1] ?? "")}</text>
${zeroLine}${lines.join("\n")}</svg>`;
}

export function histogram(title: string, values: number[], bins = 20, { height = 200, width = 420 } = {}): string {
  const v = values.filter(Number.isFinite);
  const lo = v.length ? Math.min(...v) : 0, hi = v.length ? Math.max(...v) : 1;
  const w = (hi - lo || 1) / bins;
  const counts = new Array(bins).fill(0);
  for (const x of v) counts[Math.min(bins - 1, Math.floor((x - lo) / w))]++;
  const max = Math.max(1, ...counts);
  const pad = { l: 36, r: 8, t: 24, b: 30 };
  const bw = (width - pad.l - pad.r) / bins;
  const bars = counts.map((c, i) => {
    const h = ((height - pad.t - pad.b) * c) / max;
    return `<rect x="${(pad.l + i * bw).toFixed(1)}" y="${(height - pad.b - h).toFixed(1)}" width="${(bw - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="#1f77b4"><title>${fmt(lo + i * w, 3)}..${fmt(lo + (i + 1) * w, 3)}: ${c}</title></rect>`;
  });
  return `${svgOpen(title, v.length, width, height, pad.l)}
<text x="${pad.l}" y="${height - 8}" font-size="10">${fmt(lo, axisDigits(lo, hi))}</text><text x="${width - pad.r}" y="${height - 8}" font-size="10" text-anchor="end">${fmt(hi, axisDigits(lo, hi))}</text>
${bars.join("")}</svg>`;
}

export function barChart(title: string, labels: string[], values: number[], { height = 200, width = 420 } = {}): string {
  const pad = { l: 56, r: 8, t: 24, b: 30 };
  const lo = Math.min(0, ...values.filter(Number.isFinite)), hi = Math.max(0, ...values.filter(Number.isFinite));
  const span = hi - lo || 1;
  const py = (v: number): number => pad.t + (height - pad.t - pad.b) * (1 - (v - lo) / span);
  const bw = (width - pad.l - pad.r) / Math.max(1, values.length);
  const bars = values.map((v, i) => {
    const y0 = py(0), y1 = py(Number.isFinite(v) ? v : 0);
    return `<rect x="${(pad.l + i * bw + 2).toFixed(1)}" y="${Math.min(y0, y1).toFixed(1)}" width="${(bw - 4).toFixed(1)}" height="${Math.abs(y1 - y0).toFixed(1)}" fill="${v >= 0 ? "#2ca02c" : "#d62728"}"><title>${esc(labels[i])}: ${fmt(v)}</title></rect>
<text x="${(pad.l + (i + 0.5) * bw).toFixed(1)}" y="${height - 12}" font-size="10" text-anchor="middle">${esc(labels[i])}</text>`;
  });
  return `${svgOpen(title, values.filter(Number.isFinite).length, width, height, pad.l)}
<text x="${pad.l - 4}" y="${pad.t + 8}" font-size="10" text-anchor="end">${fmt(hi, axisDigits(lo, hi))}</text><text x="${pad.l - 4}" y="${height - pad.b}" font-size="10" text-anchor="end">${fmt(lo, axisDigits(lo, hi))}</text>
<line x1="${pad.l}" x2="${width - pad.r}" y1="${py(0)}" y2="${py(0)}" stroke="#333"/>${bars.join("")}</svg>`;
}

/** A heat map of a rows x columns matrix (NaN cells blank). */
export function heatmap(title: string, rows: string[], cols: string[], m: number[][]): string {
  const cw = 56, ch = 18, l = 150, t = 40;
  const v = m.flat().filter(Number.isFinite);
  const lo = v.length ? Math.min(...v) : 0, hi = v.length ? Math.max(...v) : 1;
  const width = l + cols.length * cw + 10, height = t + rows.length * ch + 10;
  const cells = m.flatMap((r, i) => r.map((x, j) => {
    if (!Number.isFinite(x)) return "";
    const a = (x - lo) / (hi - lo || 1);
    const color = `rgb(${Math.round(255 - 200 * a)},${Math.round(255 - 120 * a)},255)`;
    return `<rect x="${l + j * cw}" y="${t + i * ch}" width="${cw - 1}" height="${ch - 1}" fill="${color}"><title>${esc(rows[i])}, ${esc(cols[j])}: ${fmt(x)}</title></rect>`;
  }));
  return `${svgOpen(title, v.length, width, height, 4)}
${cols.map((c, j) => `<text x="${l + j * cw + cw / 2}" y="${t - 6}" font-size="10" text-anchor="middle">${esc(c)}</text>`).join("")}
${rows.map((r, i) => `<text x="${l - 6}" y="${t + i * ch + 13}" font-size="10" text-anchor="end">${esc(r)}</text>`).join("")}
${cells.join("")}</svg>`;
}

function table(head: string[], rows: (string | number)[][]): string {
  const cell = (v: string | number): string => (typeof v === "number" ? `<td class="num">${fmt(v)}</td>` : `<td>${esc(v)}</td>`);
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map(cell).join("")}</tr>`).join("")}</tbody></table>`;
}

export function renderReport(r: ReportInput): string {
  const q = r.quality;
  const models = r.evaluations.filter((e) => e.name !== "oracle");
  const oracle = r.evaluations.find((e) => e.name === "oracle");
  const s: string[] = [];
  s.push(`<h1>AlphaNet report</h1><p>${esc(r.panel.stocks.length.toString())} stocks × ${r.panel.calendar.length} dates (${esc(r.panel.calendar[0])} to ${esc(r.panel.calendar[r.panel.calendar.length - 1])}); prices: ${esc(q.priceBasis)}. Models: ${models.map((m) => esc(m.name)).join(", ")}.</p>`);
  s.push(`<h2 id="quality">Data quality</h2><p>${q.rowsIn} rows in = ${q.rowsKept} kept + ${Object.values(q.rowsDropped).reduce((a, b) => a + b, 0)} dropped.</p>`);
  s.push(table(["what", "reason", "count"], [
    ...Object.entries(q.rowsDropped).map(([k, v]) => ["rows dropped", k, String(v)]),
    ...Object.entries(q.rowsFlagged).map(([k, v]) => ["rows flagged (kept)", k, String(v)]),
    ...Object.entries(q.cells).map(([k, v]) => ["panel cells", k, String(v)]),
  ]));
  if (q.derived.length) s.push(`<h3>Derived fields</h3><ul>${q.derived.map((d) => `<li><b>${esc(d.field)}</b>: ${esc(d.how)}</li>`).join("")}</ul>`);
  if (q.notes.length) s.push(`<ul>${q.notes.map((n) => `<li>${esc(n)}</li>`).join("")}</ul>`);
  s.push(`<h2 id="inputs">Inputs and stand-ins</h2>`);
  s.push(r.store.standIns.length ? `<ul>${r.store.standIns.map((x) => `<li><b>${esc(x.input)}</b>: ${esc(x.how)}</li>`).join("")}</ul>` : "<p>All 13 inputs computed from the data; no stand-ins.</p>");
  s.push(`<p>Windows masked for missing input: ${Object.entries(r.store.masked).map(([d, n]) => `d=${d}: ${n}`).join(", ")}.</p>`);
  const withSel = models.find((m) => m.rolling?.windows.some((w) => w.selection));
  if (withSel) {
    s.push(`<h2 id="spearman">Spearman selection</h2>`);
    s.push(table(["window", "kept of 208"], withSel.rolling!.windows.map((w) => [w.window, String(w.selection?.kept ?? 208)])));
    const last = withSel.rolling!.windows.at(-1)!.selection;
    if (last) {
      s.push(`<details><summary>Kept features (last window, d = 10)</summary><p class="small">${last.names.map(esc).join(", ")}</p></details>`);
      s.push(`<details><summary>Dropped features and the kept feature that dropped each (|Spearman rho| > threshold)</summary>${table(["dropped", "by", "rho"], last.dropped.map((d) => [d.name, d.by, d.rho]))}</details>`);
    }
  }
  s.push(`<h2 id="training">Training curves</h2>`);
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
  s.push(`<h2 id="ic">IC test (table 1-1)</h2>`);
  s.push(table(["model", "IC mean", "IC std", "IR", "rank IC mean", "rank IC std", "rank IR", "t", "IC > 0"],
    r.evaluations.map((e) => [e.name, e.ic.summary.ic.mean, e.ic.summary.ic.std, e.ic.summary.ic.ir, e.ic.summary.rankIc.mean,
      e.ic.summary.rankIc.std, e.ic.summary.rankIc.ir, e.ic.summary.ic.t, pct(e.ic.summary.ic.positive, 0)])));
  for (const m of r.evaluations) {
    s.push(`<div class="row">${lineChart(`${m.name}: IC by rebalance date`, m.ic.dates, [{ name: "IC", y: m.ic.ic }, { name: "rank IC", y: m.ic.rankIc }], { zero: true, width: 520 })}${histogram(`${m.name}: IC histogram`, m.ic.ic)}</div>`);
  }
  s.push(table(["model", ...(r.evaluations[0]?.ic.byYear.map((y) => `IC ${y.year}`) ?? [])], r.evaluations.map((e) => [e.name, ...e.ic.byYear.map((y) => y.ic)])));
  s.push(table(["model", ...(r.evaluations[0]?.decay.map((d) => `rank IC h=${d.horizon}`) ?? [])], r.evaluations.map((e) => [e.name, ...e.decay.map((d) => d.rankIc)])));
  s.push(`<h2 id="groups">Stratification (table 5-2, figure 5-1)</h2>`);
  const G = r.evaluations[0]?.groups.groups ?? 5;
  s.push(table(["model", ...Array.from({ length: G }, (_, g) => `group ${g + 1}`), "long-short"],
    r.evaluations.map((e) => [e.name, ...e.groups.annualExcess.map((x) => pct(x)), pct(e.groups.longShortAnnual)])));
  for (const m of r.evaluations) {
    s.push(`<div class="row">${lineChart(`${m.name}: cumulative NAV by group (group 1 = highest factor)`, m.groups.dates,
      [...m.groups.nav.map((n, g) => ({ name: `G${g + 1}`, y: n })), { name: "universe", y: m.groups.universe }], { width: 520 })}${barChart(`${m.name}: annual excess by group`, m.groups.annualExcess.map((_, g) => `G${g + 1}`), m.groups.annualExcess)}</div>`);
  }
  const enh = r.evaluations.filter((e) => e.enhancement && e.enhancement.dates.length);
  s.push(`<h2 id="enhancement">Index enhancement (table 5-3)</h2>`);
  if (enh.length) {
    s.push(table(["model", "year", "excess return", "holdings", "volatility", "Sharpe", "max drawdown", "turnover"],
      enh.flatMap((e) => e.enhancement!.byYear.map((y) => [e.name, y.year, pct(y.excess_return), y.holdings.toFixed(1), pct(y.volatility), fmt(y.sharpe, 2), pct(y.max_drawdown), pct(y.turnover)]))));
    s.push(`<p>Largest constraint violation over all rebalances: ${enh.map((e) => `${esc(e.name)} ${e.enhancement!.maxConstraintViolation.toExponential(2)} (${e.enhancement!.relaxed} of ${e.enhancement!.rebalances} rebalances relaxed)`).join("; ")}.</p>`);
    for (const m of enh) {
      const e = m.enhancement!;
      const rel = e.nav.map((v, i) => v / e.benchmark[i]);
      let peak = -Infinity;
      const dd = rel.map((v) => { peak = Math.max(peak, v); return v / peak - 1; });
      s.push(`<div class="row">${lineChart(`${m.name}: enhanced portfolio vs benchmark`, e.dates, [{ name: "portfolio", y: e.nav }, { name: "benchmark", y: e.benchmark }], { width: 520 })}${lineChart(`${m.name}: drawdown of the excess NAV`, e.dates, [{ name: "drawdown", y: dd }], { width: 420, zero: true })}</div>`);
    }
  } else {
    s.push("<p>No benchmark index weights in the data: the enhanced portfolio is not run.</p>");
  }
  s.push(`<h2 id="significance">Parameter significance (figure 5-2)</h2>`);
  for (const m of models) {
    const sig = m.rolling?.significance;
    if (!sig) continue;
    const ops = [...new Set(sig.features.map((f) => f.operator))];
    const wins = [...new Set(sig.features.map((f) => String(f.window)))];
    const grid = ops.map((op) => wins.map((w) => {
      const xs = sig.features.filter((f) => f.operator === op && String(f.window) === w).map((f) => f.value);
      return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
    }));
    s.push(heatmap(`${m.name}: mean |first-layer weight| by operator and window`, ops, wins.map((w) => `d=${w}`), grid));
    const inputs = Object.entries(sig.byInput).sort((a, b) => b[1] - a[1]);
    s.push(barChart(`${m.name}: by input`, inputs.map(([k]) => k.replace(/^div_/, "").slice(0, 10)), inputs.map(([, v]) => v), { width: 900 }));
  }
  s.push(`<h2 id="styles">Style exposure of the factors</h2>`);
  s.push(`<p>Mean absolute cross-sectional correlation with each style, weighted by &radic;cap (the neutralising regression&rsquo;s weights). The loss neutralises the prediction before comparing it with the neutralised target, so the raw output may carry any style tilt at no cost; the neutralised factor (the same regression applied to each date's predictions, written as <code>factor_neutral_*.csv</code>) carries none. A random factor reads about 0.8/&radic;stocks.</p>`);
  const styleNames = Object.keys(r.evaluations[0]?.styleExposure ?? {});
  s.push(table(["factor", "IC", "rank IC", ...styleNames], r.evaluations.flatMap((e) => [
    [e.name, e.ic.summary.ic.mean, e.ic.summary.rankIc.mean, ...styleNames.map((k) => e.styleExposure[k])],
    ...(e.neutral ? [[`${e.name} ${e.neutral.label ?? "neutralised"}`, e.neutral.ic, e.neutral.rankIc, ...styleNames.map((k) => e.neutral!.styleExposure[k])]] : []),
  ])));
  const conv = r.metrics.conventions as Record<string, unknown>;
  s.push(`<h2 id="conventions">Conventions</h2><ul>${Object.entries(conv).map(([k, v]) => `<li><b>${esc(k)}</b>: ${esc(typeof v === "string" ? v : JSON.stringify(v))}</li>`).join("")}</ul>`);
  if (oracle) s.push(`<p>The oracle row is the synthetic market's planted signal on the same dates: the best IC any model can reach.</p>`);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>AlphaNet report</title>
<style>body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1120px;color:#222}table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ccc;padding:3px 8px}td.num{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}.row{display:flex;flex-wrap:wrap;gap:12px}.small{font-size:12px}svg.chart{background:#fff;border:1px solid #eee;margin:4px 0}h2{border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px}</style>
</head><body>${s.join("\n")}</body></html>`;
}
