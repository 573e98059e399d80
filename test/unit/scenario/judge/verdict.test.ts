/**
 * The verdict rules: outcomes combined with what the scenario declares for the version.
 * Outcomes are synthetic: a verdict reads nothing else.
 */
import { describe, expect, it } from "vitest";
import { type AssertionOutcome, EVERY_BUILD_SUCCEEDS, type OutcomeStatus } from "../../../../harness/scenario/judge/outcome.ts";
import {
  declaredBugs,
  inapplicability,
  infrastructureError,
  judge,
  LOUD_VERDICTS,
  notApplicable,
  notRun,
  satisfies,
} from "../../../../harness/scenario/judge/verdict.ts";
import type { Assertion, KnownBug, Scenario } from "../../../../harness/scenario/model.ts";

const BUG = "https://github.com/moby/buildkit/issues/3009";
const OTHER = "https://github.com/moby/buildkit/issues/1876";

function bug(explains: KnownBug["explains"], extra: Partial<KnownBug> = {}): KnownBug {
  return { versions: ">=0.10.0", status: "reproduces", reference: BUG, explains, ...extra };
}

function scenario(knownBugs: readonly KnownBug[] = [], extra: Partial<Scenario> = {}): Scenario {
  const assertions: Assertion[] = ["stable", "chains", "layers", "other"].map((id) => ({ id, kind: "inline-cache-keeps-results", build: "b" }));
  return {
    id: "s",
    title: "t",
    upstream: [BUG],
    tags: [],
    expectation: "e",
    applies: ">=0.10.0",
    builders: ["buildkitd"],
    requires: [],
    images: [],
    knownBugs,
    steps: [],
    assertions,
    maxBuilds: 1,
    dir: "/nowhere",
    file: "/nowhere/scenario.yaml",
    ...extra,
  };
}

function outcome(id: string, status: OutcomeStatus, actual = status === "fails" ? "observed otherwise" : "as expected"): AssertionOutcome {
  return { id, kind: "inline-cache-keeps-results", description: `assertion ${id}`, status, expected: "x", actual };
}

/** One attempt: the implicit control held, then the given outcomes; unnamed assertions held. */
function outcomes(statuses: Record<string, OutcomeStatus | [OutcomeStatus, string]>): AssertionOutcome[] {
  const all = { [EVERY_BUILD_SUCCEEDS]: "holds" as OutcomeStatus, stable: "holds" as OutcomeStatus, chains: "holds" as OutcomeStatus, ...statuses };
  return Object.entries(all).map(([id, s]) => (Array.isArray(s) ? outcome(id, s[0], s[1]) : outcome(id, s)));
}

const V = "v0.20.2";

describe("no bug declared", () => {
  it("pass when every assertion held", () => {
    expect(judge(scenario(), V, [outcomes({})])).toEqual({ kind: "pass", loud: false, reason: "every assertion held" });
  });

  it("fail, loud, naming what failed", () => {
    const v = judge(scenario(), V, [outcomes({ stable: "fails" })]);
    expect(v).toMatchObject({ kind: "fail", loud: true });
    expect(v.reason).toBe("a failure nobody declared: assertion stable: expected x, observed observed otherwise");
  });

  it("inconclusive, loud, when something could not be observed", () => {
    const v = judge(scenario(), V, [outcomes({ chains: ["inconclusive", "only 1 run"] })]);
    expect(v).toMatchObject({ kind: "inconclusive", loud: true, reason: "assertion chains: could not observe it (only 1 run)" });
  });

  it("not-evaluated outcomes change nothing", () => {
    expect(judge(scenario(), V, [outcomes({ chains: "not-evaluated" })]).kind).toBe("pass");
  });
});

