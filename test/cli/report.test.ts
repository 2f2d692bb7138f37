/** The report in a real browser: Debian's Chromium driven by playwright-core. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CHROMIUM, launchChromium } from "../../src/report/png.js";
import { ROOT, alphanet, smallRunConfig } from "../helpers.js";

test("the report loads with no console errors, every chart has data, and a screenshot is saved", { timeout: 600_000 }, async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: 'make test' installs Debian's chromium`);
  const out = mkdtempSync(join(tmpdir(), "alphanet-report-"));
  const cfg = smallRunConfig(out, { stocks: 50, indexSize: 20, seed: 5, models: ["v1", "v4"], maxEpochs: 2 });
  const r = alphanet(["run", "--config", cfg, "--out", out]);
  assert.equal(r.code, 0, r.err);
  const browser = await launchChromium();
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
    const attention = charts.filter((c) => /^v4: attention by time step/.test(c.label ?? ""));
    assert.equal(attention.length, 1, "V4's attention chart");
    assert.equal(attention[0].points, 20, "one window's weights over V4's 20 steps");
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
