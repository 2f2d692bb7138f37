/**
 * Rolling, leakage-free splits. Each test window trains on everything from the start date up to
 * the window (expanding), keeps a validation tail, and leaves a purge gap of horizon + 1 dates
 * between train, validation and test: the label of the last sample of a segment (entered at t + 1,
 * exited at t + 1 + h) ends before the first label of the next segment begins.
 */

/** Date index ranges [from, to): `to` excluded. */
export interface Range {
  from: number;
  to: number;
}

export interface RollingWindow {
  name: string;
  train: Range;
  valid: Range;
  test: Range;
}

export interface ScheduleOptions {
  trainStart: string;
  testStart: string;
  testEnd: string;
  /** Months per test window (the paper: 6). */
  retrainMonths: number;
  /** Validation tail in trading days (default: 20% of the training span, at least 40). */
  validDays?: number;
  horizon: number;
}

/** The paper's schedule: training from 2016-01-01, 6-month tests from 2019-01-01 to 2021-06-01. */
export const PAPER_SCHEDULE: Omit<ScheduleOptions, "horizon"> = {
  trainStart: "2016-01-01", testStart: "2019-01-01", testEnd: "2021-06-01", retrainMonths: 6,
};

function addMonths(date: string, months: number): string {
  const [y, m, d] = date.split("-").map(Number);
  const t = new Date(Date.UTC(y, m - 1 + months, d));
  return t.toISOString().slice(0, 10);
}

const firstAtOrAfter = (cal: string[], date: string): number => {
  let lo = 0, hi = cal.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cal[mid] < date) lo = mid + 1;
    else hi = mid;
  }
  return lo;
};

export function rollingWindows(calendar: string[], o: ScheduleOptions): RollingWindow[] {
  const gap = o.horizon + 1;
  const start = firstAtOrAfter(calendar, o.trainStart);
  const end = firstAtOrAfter(calendar, o.testEnd + "~"); // dates <= testEnd
  if (o.testStart >= o.testEnd) throw new RangeError(`the test start ${o.testStart} is not before the test end ${o.testEnd}`);
  const last = calendar[calendar.length - 1];
  if (!calendar.length || o.testStart > last || o.testEnd < calendar[0] || o.testStart < calendar[0])
    throw new RangeError(`the test window ${o.testStart}..${o.testEnd} is outside the data (${calendar[0]}..${last})`);
  // A test end more than a week past the data would silently shorten the last window.
  if (Date.parse(o.testEnd) - Date.parse(last) > 7 * 86400000)
    throw new RangeError(`the test end ${o.testEnd} is after the data's last date ${last}: set --test-end to ${last} or earlier`);
  const windows: RollingWindow[] = [];
  for (let a = o.testStart, next = addMonths(a, o.retrainMonths); a < o.testEnd; a = next, next = addMonths(a, o.retrainMonths)) {
    const b = next < o.testEnd ? next : o.testEnd;
    const testFrom = firstAtOrAfter(calendar, a);
    const testTo = Math.min(end, firstAtOrAfter(calendar, b));
    if (testTo <= testFrom) continue;
    const validTo = testFrom - gap;
    const span = validTo - start;
    const validDays = o.validDays ?? Math.max(40, Math.round(span * 0.2));
    const validFrom = validTo - validDays;
    const trainTo = validFrom - gap;
    if (trainTo - start < 60)
      throw new RangeError(`test window from ${a}: only ${Math.max(0, trainTo - start)} training dates before it (need 60); ` +
        `move --test-start later or --train-start earlier`);
    windows.push({ name: `${calendar[testFrom]}..${calendar[testTo - 1]}`, train: { from: start, to: trainTo },
      valid: { from: validFrom, to: validTo }, test: { from: testFrom, to: testTo } });
  }
  if (!windows.length) throw new RangeError(`no test dates between ${o.testStart} and ${o.testEnd}`);
  return windows;
}

/** Each segment of a window as its first and last date (YYYY-MM-DD), for manifests and metrics. */
export function windowDates(calendar: string[], w: RollingWindow): Record<"train" | "valid" | "test", [string, string]> {
  const span = (r: Range): [string, string] => [calendar[r.from], calendar[r.to - 1]];
  return { train: span(w.train), valid: span(w.valid), test: span(w.test) };
}

/**
 * The refit's training range: train and validation together, [train.from, valid.to). It is
 * contiguous (the gap between them is only there to keep validation labels out of training) and
 * ends where the validation tail does, so the purge gap of horizon + 1 dates before the test
 * window still keeps every label it trains on out of the test.
 */
export const refitRange = (w: RollingWindow): Range => ({ from: w.train.from, to: w.valid.to });

/** The date index of the last day a label of a sample at date t uses. */
export const labelEnd = (t: number, horizon: number): number => t + 1 + horizon;
/** The date index of the first day a label of a sample at date t uses. */
export const labelStart = (t: number): number => t + 1;
