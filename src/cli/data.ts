/**
 * The run's data as the configuration names it. Kept apart from the run's workflow so that the
 * commands that only read data (ingest) do not load the tensor engine.
 */
import { existsSync, statSync } from "node:fs";
import { type Panel, type QualityReport, loadBars, loadQlib, syntheticMarket } from "../data/index.js";
import { type Config, UsageError } from "./config.js";

/** The run's data: the synthetic market, a Qlib directory or a bar file, as the configuration says. */
export async function loadData(cfg: Config, log: (s: string) => void = () => {}):
  Promise<{ panel: Panel; quality: QualityReport; oracle?: Float64Array }> {
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
