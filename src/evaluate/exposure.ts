/** A factor's style exposure, in the inner product of the neutralising regression. */
import type { Grid } from "../data/index.js";
import type { StyleExposures } from "../risk/index.js";

/** The correlation of x and y with weights w. */
function weightedPearson(x: number[], y: number[], w: number[]): number {
  let sw = 0, mx = 0, my = 0;
  for (let i = 0; i < x.length; i++) { sw += w[i]; mx += w[i] * x[i]; my += w[i] * y[i]; }
  mx /= sw; my /= sw;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += w[i] * (x[i] - mx) * (y[i] - my); sxx += w[i] * (x[i] - mx) ** 2; syy += w[i] * (y[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/**
 * A factor's exposure to each style: the mean over its dates (every `every` days) of the absolute
 * cross-sectional correlation, weighted by sqrt(cap) (the neutralising regression's weights, so
 * that a factor neutral in that regression reads 0).
 */
export function styleExposure(factor: Grid, styles: StyleExposures, every: number): Record<string, number> {
  const { stocks: S, dates: D } = factor;
  const f = factor.values, cap = styles.cap.values;
  const out: Record<string, number> = {};
  styles.names.forEach((name, j) => {
    const v = styles.values[j].values;
    const cs: number[] = [];
    for (let d = 0; d < D; d += every) {
      const x: number[] = [], y: number[] = [], w: number[] = [];
      for (let s = 0; s < S; s++) {
        const k = factor.index(s, d);
        if (!(Number.isFinite(f[k]) && Number.isFinite(v[k]) && cap[k] > 0)) continue;
        x.push(f[k]); y.push(v[k]); w.push(Math.sqrt(cap[k]));
      }
      if (x.length <= 10) continue;
      const c = weightedPearson(x, y, w);
      if (Number.isFinite(c)) cs.push(Math.abs(c));
    }
    out[name] = cs.length ? cs.reduce((a, b) => a + b, 0) / cs.length : NaN;
  });
  return out;
}
