/** The report in a real browser: Debian's Chromium driven by playwright-core. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { ROOT } from "../helpers.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

test("the report loads with no console errors, every chart has data, and a screenshot is saved", { timeout: 600_000 }, async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: 'make test' installs Debian's chromium`);
  const out = mkdtempSync(join(tmpdir(), "alphanet-report-"));
  const cfg = join(out, "config.yaml");
  writeFileSync(cfg, `data:
  synthetic: { stocks: 50, start: "2018-01-01", end: "2019-12-31", indexSize: 20, seed: 5 }
schedule: { trainStart: "2018-01-01", testStart: "2019-07-01", testEnd: "2019-12-31", retrainMonths: 6 }
models: [v1, v3]
sampleStep: 10
features: { windows: [5, 10, 20] }
train: { maxEpochs: 2, patience: 2 }
`);
  const r = spawnSync(process.execPath, [join(ROOT, "dist/src/cli/main.js"), "run", "--config", cfg, "--out", out], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"] });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors: string[] = [];
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    page.on("pageerror", (e) => errors.push(e.message));
    const requests: string[] = [];
    page.on("request", (q) => { if (!q.url().startsWith("file:")) requests.push(q.url()); });
    await page.goto(`file://${join(out, "report.html")}`);
    assert.deepEqual(errors, []);
    assert.deepEqual(requests, [], "the report opens without network");
    const charts = await page.$$eval("svg.chart", (els) => els.map((e) => ({
      label: e.getAttribute("aria-label"), points: Number(e.getAttribute("data-points")),
      marks: e.querySelectorAll("polyline[points]:not([points='']), rect").length })));
    assert.ok(charts.length >= 10, `${charts.length} charts`);
    for (const c of charts) assert.ok(c.points > 0 && c.marks > 0, `chart "${c.label}" has no data`);
    for (const id of ["quality", "inputs", "spearman", "training", "ic", "groups", "enhancement", "significance"])
      assert.ok(await page.$(`#${id}`), `section ${id}`);
    const artifacts = join(ROOT, "out", "test-artifacts");
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, "report.png"), fullPage: true });
    assert.ok(existsSync(join(artifacts, "report.png")));
    // PNG copies of the charts beside the report
    const pngs = readdirSync(join(out, "charts")).filter((f) => f.endsWith(".png"));
    assert.equal(pngs.length, charts.length);
  } finally {
    await browser.close();
  }
});
