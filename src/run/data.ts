/**
 * The run's data as the configuration names it, and `alphanet ingest`. Kept apart from the run's
 * workflow so that the commands that only read data do not load the tensor engine.
 */
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Grid, type Panel, type QualityReport, loadBars, loadQlib, syntheticMarket, writeQlib } from "../data/index.js";
import { type Config, UsageError } from "./config.js";

/** The run's data: the synthetic market, a Qlib directory or a bar file, as the configuration says. */
export async function loadData(cfg: Config, log: (s: string) => void = () => {}):
  Promise<{ panel: Panel; quality: QualityReport; oracle?: Grid }> {
  const d = cfg.data;
  if (!d.path) {
    log("data: the synthetic market");
    const m = syntheticMarket({ ...d.synthetic, seed: d.synthetic.seed ?? cfg.seed + 7 });
    return { panel: m.panel, quality: m.quality, oracle: m.oracle };
  }
  if (!existsSync(d.path)) throw new UsageError(`--data ${d.path}: no such file or folder`);
  log(`data: ${d.path}`);
  if (statSync(d.path).isDirectory()) return loadQlib(d.path, { priceBasis: d.priceBasis });
  return loadBars(d.path, {
    preset: d.preset, map: d.map, market: d.market, priceBasis: d.priceBasis, instruments: d.instruments, universeColumn: d.universeColumn,
    encoding: d.encoding, padCodes: d.padCodes,
  });
}

/** `alphanet ingest`: loads and validates the data, writes OUT/data_quality.json (and a Qlib copy); returns the summary. */
export async function ingest(cfg: Config, o: { qlib: boolean }): Promise<Record<string, unknown>> {
  const { panel, quality } = await loadData(cfg);
  mkdirSync(cfg.out, { recursive: true });
  writeFileSync(join(cfg.out, "data_quality.json"), JSON.stringify(quality, null, 2));
  if (o.qlib) writeQlib(panel, join(cfg.out, "qlib"));
  return { stocks: panel.stocks.length, dates: panel.calendar.length, rows_in: quality.rowsIn, rows_kept: quality.rowsKept,
    rows_dropped: quality.rowsDropped, rows_flagged: quality.rowsFlagged, report: join(cfg.out, "data_quality.json") };
}
