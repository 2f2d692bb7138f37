/**
 * PNG copies of the report's charts, drawn by a headless Chromium (Debian's, at /usr/bin/chromium
 * or CHROMIUM_PATH). Without a browser the PNGs are skipped and the reason returned.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Debian's Chromium, headless, offline: no network for updates or background services. */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import("playwright-core");
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"] });
}

export async function chartPngs(htmlPath: string, dir: string): Promise<{ written: number } | { skipped: string }> {
  if (!existsSync(CHROMIUM)) return { skipped: `no Chromium at ${CHROMIUM} (apt-get install chromium) for the PNG copies of the charts` };
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(`file://${htmlPath}`);
    const charts = await page.$$("svg.chart");
    mkdirSync(dir, { recursive: true });
    let i = 0;
    for (const c of charts) {
      const label = ((await c.getAttribute("aria-label")) ?? "chart").replace(/[^A-Za-z0-9]+/g, "_").replace(/^_|_$/g, "").slice(0, 60);
      await c.screenshot({ path: join(dir, `${String(++i).padStart(2, "0")}_${label}.png`) });
    }
    return { written: i };
  } finally {
    await browser.close();
  }
}