describe("a declared bug", () => {
  const s = scenario([bug([{ assertion: "chains" }])]);

  it("is reproduced when an assertion it explains failed and every other held", () => {
    const v = judge(s, V, [outcomes({ chains: ["fails", "lost chains"] })]);
    expect(v).toEqual({
      kind: "known-bug-reproduced",
      loud: false,
      bugs: [BUG],
      reason: `as declared: ${BUG}: assertion chains: expected x, observed lost chains`,
    });
  });

  it("is an unexpected pass, loud, when every assertion held", () => {
    const v = judge(s, V, [outcomes({})]);
    expect(v).toMatchObject({ kind: "unexpected-pass", loud: true, bugs: [BUG] });
    expect(v.reason).toContain(`declared to reproduce on ${V} but did not show: ${BUG}`);
  });

  it("is not reproduced by an assertion it does not explain: that failure is a fail", () => {
    const v = judge(s, V, [outcomes({ stable: "fails" })]);
    expect(v).toMatchObject({ kind: "fail", loud: true, bugs: [BUG] });
    expect(v.reason).toBe(`a failure nobody declared (not what ${BUG} explains): assertion stable: expected x, observed observed otherwise`);
  });

  it("does not cover a control failing beside it", () => {
    expect(judge(s, V, [outcomes({ chains: "fails", stable: "fails" })]).kind).toBe("fail");
    expect(judge(s, V, [outcomes({ chains: "fails", [EVERY_BUILD_SUCCEEDS]: "fails" })]).kind).toBe("fail");
  });

  it("with a symptom, counts only a failure showing it; another symptom is a fail", () => {
    const symptom = scenario([bug([{ assertion: "chains", actualContains: "lost chains" }])]);
    expect(judge(symptom, V, [outcomes({ chains: ["fails", "record a1 lost chains"] })]).kind).toBe("known-bug-reproduced");
    const v = judge(symptom, V, [outcomes({ chains: ["fails", "cannot be decoded"] })]);
    expect(v.kind).toBe("fail");
    expect(v.reason).toContain(`${BUG} explains it only when the observation contains "lost chains"`);
  });

  it("is inconclusive when something could not be observed, even where the bug showed", () => {
    const v = judge(s, V, [outcomes({ chains: "fails", stable: ["inconclusive", "no image"] })]);
    expect(v).toMatchObject({ kind: "inconclusive", loud: true, bugs: [BUG], reason: "assertion stable: could not observe it (no image)" });
    expect(judge(s, V, [outcomes({ chains: ["inconclusive", "only 1 run"] })]).kind).toBe("inconclusive");
  });

  it("a failure beats inconclusive", () => {
    expect(judge(s, V, [outcomes({ stable: "fails", chains: "inconclusive" })]).kind).toBe("fail");
  });

  it("is inconclusive when none of the assertions it explains is evaluated on the version", () => {
    const v = judge(s, V, [outcomes({ chains: "not-evaluated" })]);
    expect(v).toMatchObject({ kind: "inconclusive", loud: true, reason: `none of the assertions ${BUG} explains is evaluated on ${V}` });
    const two = scenario([bug([{ assertion: "chains" }, { assertion: "stable" }])]);
    expect(judge(two, V, [outcomes({ chains: "not-evaluated", stable: "fails" })]).kind).toBe("known-bug-reproduced");
  });

  it("only where declared: outside its versions its failure is a fail", () => {
    expect(judge(s, "v0.9.0", [outcomes({ chains: "fails" })])).toMatchObject({ kind: "fail", reason: expect.not.stringContaining("not what") });
    expect(judge(scenario([bug([{ assertion: "chains" }], { versions: ">=0.10.0 <0.25.0" })]), "v0.34.0", [outcomes({ chains: "fails" })]).kind).toBe("fail");
  });

  it("a 'fixed' entry only documents: every assertion must hold where it applies", () => {
    const fixed = scenario([bug([{ assertion: "chains" }], { status: "fixed", fixedIn: "v0.25.0", versions: ">=0.25.0" })]);
    expect(declaredBugs(fixed, "v0.34.0")).toEqual([]);
    expect(judge(fixed, "v0.34.0", [outcomes({})])).toMatchObject({ kind: "pass" });
    expect(judge(fixed, "v0.34.0", [outcomes({ chains: "fails" })])).toMatchObject({ kind: "fail" });
  });
});

