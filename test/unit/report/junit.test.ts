import { XMLParser, XMLValidator } from "fast-xml-parser";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { renderJunit } from "../../../harness/report/junit.ts";
import { recordRun, reportsRoot } from "./recorded-run.ts";

interface Case {
  "@_name": string;
  "@_classname": string;
  properties: { property: { "@_name": string; "@_value": string }[] };
  failure?: { "@_type": string; "#text"?: string };
  error?: { "@_type": string; "#text"?: string };
  skipped?: unknown;
}
interface Suite {
  "@_name": string;
  "@_tests": string;
  "@_failures": string;
  "@_errors": string;
  "@_skipped": string;
  testcase: Case[];
}

function parse(xml: string): Suite[] {
  expect(XMLValidator.validate(xml)).toBe(true);
  const parser = new XMLParser({
    ignoreAttributes: false,
    isArray: (name) => ["testsuite", "testcase", "property"].includes(name),
  });
  return parser.parse(xml).testsuites.testsuite as Suite[];
}

const prop = (c: Case, name: string) => c.properties.property.filter((p) => p["@_name"] === name).map((p) => p["@_value"]);

describe("junit.xml", () => {
  let tmp: Awaited<ReturnType<typeof reportsRoot>>;
  beforeEach(async () => {
    tmp = await reportsRoot();
  });
  afterEach(() => tmp.dispose());

  it("has one testcase per scenario × version whose properties tell every verdict apart, failure and error only for loud ones", async () => {
    const run = await recordRun(tmp.root, 12, 3);
    const suites = parse(await run.read("junit.xml"));
    expect(suites.map((s) => s["@_name"])).toEqual(run.doc.versions.map((v) => `BuildKit ${v.version}`));
    const seen = new Set<string>();
    for (const [vi, suite] of suites.entries()) {
      const version = run.doc.versions[vi]!.version;
      expect(suite.testcase.map((c) => c["@_name"])).toEqual(run.doc.scenarios.map((s) => s.id));
      for (const c of suite.testcase) {
        const r = run.doc.results.find((x) => x.scenario === c["@_name"] && x.version === version)!;
        const kind = r.verdict.kind;
        seen.add(kind);
        expect(prop(c, "verdict")).toEqual([kind]);
        expect(prop(c, "loud")).toEqual([String(r.verdict.loud)]);
        expect(c.failure !== undefined).toBe(kind === "fail" || kind === "unexpected-pass");
        expect(c.error !== undefined).toBe(kind === "infrastructure-error" || kind === "inconclusive" || kind === "not-run");
        expect(c.skipped !== undefined).toBe(kind === "not-applicable");
        if (kind === "known-bug-reproduced") expect(prop(c, "known-bug")).toEqual(r.verdict.bugs ?? []);
        if (kind === "infrastructure-error") expect(prop(c, "fault")).toEqual(["DAEMON_LOST"]);
        if (kind === "fail") expect(c.failure!["#text"]).toContain("why the digests differ: only cache metadata differs");
      }
      const count = (f: (c: Case) => boolean) => String(suite.testcase.filter(f).length);
      expect(suite["@_tests"]).toBe(String(run.doc.scenarios.length));
      expect(suite["@_failures"]).toBe(count((c) => c.failure !== undefined));
      expect(suite["@_errors"]).toBe(count((c) => c.error !== undefined));
      expect(suite["@_skipped"]).toBe(count((c) => c.skipped !== undefined));
    }
    // The synthetic run has every verdict a run can give, but not-run.
    expect([...seen].sort()).toEqual(
      ["fail", "inconclusive", "infrastructure-error", "known-bug-reproduced", "not-applicable", "pass", "unexpected-pass"].sort(),
    );
  });

  it("marks what an interrupted run did not reach as not-run errors", async () => {
    const run = await recordRun(tmp.root, 5, 2, { stopAfter: 3, verdict: () => "pass" });
    const suites = parse(await run.read("junit.xml"));
    for (const suite of suites) {
      expect(suite.testcase.map((c) => prop(c, "verdict")[0])).toEqual(["pass", "pass", "pass", "not-run", "not-run"]);
      expect(suite["@_errors"]).toBe("2");
      expect(suite.testcase[4]!.error!["@_type"]).toBe("not-run");
    }
  });

  it("keeps text that would break XML as text", async () => {
    const run = await recordRun(tmp.root, 1, 1, { verdict: () => "fail" });
    const nasty = `a <b> & "c" 'd' ]]> \u0001 end`;
    const doc = structuredClone(run.doc);
    doc.results[0]!.verdict.reason = nasty;
    const xml = renderJunit(doc);
    expect(xml).toContain("a &lt;b&gt; &amp; &quot;c&quot;");
    // Valid XML, and the parser gives back the text (the control character replaced: XML 1.0 cannot hold it).
    expect(parse(xml)[0]!.testcase[0]!.failure!["#text"]).toContain(`a <b> & "c" 'd' ]]> \uFFFD end`);
  });
});
