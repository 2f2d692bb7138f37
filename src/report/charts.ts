/**
 * The report's drawing: inline SVG charts (each an <svg class="chart"> with data-points = the
 * number of values it draws) and HTML tables, from numbers given to them.
 */
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
export const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
export const fmt = (x: number, digits = 4): string => (Number.isFinite(x) ? x.toFixed(digits) : "–");
/** Decimals enough for an axis' two ends to read differently (attention weights span 0.005). */
const axisDigits = (lo: number, hi: number): number => Math.min(6, Math.max(3, Math.ceil(-Math.log10(hi - lo || 1)) + 1));
export const pct = (x: number, digits = 2): string => (Number.isFinite(x) ? `${(x * 100).toFixed(digits)}%` : "–");

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
    return `<rect x="${(pad.l + i * bw).toFixed(1)}" y="${(height - pad.b - h).toFixed(1)}" width="${(bw - 1).toFixed(1)}" height="${h.toFixed(1)}" ` +
      `fill="#1f77b4"><title>${fmt(lo + i * w, 3)}..${fmt(lo + (i + 1) * w, 3)}: ${c}</title></rect>`;
  });
  const digits = axisDigits(lo, hi);
  return `${svgOpen(title, v.length, width, height, pad.l)}
<text x="${pad.l}" y="${height - 8}" font-size="10">${fmt(lo, digits)}</text>` +
    `<text x="${width - pad.r}" y="${height - 8}" font-size="10" text-anchor="end">${fmt(hi, digits)}</text>
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
    return `<rect x="${(pad.l + i * bw + 2).toFixed(1)}" y="${Math.min(y0, y1).toFixed(1)}" width="${(bw - 4).toFixed(1)}" ` +
      `height="${Math.abs(y1 - y0).toFixed(1)}" fill="${v >= 0 ? "#2ca02c" : "#d62728"}"><title>${esc(labels[i])}: ${fmt(v)}</title></rect>
<text x="${(pad.l + (i + 0.5) * bw).toFixed(1)}" y="${height - 12}" font-size="10" text-anchor="middle">${esc(labels[i])}</text>`;
  });
  const digits = axisDigits(lo, hi);
  return `${svgOpen(title, values.filter(Number.isFinite).length, width, height, pad.l)}
<text x="${pad.l - 4}" y="${pad.t + 8}" font-size="10" text-anchor="end">${fmt(hi, digits)}</text>` +
    `<text x="${pad.l - 4}" y="${height - pad.b}" font-size="10" text-anchor="end">${fmt(lo, digits)}</text>
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
    return `<rect x="${l + j * cw}" y="${t + i * ch}" width="${cw - 1}" height="${ch - 1}" fill="${color}">` +
      `<title>${esc(rows[i])}, ${esc(cols[j])}: ${fmt(x)}</title></rect>`;
  }));
  return `${svgOpen(title, v.length, width, height, 4)}
${cols.map((c, j) => `<text x="${l + j * cw + cw / 2}" y="${t - 6}" font-size="10" text-anchor="middle">${esc(c)}</text>`).join("")}
${rows.map((r, i) => `<text x="${l - 6}" y="${t + i * ch + 13}" font-size="10" text-anchor="end">${esc(r)}</text>`).join("")}
${cells.join("")}</svg>`;
}

export function table(head: string[], rows: (string | number)[][]): string {
  const cell = (v: string | number): string => (typeof v === "number" ? `<td class="num">${fmt(v)}</td>` : `<td>${esc(v)}</td>`);
  const body = rows.map((r) => `<tr>${r.map(cell).join("")}</tr>`).join("");
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${body}</tbody></table>`;
}
