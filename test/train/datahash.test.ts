import { test } from "node:test";
import assert from "node:assert/strict";
import { syntheticMarket } from "../../src/data/index.js";
import { dataHash } from "../../src/train/index.js";

test("dataHash: a panel whose missing flags are slots holding undefined (as the loader leaves them) hashes like one without the slots", () => {
  const { panel } = syntheticMarket({ stocks: 20, start: "2019-01-01", end: "2019-03-31", seed: 4 });
  const { limit_up: _u, limit_down: _d, ...kept } = panel.flags;
  const without = { ...panel, flags: kept };
  const withSlots = { ...panel, flags: { ...kept, limit_up: undefined, limit_down: undefined } };
  assert.equal(dataHash(withSlots), dataHash(without));
  // It still tells the data apart: a flag present is hashed.
  assert.notEqual(dataHash(without), dataHash({ ...panel }));
  const changed = { ...without, fields: { ...without.fields, close: without.fields.close!.slice() } };
  changed.fields.close[5] += 0.01;
  assert.notEqual(dataHash(changed), dataHash(without));
});
