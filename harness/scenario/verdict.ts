import semver from "semver";
import type { AssertionOutcome } from "./assertions.ts";
import type { KnownBug, Scenario } from "./types.ts";

/**
 * The six verdicts, kept apart. "unexpected-pass" and "fail" are the loud ones: a bug
 * declared for this version that did not show, or a failure where none is declared.
 */
export type VerdictKind = "pass" | "known-bug-reproduced" | "unexpected-pass" | "fail" | "not-applicable" | "infrastructure-error";

export interface Verdict {
  readonly kind: VerdictKind;
  /** True for the verdicts that must turn a run red. */
  readonly loud: boolean;
  readonly reason: string;
  readonly knownBug?: KnownBug;
}

const LOUD: ReadonlySet<VerdictKind> = new Set(["unexpected-pass", "fail", "infrastructure-error"]);

function plain(version: string): string {
  return semver.coerce(version)?.version ?? version;
}

export function applies(scenario: Scenario, version: string): boolean {
  return semver.satisfies(plain(version), scenario.applies);
}

/** The bug declared to reproduce on this version, if any ("fixed" declarations only document). */
export function declaredBug(scenario: Scenario, version: string): KnownBug | undefined {
  return scenario.knownBugs.find((b) => b.status === "reproduces" && semver.satisfies(plain(version), b.versions));
}

function make(kind: VerdictKind, reason: string, knownBug?: KnownBug): Verdict {
  return { kind, loud: LOUD.has(kind), reason, ...(knownBug ? { knownBug } : {}) };
}

export function notApplicable(scenario: Scenario, version: string): Verdict {
  return make("not-applicable", `BuildKit ${version} is outside the scenario's range ${scenario.applies}`);
}

export function infrastructureError(message: string): Verdict {
  return make("infrastructure-error", message);
}

/**
 * Judges one or more attempts. Several attempts run only where a racy bug is declared
 * ("reproduces in at least k of N"): it counts as reproduced when at least k attempts
 * had a failing expectation.
 */
export function judgeAttempts(scenario: Scenario, version: string, attempts: readonly (readonly AssertionOutcome[])[]): Verdict {
  const bug = declaredBug(scenario, version);
  if (attempts.length === 1 || !bug || bug.status !== "reproduces" || !bug.racy) return judge(scenario, version, attempts.flat());
  const controls = attempts.flat().filter((o) => o.control && !o.holds);
  if (controls.length > 0) return judge(scenario, version, attempts.flat());
  const failed = attempts.filter((outcomes) => outcomes.some((o) => !o.holds)).length;
  const tally = `reproduced in ${failed} of ${attempts.length} attempts (declared: at least ${bug.racy.atLeast})`;
  return failed >= bug.racy.atLeast
    ? make("known-bug-reproduced", `as declared (${bug.reference}): ${tally}`, bug)
    : make("unexpected-pass", `${tally}: fixed, rarer than declared, or the scenario no longer reproduces it`, bug);
}

export function judge(scenario: Scenario, version: string, outcomes: readonly AssertionOutcome[]): Verdict {
  const failing = outcomes.filter((o) => !o.holds);
  const bug = declaredBug(scenario, version);
  const failedControls = failing.filter((o) => o.control);
  if (failedControls.length > 0) {
    return make(
      "fail",
      `a control failed${bug ? ` (it must hold even where ${bug.reference} is declared)` : ""}: ${failedControls.map((o) => o.description).join("; ")}`,
    );
  }
  if (failing.length === 0) {
    return bug
      ? make(
          "unexpected-pass",
          `every expectation held, but ${bug.reference} is declared to reproduce on ${bug.versions}: fixed, or the scenario no longer reproduces it`,
          bug,
        )
      : make("pass", "every expectation held");
  }
  const what = failing.map((o) => o.description).join("; ");
  return bug
    ? make("known-bug-reproduced", `as declared (${bug.reference}): ${what}`, bug)
    : make("fail", `not declared as a known bug on ${version}: ${what}`);
}
