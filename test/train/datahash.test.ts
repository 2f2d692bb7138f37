import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadBars } from "../../src/data/index.js";
import { dataHash } from "../../src/train/index.js";
import { SHARED } from "../helpers.js";

test("dataHash of a loaded US panel: the loader keeps no empty flag slot (the S&P 500 file once crashed the resume check), and the hash tells the data apart", async () => {
  const { panel } = await loadBars(join(SHARED, "data/sp500-2013-2018.csv.gz"), { priceBasis: "split-adjusted" });
  assert.ok(!("limit_up" in panel.flags) && !("limit_down" in panel.flags), "US data has no price limits: the flags are absent, not undefined slots");
  for (const [name, f] of Object.entries(panel.flags)) assert.ok(f instanceof Uint8Array, `flag ${name}`);
  const h = dataHash(panel);
  assert.match(h, /^[0-9a-f]{16}$/);
  const changed = { ...panel, fields: { ...panel.fields, close: panel.fields.close!.slice() } };
  changed.fields.close[5] += 0.01;
  assert.notEqual(dataHash(changed), h);
});
