import { describe, expect, it } from "vitest";
import type { AssertionOutcome } from "../../../harness/scenario/assertions.ts";
import type { Scenario } from "../../../harness/scenario/types.ts";
import { applies, judge, judgeAttempts } from "../../../harness/scenario/verdict.ts";

const scenario = (knownBugs: Scenario["knownBugs"], range = ">=0.10.0"): Scenario => ({
  id: "s",
  title: "t",
  upstream: ["https://github.com/moby/buildkit/issues/1"],
  tags: [],
  expectation: "e",
  applies: range,
  knownBugs,
  steps: [],
  assertions: [],
  dir: "/x",
  file: "/x/scenario.yaml",
});
const holds: AssertionOutcome = { description: "d", holds: true, expected: "a", actual: "a" };
const breaks: AssertionOutcome = { description: "digest stable", holds: false, expected: "a", actual: "b" };
const bug = { versions: ">=0.10.0 <0.13.0", status: "reproduces" as const, reference: "https://github.com/moby/buildkit/issues/1" };

describe("judge", () => {
  it("passes when every expectation holds and no bug is declared", () => {
    expect(judge(scenario([]), "v0.14.1", [holds])).toMatchObject({ kind: "pass", loud: false });
  });
  it("calls a failure inside a declared range a known bug, quietly", () => {
    expect(judge(scenario([bug]), "v0.11.6", [holds, breaks])).toMatchObject({ kind: "known-bug-reproduced", loud: false });
  });
  it("is loud about a pass inside a declared range", () => {
    const v = judge(scenario([bug]), "v0.12.5", [holds]);
    expect(v).toMatchObject({ kind: "unexpected-pass", loud: true });
    expect(v.reason).toContain(bug.reference);
  });
  it("is loud about a failure outside every declared range", () => {
    const v = judge(scenario([bug]), "v0.13.2", [breaks]);
    expect(v).toMatchObject({ kind: "fail", loud: true });
    expect(v.reason).toContain("digest stable");
  });
  it("reads v-prefixed versions against plain ranges", () => {
    expect(applies(scenario([], ">=0.10.0"), "v0.9.3")).toBe(false);
    expect(applies(scenario([], ">=0.10.0"), "v0.34.0")).toBe(true);
  });
});

describe("judgeAttempts for a racy bug", () => {
  const racy = { ...bug, versions: ">=0.10.0", racy: { atLeast: 2, of: 3 } };
  it("counts the bug as reproduced when at least k attempts failed", () => {
    const v = judgeAttempts(scenario([racy]), "v0.24.0", [[breaks], [holds], [breaks]]);
    expect(v).toMatchObject({ kind: "known-bug-reproduced", loud: false });
    expect(v.reason).toContain("reproduced in 2 of 3 attempts (declared: at least 2)");
  });
  it("is loud when it showed in fewer attempts than declared", () => {
    const v = judgeAttempts(scenario([racy]), "v0.24.0", [[breaks], [holds], [holds]]);
    expect(v).toMatchObject({ kind: "unexpected-pass", loud: true });
    expect(v.reason).toContain("reproduced in 1 of 3 attempts");
  });
  it("judges a single attempt as usual", () => {
    expect(judgeAttempts(scenario([]), "v0.24.0", [[breaks]])).toMatchObject({ kind: "fail", loud: true });
  });
});

describe("controls", () => {
  const control: AssertionOutcome = { description: "layers equal", holds: false, expected: "a", actual: "b", control: true };
  it("a failing control is a failure even where the bug is declared", () => {
    const v = judge(scenario([bug]), "v0.11.6", [breaks, control]);
    expect(v).toMatchObject({ kind: "fail", loud: true });
    expect(v.reason).toContain("a control failed");
  });
  it("a failed build is never the declared bug", () => {
    const failedBuild: AssertionOutcome = { description: "every build succeeds", holds: false, expected: "0", actual: "1", control: true };
    expect(judge(scenario([bug]), "v0.11.6", [failedBuild])).toMatchObject({ kind: "fail" });
  });
});
