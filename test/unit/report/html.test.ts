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
