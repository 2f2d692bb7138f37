/** A progress bar with an ETA on stderr (a line per update when stderr is not a terminal is too much: then silent). */
import type { EpochLog } from "../train/index.js";

/** One epoch's log line. */
export const epochLine = (e: EpochLog): string =>
  `epoch ${e.epoch}: loss ${e.loss.toFixed(4)}, valid IC ${e.validIc.toFixed(4)}, valid Sharpe ${e.validSharpe.toFixed(2)}, lr ${e.lr.toExponential(2)}, ${e.seconds.toFixed(1)} s`;

export interface Progress {
  update(done: number, total: number): void;
  done(): void;
}

export function progressBar(label: string, enabled: boolean): Progress {
  const start = Date.now();
  let last = 0;
  let shown = false;
  return {
    update(done, total) {
      if (!enabled) return;
      const now = Date.now();
      if (now - last < 200 && done < total) return;
      last = now;
      const frac = total > 0 ? done / total : 0;
      const elapsed = (now - start) / 1000;
      const eta = frac > 0 ? elapsed * (1 / frac - 1) : NaN;
      const width = 24;
      const bar = "#".repeat(Math.round(frac * width)).padEnd(width, ".");
      const fmt = (s: number): string => (Number.isFinite(s) ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, "0")}s` : "?");
      process.stderr.write(`\r${label} [${bar}] ${done}/${total} ${fmt(elapsed)} elapsed, ETA ${fmt(eta)}   `);
      shown = true;
    },
    done() {
      if (shown) process.stderr.write("\n");
      shown = false;
    },
  };
}
