/**
 * Time to write the reports of a synthetic 30-version × 40-scenario run (through the
 * RunRecorder, as a run writes them) and to open its index.html in Debian's chromium.
 * Printed, not asserted.
 *
 *   npm run bench:reports [-- --versions 30 --scenarios 40 --runs 3]
 */
import { statSync } from "node:fs";
import { cp, readFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";
import { compareWithPrevious } from "../harness/report/compare.ts";
import { renderHtml } from "../harness/report/html.ts";
import { renderJunit } from "../harness/report/junit.ts";
import { renderMarkdown } from "../harness/report/markdown.ts";
import type { ResultsDocument } from "../harness/report/model.ts";
import { resultAnchor } from "../harness/report/verdicts.ts";
import { RunRecorder } from "../harness/run/recorder.ts";
import { CHROMIUM, CHROMIUM_ARGS, ensureChromium } from "../test/browser/chromium.ts";
import { reportsRoot } from "../test/unit/report/recorded-run.ts";
import { recordSyntheticRun } from "../test/unit/report/synthetic-run.ts";

const { values } = parseArgs({
  options: { versions: { type: "string", default: "30" }, scenarios: { type: "string", default: "40" }, runs: { type: "string", default: "3" } },
});
const versions = Number(values.versions);
const scenarios = Number(values.scenarios);
const runs = Number(values.runs);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${x.toFixed(1).padStart(8)} ms`;
const kib = (bytes: number) => `${(bytes / 1024).toFixed(0).padStart(6)} KiB`;

async function time<T>(f: () => Promise<T> | T): Promise<[T, number]> {
  const t0 = performance.now();
  const value = await f();
  return [value, performance.now() - t0];
}

const tmp = await reportsRoot();
try {
  process.stdout.write(`synthetic run: ${scenarios} scenarios × ${versions} versions (${scenarios * versions} results), median of ${runs}\n\n`);
  const finish: number[] = [];
  const render: Record<string, number[]> = { "results.json": [], "summary.md": [], "junit.xml": [], "index.html": [] };
  let dir = "";
  let doc: ResultsDocument | undefined;
  for (let i = 0; i < runs; i++) {
    const recorder = await RunRecorder.create(tmp.root);
    // recordSyntheticRun adds every result then finishes; time the finish (every report file) on its own.
    const realFinish = recorder.finish.bind(recorder);
    let finishMs = 0;
    recorder.finish = async (parts) => {
      const [d, t] = await time(() => realFinish(parts));
      finishMs = t;
      return d;
    };
    doc = await recordSyntheticRun(recorder, scenarios, versions);
    finish.push(finishMs);
    dir = recorder.dir;
    const comparison = await compareWithPrevious(doc, undefined);
    render["results.json"]!.push((await time(() => JSON.stringify(doc, null, 2)))[1]);
    render["summary.md"]!.push((await time(() => renderMarkdown(doc!)))[1]);
    render["junit.xml"]!.push((await time(() => renderJunit(doc!)))[1]);
    render["index.html"]!.push((await time(() => renderHtml(doc!, { comparison })))[1]);
  }
  process.stdout.write(`writing every report (RunRecorder.finish, incl. comparison and the latest/ copy): ${ms(median(finish))}\n`);
  const [, copyMs] = await time(() => cp(dir, join(tmp.root, "copy-timing"), { recursive: true }));
  process.stdout.write(`  of which copying the run folder to latest/ takes about ${ms(copyMs)}\n`);
  for (const [file, xs] of Object.entries(render)) {
    process.stdout.write(`  render ${file.padEnd(13)} ${ms(median(xs))}   size ${kib(statSync(join(dir, file)).size)}\n`);
  }

  await ensureChromium();
  const browser = await chromium.launch({ executablePath: CHROMIUM.provides, args: CHROMIUM_ARGS });
  try {
    const url = pathToFileURL(join(dir, "index.html")).href;
    const load: number[] = [];
    const domReady: number[] = [];
    const drill: number[] = [];
    const inPage: number[] = [];
    const first = doc!.results.find((r) => r.verdict.kind === "fail") ?? doc!.results[0]!;
    for (let i = 0; i < runs; i++) {
      const page = await browser.newPage();
      const [, loadMs] = await time(() => page.goto(url, { waitUntil: "load" }));
      load.push(loadMs);
      domReady.push(await page.evaluate(() => performance.getEntriesByType("navigation")[0]!.toJSON().domContentLoadedEventEnd as number));
      const [, drillMs] = await time(async () => {
        await page.locator(`#${resultAnchor(first.scenario, first.version)}`).click();
        await page.locator("#detail").waitFor({ state: "visible" });
      });
      drill.push(drillMs);
      // The same inside the page, without the driver's round trips: parse the cell's JSON and render it.
      const other = doc!.results[doc!.results.length - 1]!;
      inPage.push(
        await page.evaluate(
          (id) => {
            const t0 = performance.now();
            (document.getElementById(id) as HTMLElement).click();
            return performance.now() - t0;
          },
          resultAnchor(other.scenario, other.version),
        ),
      );
      await page.close();
    }
    process.stdout.write(`\nopening index.html in chromium (${kib(Buffer.byteLength(await readFile(join(dir, "index.html"))))}):\n`);
    process.stdout.write(`  page.goto until load              ${ms(median(load))}\n`);
    process.stdout.write(`  DOMContentLoaded (page's own clock) ${ms(median(domReady))}\n`);
    process.stdout.write(`  click a cell → drill-down shown   ${ms(median(drill))}  (through playwright)\n`);
    process.stdout.write(`  the same, timed inside the page   ${ms(median(inPage))}\n`);
  } finally {
    await browser.close();
  }
} finally {
  await tmp.dispose();
}
