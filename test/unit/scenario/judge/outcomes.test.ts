/**
 * What a scenario run turns into before the verdict: every outcome of an attempt
 * (outcomesOf), and what stopped it as a fault (faultOf). No environment is started.
 */
import { describe, expect, it } from "vitest";
import { HarnessError } from "../../../../harness/errors.ts";
import { EVERY_BUILD_SUCCEEDS } from "../../../../harness/scenario/judge/outcome.ts";
import { judge } from "../../../../harness/scenario/judge/verdict.ts";
import type { Assertion, Scenario } from "../../../../harness/scenario/model.ts";
import { faultOf, outcomesOf } from "../../../../harness/scenario/run/scenario.ts";
import { attempt, build, image, runs } from "./observations.ts";

function scenario(assertions: Assertion[], knownBugs: Scenario["knownBugs"] = []): Scenario {
  return {
    id: "s",
    title: "t",
    upstream: [],
    tags: [],
    expectation: "e",
    applies: ">=0.10.0",
    builders: ["buildkitd"],
    requires: [],
    images: [],
    knownBugs,
    steps: [],
    assertions,
    maxBuilds: 2,
    dir: "/nowhere",
    file: "/nowhere/scenario.yaml",
  };
}

describe("outcomesOf", () => {
  const stable: Assertion = { id: "stable", kind: "digest-stable", target: { build: "b" }, digest: "config" };

  it("gives the implicit control first, then one outcome per assertion, by id", () => {
    const o = outcomesOf(scenario([stable]), "v0.34.0", attempt(runs("b", [image(), image()])));
    expect(o.map((x) => [x.id, x.status])).toEqual([
      [EVERY_BUILD_SUCCEEDS, "holds"],
      ["stable", "holds"],
    ]);
  });

  it("a failed build fails the control, and the assertions on it are not evaluated", () => {
    const obs = attempt([...runs("b", [image()]), build("b", { sequence: 2, iteration: 2, exitCode: 1, error: "boom" })]);
    const o = outcomesOf(scenario([stable]), "v0.34.0", obs);
    expect(o.map((x) => x.status)).toEqual(["fails", "not-evaluated"]);
    expect(judge(scenario([stable]), "v0.34.0", [o]).kind).toBe("fail");
  });

  it("a build named by build-succeeds is judged by that assertion, not the control", () => {
    const fails: Assertion = { id: "fails-to-build", kind: "build-succeeds", build: "b" };
    const bug = { versions: ">=0.10.0", status: "reproduces" as const, reference: "r", explains: [{ assertion: "fails-to-build" }] };
    const obs = attempt([build("b", { sequence: 1, exitCode: 1, error: "failed to solve" })]);
    const o = outcomesOf(scenario([fails], [bug]), "v0.34.0", obs);
    expect(o.map((x) => [x.id, x.status])).toEqual([
      [EVERY_BUILD_SUCCEEDS, "holds"],
      ["fails-to-build", "fails"],
    ]);
    expect(judge(scenario([fails], [bug]), "v0.34.0", [o]).kind).toBe("known-bug-reproduced");
  });

  it("a build-succeeds gated out on this version leaves its build to the control", () => {
    const gated: Assertion = { id: "new-only", kind: "build-succeeds", build: "b", versions: ">=0.13.0" };
    const obs = attempt([build("b", { sequence: 1, exitCode: 1, error: "unknown flag" })]);
    const o = outcomesOf(scenario([gated]), "v0.12.5", obs);
    expect(o.map((x) => [x.id, x.status])).toEqual([
      [EVERY_BUILD_SUCCEEDS, "fails"],
      ["new-only", "not-evaluated"],
    ]);
    expect(judge(scenario([gated]), "v0.12.5", [o]).kind).toBe("fail");
  });
});

describe("faultOf", () => {
  it("a HarnessError keeps its code, its message and its hint", () => {
    const err = new HarnessError("DAEMON_LOST", "buildkitd exited during the build", "See the daemon's log in the report.");
    expect(faultOf(err)).toEqual({ code: "DAEMON_LOST", message: "buildkitd exited during the build\n  → See the daemon's log in the report." });
    expect(faultOf(new HarnessError("TIMEOUT", "scenario s did not finish within 600 s."))).toEqual({
      code: "TIMEOUT",
      message: "scenario s did not finish within 600 s.",
    });
  });

  it("a plain Error is a harness bug, with its stack", () => {
    const err = new TypeError("Cannot read properties of undefined (reading 'digest')");
    const fault = faultOf(err);
    expect(fault).toMatchObject({ code: "HARNESS_BUG", message: "the harness failed: Cannot read properties of undefined (reading 'digest')" });
    expect(fault.detail).toBe(err.stack);
    expect(fault.detail).toContain("outcomes.test.ts");
  });

  it("anything else thrown is a harness bug whose value is kept, with no stack made up where it was caught", () => {
    const fault = faultOf("a string");
    expect(fault).toMatchObject({ code: "HARNESS_BUG", message: "the harness failed: a string" });
    expect(fault.detail).toBeUndefined();
  });
});
