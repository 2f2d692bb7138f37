/** Labels, samples and rolling splits. */
export { forwardReturns, makeLabels, type Labels } from "./labels.js";
export { PAPER_SCHEDULE, labelEnd, labelStart, refitRange, rollingWindows, windowDates, type Range, type RollingWindow, type ScheduleOptions } from "./splits.js";
export { buildSamples, type SampleOptions, type SampleSet } from "./samples.js";