describe("several bugs on one version", () => {
  const both = scenario([bug([{ assertion: "chains" }]), bug([{ assertion: "stable" }], { reference: OTHER })]);

  it("all must show: then known bug reproduced, naming each", () => {
    const v = judge(both, V, [outcomes({ chains: "fails", stable: "fails" })]);
    expect(v).toMatchObject({ kind: "known-bug-reproduced", bugs: [BUG, OTHER] });
    expect(v.reason).toContain(BUG);
    expect(v.reason).toContain(OTHER);
  });

  it("one missing is an unexpected pass naming the missing one only", () => {
    const v = judge(both, V, [outcomes({ chains: "fails" })]);
    expect(v.kind).toBe("unexpected-pass");
    expect(v.reason).toMatch(new RegExp(`did not show: ${OTHER.replaceAll(".", "\\.")} \\(`));
    expect(v.reason).not.toContain(`${BUG},`);
  });

  it("two bugs explaining one assertion by different symptoms: the failure is the bug whose symptom it shows", () => {
    const shared = scenario([
      bug([{ assertion: "chains", actualContains: "lost chains" }]),
      bug([{ assertion: "chains", actualContains: "cannot be decoded" }, { assertion: "stable" }], { reference: OTHER }),
    ]);
    const v = judge(shared, V, [outcomes({ chains: ["fails", "a1 lost chains"], stable: "fails" })]);
    expect(v).toMatchObject({ kind: "known-bug-reproduced", bugs: [BUG, OTHER] });
    expect(judge(shared, V, [outcomes({ chains: ["fails", "something else"], stable: "fails" })]).kind).toBe("fail");
  });
  it("one bug naming one assertion with two symptoms: either shows it, neither is a fail", () => {
    const either = scenario([
      bug([
        { assertion: "chains", actualContains: "content digest" },
        { assertion: "chains", actualContains: "panic: send on closed channel" },
      ]),
    ]);
    expect(judge(either, V, [outcomes({ chains: ["fails", "exit 1: content digest sha256:0: not found"] })]).kind).toBe("known-bug-reproduced");
    expect(judge(either, V, [outcomes({ chains: ["fails", "BuildKit crashed: panic: send on closed channel"] })]).kind).toBe("known-bug-reproduced");
    const neither = judge(either, V, [outcomes({ chains: ["fails", "exit 1: no space left on device"] })]);
    expect(neither.kind).toBe("fail");
    expect(neither.reason).toContain('explains it only when the observation contains "content digest"');
    expect(neither.reason).toContain('explains it only when the observation contains "panic: send on closed channel"');
    expect(judge(either, V, [outcomes({})]).kind).toBe("unexpected-pass");
  });
});

describe("a racy bug: k of N attempts", () => {
  const racy = scenario([bug([{ assertion: "chains" }], { racy: { atLeast: 2, of: 3 } })]);

  it("reproduced when it showed in at least k attempts, with the tally", () => {
    const v = judge(racy, V, [outcomes({ chains: "fails" }), outcomes({}), outcomes({ chains: "fails" })]);
    expect(v.kind).toBe("known-bug-reproduced");
    expect(v.reason).toContain("in 2 of 3 attempts (declared: at least 2)");
  });

  it("an unexpected pass when it showed in fewer", () => {
    const v = judge(racy, V, [outcomes({ chains: "fails" }), outcomes({}), outcomes({})]);
    expect(v).toMatchObject({ kind: "unexpected-pass" });
    expect(v.reason).toContain(`${BUG} in 1 of 3 attempts (declared: at least 2)`);
  });

  it("a control failing in any attempt is a fail, saying which attempt", () => {
    const v = judge(racy, V, [outcomes({ chains: "fails" }), outcomes({ chains: "fails" }), outcomes({ stable: "fails" })]);
    expect(v.kind).toBe("fail");
    expect(v.reason).toContain("attempt 3: assertion stable");
  });

  it("a non-racy bug beside it must show in every attempt", () => {
    const mixed = scenario([bug([{ assertion: "chains" }], { racy: { atLeast: 1, of: 2 } }), bug([{ assertion: "stable" }], { reference: OTHER })]);
    expect(judge(mixed, V, [outcomes({ chains: "fails", stable: "fails" }), outcomes({ stable: "fails" })]).kind).toBe("known-bug-reproduced");
    expect(judge(mixed, V, [outcomes({ chains: "fails", stable: "fails" }), outcomes({})]).kind).toBe("unexpected-pass");
  });
});

