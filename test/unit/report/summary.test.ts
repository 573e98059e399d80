import { readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SUMMARY_MAX_BYTES } from "../../../harness/report/markdown.ts";
import { resultAnchor } from "../../../harness/report/verdicts.ts";
import { recordRun, reportsRoot } from "./recorded-run.ts";

const SCHEMA = JSON.parse(readFileSync(resolve(import.meta.dirname, "../../../reports/results.schema.json"), "utf8"));
const validate = new Ajv2020({ allErrors: true, strict: false }).compile(SCHEMA);

describe("summary.md", () => {
  let tmp: Awaited<ReturnType<typeof reportsRoot>>;
  beforeEach(async () => {
    tmp = await reportsRoot();
  });
  afterEach(() => tmp.dispose());

  it("lists only the results that need attention, with what was observed and a link into index.html", async () => {
    const run = await recordRun(tmp.root, 12, 3);
    expect(validate(JSON.parse(await run.read("results.json"))), JSON.stringify(validate.errors)).toBe(true);
    const md = await run.read("summary.md");
    const loud = run.doc.results.filter((r) => r.verdict.loud);
    const quiet = run.doc.results.filter((r) => !r.verdict.loud);
    expect(loud.length).toBeGreaterThan(3);
    expect(quiet.length).toBeGreaterThan(3);
    for (const r of loud) expect(md).toContain(`(index.html#${resultAnchor(r.scenario, r.version)})`);
    for (const r of quiet) expect(md).not.toContain(`#${resultAnchor(r.scenario, r.version)}`);

    const fail = loud.find((r) => r.verdict.kind === "fail")!;
    const entry = md.slice(md.indexOf(`**${fail.scenario}** on **${fail.version}**`)).split("\n- ")[0]!;
    // The observed digests and the explainer's reason, not the verdict's restated expectation.
    const outcome = fail.attempts[0]!.outcomes.find((o) => o.status === "fails")!;
    expect(entry).toContain(outcome.actual.slice(0, 40));
    expect(entry).toContain("why the digests differ: only cache metadata differs");
    expect(entry).not.toContain("synthetic fail");

    const infra = loud.find((r) => r.verdict.kind === "infrastructure-error")!;
    expect(md.slice(md.indexOf(`**${infra.scenario}** on **${infra.version}**`))).toMatch(/^[^\n]*\n {2}- fault DAEMON_LOST/);
  });

  it("has one matrix row per scenario and one column per version", async () => {
    const run = await recordRun(tmp.root, 5, 4);
    const md = await run.read("summary.md");
    const header = md.split("\n").find((l) => l.startsWith("| scenario |"))!;
    expect(
      header
        .split("|")
        .slice(2, -1)
        .map((c) => c.trim()),
    ).toEqual(run.doc.versions.map((v) => v.version));
    for (const s of run.doc.scenarios) expect(md).toMatch(new RegExp(`^\\| ${s.id} \\|( [^|]+ \\|){4}$`, "m"));
  });

  it("stays under 1 MiB for 30 versions × 40 scenarios, even when every result needs attention", async () => {
    const run = await recordRun(tmp.root, 40, 30, { noisy: true, buildsPerResult: 2 });
    const size = statSync(join(run.dir, "summary.md")).size;
    expect(size).toBeLessThan(1024 * 1024);
    const md = await run.read("summary.md");
    // Every result is either listed or counted in the closing line.
    const listed = md.split("\n").filter((l) => /^- \S+ \*\*/.test(l)).length;
    const omitted = Number(/… and (\d+) more results that need attention/.exec(md)?.[1] ?? 0);
    expect(listed + omitted).toBe(1200);
    // Every matrix row is there whatever was cut.
    expect(md.split("\n").filter((l) => /^\| [a-z]/.test(l) && !l.startsWith("| scenario")).length).toBe(40);
  });

  it("stops listing at the byte budget and says how many it left out", async () => {
    const run = await recordRun(tmp.root, 40, 50, { noisy: true, buildsPerResult: 1 });
    const md = await run.read("summary.md");
    expect(Buffer.byteLength(md)).toBeLessThanOrEqual(SUMMARY_MAX_BYTES);
    const listed = md.split("\n").filter((l) => /^- \S+ \*\*/.test(l)).length;
    expect(listed).toBeGreaterThan(100);
    expect(listed).toBeLessThan(2000);
    expect(md).toContain(`… and ${2000 - listed} more results that need attention`);
  });

  it("reports an interrupted run: what ran, and what did not as not run", async () => {
    const run = await recordRun(tmp.root, 6, 2, { stopAfter: 2 });
    expect(run.doc.run.complete).toBe(false);
    expect(run.doc.results.length).toBe(4);
    expect(validate(JSON.parse(await run.read("results.json"))), JSON.stringify(validate.errors)).toBe(true);
    const md = await run.read("summary.md");
    expect(md).toContain("(interrupted");
    const row = md.split("\n").find((l) => l.startsWith(`| ${run.doc.scenarios[5]!.id} |`))!;
    expect(row).toBe(`| ${run.doc.scenarios[5]!.id} | ⏹️ | ⏹️ |`);
  });
});
