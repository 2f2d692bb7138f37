import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng, SYNTHETIC_QUICK, syntheticMarket } from "../../src/data/index.js";
import { PAPER_SCHEDULE, forwardReturns, labelEnd, labelStart, refitRange, rollingWindows } from "../../src/dataset/index.js";

function weekdays(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(from); t <= Date.parse(to); t += 86400000) {
    const d = new Date(t);
    if (d.getUTCDay() % 6 !== 0) out.push(d.toISOString().slice(0, 10));
  }
  return out;
}

test("paper schedule: 5 windows; no label of a segment reaches into the next; no test date in its training data", () => {
  const cal = weekdays("2016-01-01", "2021-06-30");
  for (const horizon of [1, 5, 10, 20]) {
    const ws = rollingWindows(cal, { ...PAPER_SCHEDULE, horizon });
    assert.equal(ws.length, 5);
    assert.deepEqual(ws.map((w) => cal[w.test.from]), ["2019-01-01", "2019-07-01", "2020-01-01", "2020-07-01", "2021-01-01"]);
    for (const w of ws) {
      const segs = [w.train, w.valid, w.test];
      for (let i = 0; i + 1 < segs.length; i++) {
        const lastLabelEnd = labelEnd(segs[i].to - 1, horizon);
        const nextLabelStart = labelStart(segs[i + 1].from);
        assert.ok(lastLabelEnd < nextLabelStart, `horizon ${horizon}: ${lastLabelEnd} >= ${nextLabelStart}`);
      }
      // every date a training label uses is before the first test date
      assert.ok(labelEnd(w.train.to - 1, horizon) < w.test.from && labelEnd(w.valid.to - 1, horizon) < w.test.from);
      assert.ok(w.train.from === 0 && w.train.to > w.train.from + 60);
    }
  }
});

test("random schedules keep the purge property", () => {
  const cal = weekdays("2010-01-01", "2022-12-31");
  const rng = new Rng(3);
  for (let i = 0; i < 50; i++) {
    const horizon = 1 + rng.int(30);
    const start = 2014 + rng.int(4);
    const ws = rollingWindows(cal, { trainStart: "2010-01-01", testStart: `${start}-0${1 + rng.int(9)}-01`, testEnd: "2022-06-30",
      retrainMonths: 1 + rng.int(12), validDays: 20 + rng.int(100), horizon });
    for (const w of ws) {
      assert.ok(labelEnd(w.train.to - 1, horizon) < labelStart(w.valid.from));
      assert.ok(labelEnd(w.valid.to - 1, horizon) < labelStart(w.test.from));
    }
  }
});

test("random schedules: the refit trains on no date whose label reaches into the test window; early stopping's segments keep their purge gaps", () => {
  const rng = new Rng(11);
  let checked = 0;
  for (let i = 0; i < 200; i++) {
    // A random calendar: weekdays from a random start, with random holidays.
    const y0 = 2005 + rng.int(8);
    const cal = weekdays(`${y0}-01-01`, `${y0 + 4 + rng.int(6)}-12-31`).filter(() => rng.uniform() > 0.04);
    const horizon = 1 + rng.int(40);
    const validDays = rng.uniform() < 0.25 ? undefined : 10 + rng.int(200);
    const trainStart = cal[rng.int(60)];
    const testStart = cal[400 + rng.int(cal.length - 420)];
    const testEnd = cal[Math.min(cal.length - 1, cal.indexOf(testStart) + 5 + rng.int(700))];
    let ws;
    try {
      ws = rollingWindows(cal, { trainStart, testStart, testEnd, retrainMonths: 1 + rng.int(12), validDays, horizon });
    } catch (e) {
      assert.match((e as Error).message, /training dates before it/);
      continue;
    }
    for (const w of ws) {
      checked++;
      if (validDays !== undefined) assert.equal(w.valid.to - w.valid.from, validDays);
      else assert.equal(w.valid.to - w.valid.from, Math.max(40, Math.round((w.valid.to - w.train.from) * 0.2)));
      assert.ok(labelEnd(w.train.to - 1, horizon) < labelStart(w.valid.from), `train -> valid, horizon ${horizon}`);
      assert.ok(labelEnd(w.valid.to - 1, horizon) < labelStart(w.test.from), `valid -> test, horizon ${horizon}`);
      const r = refitRange(w);
      // The refit trains on every date from the training start through the validation tail's end...
      assert.equal(r.from, w.train.from);
      assert.ok(r.to >= w.valid.to && r.to >= w.train.to);
      // ...and no label of any of those dates (vwap t + 1 to t + 1 + h) uses a test date.
      for (let t = r.from; t < r.to; t++) assert.ok(labelEnd(t, horizon) < w.test.from, `date ${cal[t]}: label ends ${cal[labelEnd(t, horizon)]}, test from ${cal[w.test.from]}`);
      // The last refit date's label ends the day before the test window: nothing is thrown away.
      assert.equal(labelEnd(r.to - 1, horizon), w.test.from - 1);
    }
  }
  assert.ok(checked > 300, `${checked} windows checked`);
});

test("bad schedules say what is wrong", () => {
  const cal = weekdays("2018-01-01", "2019-12-31");
  assert.throws(() => rollingWindows(cal, { ...PAPER_SCHEDULE, horizon: 10 }), /test end 2021-06-01 is after the data's last date 2019-12-31/);
  assert.throws(() => rollingWindows(cal, { ...PAPER_SCHEDULE, testStart: "2020-03-01", horizon: 10 }), /outside the data/);
  assert.throws(() => rollingWindows(cal, { trainStart: "2018-01-01", testStart: "2018-02-01", testEnd: "2019-06-01", retrainMonths: 6, horizon: 10 }),
    /training dates before it/);
});

test("labels: vwap t+1 to t+1+h; none past the data; none entered on a suspended day", () => {
  const m = syntheticMarket({ ...SYNTHETIC_QUICK, stocks: 40 });
  const p = m.panel;
  const D = p.calendar.length;
  const { fwd, missing } = forwardReturns(p, 10);
  const v = p.fields.vwap!;
  for (let s = 0; s < 40; s++) for (let d = 0; d < D; d++) {
    const k = s * D + d;
    assert.equal(fwd.index(s, d), k);
    if (!Number.isFinite(fwd.at(s, d))) continue;
    assert.ok(d + 11 < D);
    assert.equal(fwd.at(s, d), v[k + 11] / v[k + 1] - 1);
    assert.equal(p.flags.is_suspended![k + 1], 0);
  }
  assert.ok(missing.past_the_data > 0 && missing.not_tradable_at_entry > 0);
});
