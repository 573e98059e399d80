import { describe, expect, it } from "vitest";
import { renderHtml } from "../../../harness/report/html.ts";
import { recordRun, reportsRoot } from "./recorded-run.ts";

describe("index.html", () => {
  it("keeps scenario and log text out of the markup: a </script> in a reason cannot end a data element", async () => {
    const tmp = await reportsRoot();
    try {
      const run = await recordRun(tmp.root, 2, 2, { verdict: () => "fail" });
      const doc = structuredClone(run.doc);
      doc.results[0]!.verdict.reason = `</script><script>alert(1)</script><img src=x onerror=alert(2)>`;
      doc.scenarios[0]!.title = `"><script>alert(3)</script>`;
      const html = renderHtml(doc);
      const opened = html.match(/<script[\s>]/g)!.length;
      // The labels, one element per cell, and the page script: nothing more.
      expect(opened).toBe(1 + 2 * 2 + 1);
      expect(html.match(/<\/script>/g)!.length).toBe(opened);
      expect(html).not.toContain("<img");
      expect(html).toContain("&quot;&gt;&lt;script&gt;alert(3)");
    } finally {
      await tmp.dispose();
    }
  });
});

describe("index.html of an interrupted run with infrastructure errors", () => {
  it("shows what ran, marks the rest not run, and keeps every cell's details", async () => {
    const tmp = await reportsRoot();
    try {
      const run = await recordRun(tmp.root, 5, 2, { stopAfter: 3, verdict: (_s, _v, si) => (si === 1 ? "infrastructure-error" : "pass") });
      const html = await run.read("index.html");
      const cells = [...html.matchAll(/<td class="cell v-([a-z-]+)" id="([^"]+)" data-verdict="([a-z-]+)"/g)];
      expect(cells).toHaveLength(10);
      // Row by row (scenarios), a column per version.
      expect(cells.map((c) => c[3])).toEqual(["pass", "infrastructure-error", "pass", "not-run", "not-run"].flatMap((k) => [k, k]));
      for (const c of cells) expect(html).toContain(`<script type="application/json" id="d-${c[2]}">`);
      expect(html).toContain("(interrupted: what did not run is marked not run)");
      const notRun = cells.find((c) => c[3] === "not-run")![2]!;
      const data = JSON.parse(new RegExp(`id="d-${notRun}">([^<]*)</script>`).exec(html)![1]!);
      expect(data).toMatchObject({ ran: false, verdict: { kind: "not-run", loud: true }, attempts: [] });
    } finally {
      await tmp.dispose();
    }
  });
});
