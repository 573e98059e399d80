import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resultAnchor } from "../../harness/report/verdicts.ts";
import { type RecordedRun, recordRun, reportsRoot } from "../unit/report/recorded-run.ts";
import { CHROMIUM, CHROMIUM_ARGS, ensureChromium } from "./chromium.ts";

/**
 * index.html of a synthetic multi-version run, opened in Debian's chromium: it renders one
 * row per scenario and one column per version, a drill-down opens, filters work, nothing
 * is fetched from the network and nothing is logged to the console as an error.
 */
describe("index.html in a headless browser", () => {
  let tmp: Awaited<ReturnType<typeof reportsRoot>>;
  let browser: Browser | undefined;
  let run: RecordedRun;
  let page: Page;
  const problems: string[] = [];
  const requests: string[] = [];

  beforeAll(async () => {
    await ensureChromium();
    tmp = await reportsRoot();
    await recordRun(tmp.root, 12, 4, { verdict: () => "pass" });
    run = await recordRun(tmp.root, 12, 4);
    browser = await chromium.launch({ executablePath: CHROMIUM.provides, args: CHROMIUM_ARGS, timeout: 60_000 });
    page = await browser.newPage();
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("request", (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(join(run.dir, "index.html")).href, { timeout: 30_000 });
  }, 15 * 60_000);

  afterAll(async () => {
    await browser?.close();
    await tmp?.dispose();
  });

  it("renders one row per scenario and one column per version", async () => {
    expect(await page.locator("#matrix thead th.v").allTextContents()).toEqual(run.doc.versions.map((v) => v.version));
    expect(await page.locator("#matrix tbody tr th").allTextContents()).toEqual(run.doc.scenarios.map((s) => s.id));
    expect(await page.locator("#matrix tbody tr").first().locator("td.cell").count()).toBe(4);
    // Coloured by verdict: a pass cell and a fail cell do not share a background.
    const colour = (kind: string) =>
      page
        .locator(`#matrix td.v-${kind}`)
        .first()
        .evaluate((e) => getComputedStyle(e).backgroundColor);
    expect(await colour("pass")).not.toBe(await colour("fail"));
    expect(await page.locator(".legend span").count()).toBeGreaterThanOrEqual(7);
    // The change since the previous (all-pass) run is at the top.
    expect(await page.locator("#changes tbody tr").count()).toBe(run.doc.results.filter((r) => r.verdict.kind !== "pass").length);
  });

  it("opens a failed cell's drill-down with steps, digests, the failing assertion's explanation and the daemon log", async () => {
    const fail = run.doc.results.find((r) => r.verdict.kind === "fail")!;
    expect(await page.locator("#detail").isVisible()).toBe(false);
    await page.locator(`#${resultAnchor(fail.scenario, fail.version)}`).click();
    const detail = page.locator("#detail");
    await detail.waitFor({ state: "visible", timeout: 5_000 });
    const text = (await detail.textContent()) ?? "";
    expect(text).toContain(`${fail.scenario} on ${fail.version}`);
    expect(text).toContain("why the digests differ: only cache metadata differs");
    expect(text).toContain("moby.buildkit.cache.v0 records[0a1b2c3d4e5f].chains");
    expect(text).toContain("✔ cached COPY app.txt /app/");
    expect(text).toContain("✘ ran RUN echo built > /built");
    const config = fail.attempts[0]!.builds[1]!.outputs[0]!.image!.configDigest;
    expect(text).toContain(config.slice(7, 19));
    expect(text).toContain("(differs from the first rebuild)");
    expect(text).toContain("running server on /run/buildkit/buildkitd.sock");
    const upstream = run.doc.scenarios.find((s) => s.id === fail.scenario)!.upstream[0]!;
    expect(await detail.locator(`a[href="${upstream}"]`).count()).toBeGreaterThan(0);
    expect(page.url()).toContain(`#${resultAnchor(fail.scenario, fail.version)}`);
  });

  it("filters rows by verdict and by tag", async () => {
    const boxes = page.locator("input[name=verdict]");
    for (const value of await boxes.evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value))) {
      if (value !== "infrastructure-error") await page.locator(`input[name=verdict][value="${value}"]`).uncheck();
    }
    const withInfra = [...new Set(run.doc.results.filter((r) => r.verdict.kind === "infrastructure-error").map((r) => r.scenario))];
    expect(await page.locator("#matrix tbody tr:not(.hidden) th").allTextContents()).toEqual(
      run.doc.scenarios.filter((s) => withInfra.includes(s.id)).map((s) => s.id),
    );
    for (const value of await boxes.evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value)))
      await page.locator(`input[name=verdict][value="${value}"]`).check();
    const tag = run.doc.scenarios[0]!.tags[0]!;
    await page.selectOption("#tag", tag);
    expect(await page.locator("#matrix tbody tr:not(.hidden) th").allTextContents()).toEqual(
      run.doc.scenarios.filter((s) => s.tags.includes(tag)).map((s) => s.id),
    );
  });

  it("opens the drill-down a summary.md link points at", async () => {
    const infra = run.doc.results.find((r) => r.verdict.kind === "infrastructure-error")!;
    const fresh = await browser!.newPage();
    try {
      await fresh.goto(`${pathToFileURL(join(run.dir, "index.html")).href}#${resultAnchor(infra.scenario, infra.version)}`);
      await fresh.locator("#detail").waitFor({ state: "visible", timeout: 5_000 });
      expect(await fresh.locator("#detail").textContent()).toContain("DAEMON_LOST: buildkitd stopped answering during build 2");
    } finally {
      await fresh.close();
    }
  });

  it("fetched nothing but the page and logged no error", () => {
    expect(requests.filter((u) => !u.startsWith("file://"))).toEqual([]);
    expect(problems).toEqual([]);
  });
});
