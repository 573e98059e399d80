import { describe, expect, it } from "vitest";
import type { ResultRecord, ResultsDocument } from "../../../harness/report/model.ts";
import { compareResults } from "../../../harness/run/compare.ts";

const LOUD = ["unexpected-pass", "fail", "inconclusive", "infrastructure-error", "not-run"];
const result = (version: string, scenario: string, kind: string): ResultRecord => ({
  scenario,
  version,
  verdict: { kind: kind as ResultRecord["verdict"]["kind"], loud: LOUD.includes(kind), reason: `it was ${kind}` },
  attempts: [],
  wallMs: 1,
});
const night = (...results: ResultRecord[]): ResultsDocument => ({
  schemaVersion: 2,
  harness: { version: "0.1.0" },
  run: { id: "r", startedAt: "", finishedAt: "", host: "h", complete: true },
  versions: [...new Set(results.map((r) => r.version))].map((version) => ({ version, status: "ran" as const })),
  scenarios: [],
  invalidScenarios: [],
  results,
  counts: {},
});

describe("compareResults", () => {
  const before = night(result("v0.24.0", "a", "known-bug-reproduced"), result("v0.25.0", "a", "pass"), result("v0.25.0", "b", "fail"));

  it("needs no person when nothing changed, nor for a loud verdict seen the night before", () => {
    const c = compareResults(before, before);
    expect(c.changes).toEqual([]);
    expect(c.needsPerson).toBe(false);
  });

  it("needs a person for a regression and an unexpected pass, not for a fix", () => {
    const c = compareResults(before, night(result("v0.24.0", "a", "unexpected-pass"), result("v0.25.0", "a", "fail"), result("v0.25.0", "b", "pass")));
    expect(c.changes.map((x) => [x.cell, x.from, x.to, x.needsPerson])).toEqual([
      ["v0.24.0 a", "known-bug-reproduced", "unexpected-pass", true],
      ["v0.25.0 a", "pass", "fail", true],
      ["v0.25.0 b", "fail", "pass", false],
    ]);
    expect(c.needsPerson).toBe(true);
  });

  it("records a quiet change without failing, and counts a version gone tonight", () => {
    const quiet = compareResults(before, night(result("v0.24.0", "a", "pass"), result("v0.25.0", "a", "pass"), result("v0.25.0", "b", "fail")));
    expect(quiet.changes).toHaveLength(1);
    expect(quiet.needsPerson).toBe(false);
    const gone = compareResults(before, night(result("v0.25.0", "a", "pass"), result("v0.25.0", "b", "fail")));
    expect(gone.changes.map((x) => [x.cell, x.reason])).toEqual([["v0.24.0 a", "no result tonight"]]);
    expect(gone.needsPerson).toBe(true);
  });

  it("compares master by scenario, whose version changes every night", () => {
    const a = night(result("v0.36.0-0.20261130101112-0123456789ab", "a", "pass"));
    const b = night(result("v0.36.0-0.20261201101112-fedcba987654", "a", "pass"));
    expect(compareResults(a, b, { byScenario: true }).changes).toEqual([]);
    // by version, master's new pseudo-version would read as a new cell and a lost one
    expect(compareResults(a, b).changes.map((x) => x.reason)).toEqual(["new cell", "no result tonight"]);
  });

  it("counts every loud verdict as new on the first night", () => {
    expect(
      compareResults(undefined, before)
        .changes.filter((x) => x.needsPerson)
        .map((x) => x.cell),
    ).toEqual(["v0.25.0 b"]);
  });
});
