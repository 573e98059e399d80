import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { compareWithPrevious } from "../../../harness/report/compare.ts";
import { recordRun, reportsRoot } from "./recorded-run.ts";
import { syntheticScenarios, syntheticVersions, verdictFor } from "./synthetic-run.ts";

describe("change since the previous run", () => {
  let tmp: Awaited<ReturnType<typeof reportsRoot>>;
  beforeEach(async () => {
    tmp = await reportsRoot();
  });
  afterEach(() => tmp.dispose());

  const [s0, s1, s2] = syntheticScenarios(3).map((s) => s.id);
  const [v0, v1] = syntheticVersions(2);

  it("names each verdict that changed, at the top of summary.md, comparing with the previous run in the same folder", async () => {
    const first = await recordRun(tmp.root, 3, 2, { verdict: () => "pass" });
    // Two changes: s1 on v0 now fails (loud), s2 on v1 now a known bug (quiet).
    const changed = new Map([
      [`${s1} ${v0}`, "fail" as const],
      [`${s2} ${v1}`, "known-bug-reproduced" as const],
    ]);
    const second = await recordRun(tmp.root, 3, 2, { verdict: (s, v) => changed.get(`${s} ${v}`) ?? "pass" });
    expect(second.dir).not.toBe(first.dir);
    const md = await second.read("summary.md");
    const section = md.slice(md.indexOf("## Change since the previous run"), md.indexOf("| scenario | v0"));
    expect(md.indexOf("## Change since the previous run")).toBeLessThan(md.indexOf("| scenario | v0"));
    expect(section).toContain(`2 verdicts changed since run ${first.doc.run.id}`);
    expect(section).toContain("4 unchanged");
    const rows = section.split("\n").filter((l) => l.startsWith(`| ${s0}`) || l.startsWith(`| ${s1}`) || l.startsWith(`| ${s2}`));
    expect(rows).toHaveLength(2);
    // The loud change comes first.
    expect(rows[0]).toMatch(new RegExp(`^\\| ${s1} \\| ${v0} \\| ✅ pass \\| \\*\\*\\[❌ fail\\]\\(index.html#r-${s1}--`));
    expect(rows[1]).toMatch(new RegExp(`^\\| ${s2} \\| ${v1} \\| ✅ pass \\| \\[🐛 known bug\\]`));
  });

  it("compares with a results.json given explicitly, and says when there is nothing to compare with", async () => {
    const lone = await recordRun(tmp.root, 2, 1);
    expect(await lone.read("summary.md")).toContain("Nothing to compare with: no earlier run in this reports folder.");
    const other = await reportsRoot();
    try {
      const base = await recordRun(other.root, 2, 1, { verdict: () => "fail" });
      const again = await recordRun(tmp.root, 2, 1, { previous: join(base.dir, "results.json"), verdict: () => "pass" });
      expect(await again.read("summary.md")).toContain(`2 verdicts changed since run ${base.doc.run.id}`);
    } finally {
      await other.dispose();
    }
  });

  it("reports pairs that appeared or disappeared, and an unreadable file without failing", async () => {
    const current = (await recordRun(tmp.root, 2, 1, { verdict: () => "pass" })).doc;
    const path = join(tmp.root, "old.json");
    await writeFile(
      path,
      JSON.stringify({
        schemaVersion: 1,
        run: { id: "old", startedAt: "2026-01-01T00:00:00Z" },
        results: [
          { scenario: s0, version: v0, verdict: { kind: verdictFor(0, 0) === "pass" ? "pass" : "fail" } },
          { scenario: "gone", version: v0, verdict: { kind: "pass" } },
        ],
      }),
    );
    const c = await compareWithPrevious(current, path);
    expect(c.status).toBe("compared");
    if (c.status !== "compared") return;
    expect(c.changes).toContainEqual({ scenario: s1, version: v0, after: "pass", loud: false });
    expect(c.changes).toContainEqual({ scenario: "gone", version: v0, before: "pass", loud: false });
    await writeFile(path, "{ not json");
    expect(await compareWithPrevious(current, path)).toMatchObject({ status: "unreadable", path });
    expect(await compareWithPrevious(current, join(tmp.root, "missing.json"))).toMatchObject({ status: "unreadable" });
  });
});
