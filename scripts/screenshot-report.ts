/**
 * A picture of a run's report page, for the README: the matrix, and optionally one cell's
 * drill-down opened by its anchor.
 *
 *   npx tsx scripts/screenshot-report.ts <run folder> <out.png> [#r-<scenario>--<version>]
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { CHROMIUM, CHROMIUM_ARGS, ensureChromium } from "../test/browser/chromium.ts";
import { runScript } from "./run-script.ts";

async function main(): Promise<void> {
  const [dir, out, anchor] = process.argv.slice(2);
  if (!dir || !out) throw new Error("usage: screenshot-report.ts <run folder> <out.png> [#r-<scenario>--<version>]");
  await ensureChromium();
  const browser = await chromium.launch({ executablePath: CHROMIUM.provides, args: CHROMIUM_ARGS, timeout: 60_000 });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(`${pathToFileURL(resolve(dir, "index.html")).href}${anchor ?? ""}`);
    await page.waitForLoadState("load");
    await page.screenshot({ path: out, fullPage: anchor === undefined });
  } finally {
    await browser.close();
  }
}

runScript(main);