describe("versions: applies, requires, gates", () => {
  it("compares BuildKit tags as semver", () => {
    expect(satisfies("v0.13.2", ">=0.13.0")).toBe(true);
    expect(satisfies("v0.12.5", ">=0.13.0")).toBe(false);
    expect(satisfies("v0.10.0", ">=0.10.0 <0.25.0")).toBe(true);
    expect(satisfies("v0.25.0", ">=0.10.0 <0.25.0")).toBe(false);
  });

  it("not applicable outside `applies`, or where a required feature is missing, saying which", () => {
    const s = scenario([], { applies: ">=0.11.0", requires: [{ feature: "rewrite-timestamp", versions: ">=0.13.0" }] });
    expect(inapplicability(s, "v0.10.6")).toBe("BuildKit v0.10.6 is outside the scenario's range >=0.11.0");
    expect(inapplicability(s, "v0.12.5")).toBe("the scenario uses rewrite-timestamp, which BuildKit has only on >=0.13.0");
    expect(inapplicability(s, "v0.13.2")).toBeUndefined();
    expect(notApplicable("why")).toEqual({ kind: "not-applicable", loud: false, reason: "why" });
  });

  it("judges a commit of master by the release it is judged as, not by its pseudo-version's stale base", () => {
    const master = "v0.32.1-0.20260821152935-73ed6825c4b7";
    const fixedIn033 = scenario([bug([{ assertion: "stable" }], { versions: ">=0.10.0 <0.33.0" })], { applies: ">=0.33.0 || <0.33.0" });
    // By its base alone, master is 0.32.1: the bug fixed in v0.33.0 would be expected there.
    expect(declaredBugs(fixedIn033, master)).toHaveLength(1);
    const judged = { kind: "buildkitd" as const, buildkitVersion: master, judgedAs: "v0.34.2" };
    expect(declaredBugs(fixedIn033, judged)).toEqual([]);
    const newOnly = scenario([], { applies: ">=0.34.0" });
    expect(inapplicability(newOnly, master)).toBe(`BuildKit ${master} is outside the scenario's range >=0.34.0`);
    expect(inapplicability(newOnly, judged)).toBeUndefined();
    expect(inapplicability(scenario([], { applies: ">=0.35.0" }), judged)).toBe(
      `BuildKit ${master} (judged as v0.34.2) is outside the scenario's range >=0.35.0`,
    );
  });
});

describe("faults of the machine", () => {
  it("an infrastructure error is loud and keeps the fault", () => {
    const fault = { code: "DAEMON_LOST" as const, message: "buildkitd exited", detail: "log" };
    expect(infrastructureError(fault)).toEqual({ kind: "infrastructure-error", loud: true, reason: "DAEMON_LOST: buildkitd exited", fault });
    expect(notRun({ code: "INTERRUPTED", message: "SIGINT" })).toMatchObject({ kind: "not-run", loud: true, reason: "not run: SIGINT" });
  });

  it("the loud verdicts are exactly those that need attention", () => {
    expect([...LOUD_VERDICTS].sort()).toEqual(["fail", "inconclusive", "infrastructure-error", "not-run", "unexpected-pass"]);
  });
});
