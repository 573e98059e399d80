/**
 * A verdict only combines outcomes with what the scenario declares for the version. A
 * known bug is reproduced when an assertion it explains failed (showing its symptom, if
 * it names one) and every other assertion held: a failure nobody explained is a failure,
 * whatever else is declared. What the harness could not observe is inconclusive, and a
 * fault of the machine never reaches a verdict about BuildKit.
 */
import semver from "semver";
import type { HarnessErrorCode } from "../../errors.ts";
import type { BuilderKind, Explained, KnownBug, Scenario } from "../model.ts";
import type { AssertionOutcome } from "./outcome.ts";

export type VerdictKind = "pass" | "known-bug-reproduced" | "unexpected-pass" | "fail" | "inconclusive" | "not-applicable" | "infrastructure-error" | "not-run";

export const VERDICT_KINDS: readonly VerdictKind[] = [
  "pass",
  "known-bug-reproduced",
  "unexpected-pass",
  "fail",
  "inconclusive",
  "not-applicable",
  "infrastructure-error",
  "not-run",
];

/** Verdicts that must turn a run red: something changed, broke, or could not be judged. */
export const LOUD_VERDICTS: ReadonlySet<VerdictKind> = new Set(["unexpected-pass", "fail", "inconclusive", "infrastructure-error", "not-run"]);

/** What went wrong with the machine (or the harness), never a finding about BuildKit. */
export interface Fault {
  readonly code: HarnessErrorCode;
  readonly message: string;
  /** A stack, a log excerpt: what someone fixing it needs. */
  readonly detail?: string;
}

export interface Verdict {
  readonly kind: VerdictKind;
  readonly loud: boolean;
  /** What was observed that makes the verdict what it is. */
  readonly reason: string;
  /** The known bugs declared for this version (their references). */
  readonly bugs?: readonly string[];
  readonly fault?: Fault;
}

function make(kind: VerdictKind, reason: string, extra: Pick<Verdict, "bugs" | "fault"> = {}): Verdict {
  return { kind, loud: LOUD_VERDICTS.has(kind), reason, ...extra };
}

/** A BuildKit version as semver compares it: "v0.13.2" → "0.13.2"; a pseudo-version keeps its base. */
function plainVersion(version: string): string {
  return semver.coerce(version)?.version ?? version;
}

export function satisfies(version: string, range: string): boolean {
  return semver.satisfies(plainVersion(version), range, { includePrerelease: true });
}

/**
 * What a result is about: a kind of builder and the BuildKit that builds (a dockerd's
 * embedded one), plus the engine's own version for dockerd. A plain string is a
 * standalone buildkitd of that version.
 */
export type BuildTarget =
  | string
  | { readonly kind: BuilderKind; readonly buildkitVersion: string; readonly judgedAs?: string; readonly engineVersion?: string };

function targetOf(on: BuildTarget): Exclude<BuildTarget, string> {
  return typeof on === "string" ? { kind: "buildkitd", buildkitVersion: on } : on;
}

/** The version that version ranges are checked against: a commit of master's judged release, else the BuildKit's own. */
export function rangeVersion(on: BuildTarget): string {
  const t = targetOf(on);
  return t.judgedAs ?? t.buildkitVersion;
}

/** How messages name the BuildKit: "v0.34.0", or "v0.32.1-0.…-73ed6825c4b7 (judged as v0.34.2)". */
function buildkitName(on: BuildTarget): string {
  const t = targetOf(on);
  return t.judgedAs ? `${t.buildkitVersion} (judged as ${t.judgedAs})` : t.buildkitVersion;
}

/** How messages name the target: a BuildKit (buildkitName), or "dockerd 20.10.24 (BuildKit v0.8.4-…)". */
function targetName(on: BuildTarget): string {
  const t = targetOf(on);
  return t.kind === "buildkitd" ? buildkitName(t) : `dockerd ${t.engineVersion ?? "?"} (BuildKit ${buildkitName(t)})`;
}

/** Why the scenario does not apply to this builder and version, or undefined when it does. */
export function inapplicability(scenario: Scenario, on: BuildTarget): string | undefined {
  const { kind } = targetOf(on);
  const version = rangeVersion(on);
  if (!scenario.builders.includes(kind)) return `the scenario runs on ${scenario.builders.join(" and ")} builders, not on ${kind}`;
  if (!satisfies(version, scenario.applies)) return `BuildKit ${buildkitName(on)} is outside the scenario's range ${scenario.applies}`;
  const missing = scenario.requires.find((r) => !satisfies(version, r.versions));
  return missing ? `the scenario uses ${missing.feature}, which BuildKit has only on ${missing.versions}` : undefined;
}

/** The known bugs declared to reproduce on this builder and version ("fixed" entries only document). */
export function declaredBugs(scenario: Scenario, on: BuildTarget): KnownBug[] {
  const t = targetOf(on);
  return scenario.knownBugs.filter(
    (b) =>
      b.status === "reproduces" &&
      satisfies(rangeVersion(t), b.versions) &&
      (b.builder === undefined || b.builder === t.kind) &&
      (b.engine === undefined || (t.engineVersion !== undefined && satisfies(t.engineVersion, b.engine))),
  );
}

export function notApplicable(reason: string): Verdict {
  return make("not-applicable", reason);
}

export function infrastructureError(fault: Fault): Verdict {
  return make("infrastructure-error", `${fault.code}: ${fault.message}`, { fault });
}

export function notRun(fault: Fault): Verdict {
  return make("not-run", `not run: ${fault.message}`, { fault });
}

const observed = (o: AssertionOutcome) => `${o.description}: expected ${o.expected}, observed ${o.actual}`;

interface AttemptReading {
  /** Failures no declared bug explains (or not with the declared symptom). */
  readonly unexplained: string[];
  readonly inconclusive: string[];
  /** Declared bugs whose symptom showed, with what showed it. */
  readonly reproduced: Map<KnownBug, string[]>;
  /** Declared bugs none of whose assertions was evaluated here. */
  readonly unobservable: KnownBug[];
}

function read(outcomes: readonly AssertionOutcome[], bugs: readonly KnownBug[]): AttemptReading {
  const reading: AttemptReading = { unexplained: [], inconclusive: [], reproduced: new Map(), unobservable: [] };
  const explaining = (id: string) => bugs.flatMap((bug) => bug.explains.filter((e) => e.assertion === id).map((e): [KnownBug, Explained] => [bug, e]));
  for (const o of outcomes) {
    if (o.status === "inconclusive") reading.inconclusive.push(`${o.description}: could not observe it (${o.actual})`);
    if (o.status !== "fails") continue;
    const by = explaining(o.id);
    if (by.length === 0) {
      reading.unexplained.push(observed(o));
      continue;
    }
    // The failure is each bug whose symptom it shows; it is unexplained only when it shows none.
    const shows = by.filter(([, e]) => e.actualContains === undefined || o.actual.includes(e.actualContains));
    if (shows.length === 0) {
      const symptoms = by.map(([bug, e]) => `${bug.reference} explains it only when the observation contains ${JSON.stringify(e.actualContains)}`);
      reading.unexplained.push(`${observed(o)}; ${symptoms.join("; ")}`);
    }
    for (const [bug] of shows) reading.reproduced.set(bug, [...(reading.reproduced.get(bug) ?? []), observed(o)]);
  }
  for (const bug of bugs) {
    const evaluated = outcomes.some((o) => (o.status === "holds" || o.status === "fails") && bug.explains.some((e) => e.assertion === o.id));
    if (!evaluated) reading.unobservable.push(bug);
  }
  return reading;
}

/**
 * Judges the attempts of one scenario on one version. Several attempts run only where a
 * racy bug is declared ("reproduces in at least k of N").
 */
export function judge(scenario: Scenario, on: BuildTarget, attempts: readonly (readonly AssertionOutcome[])[]): Verdict {
  const bugs = declaredBugs(scenario, on);
  const version = targetName(on);
  const refs = bugs.length > 0 ? { bugs: bugs.map((b) => b.reference) } : {};
  const readings = attempts.map((outcomes) => read(outcomes, bugs));
  const label = (i: number) => (attempts.length > 1 ? `attempt ${i + 1}: ` : "");
  const unexplained = readings.flatMap((r, i) => r.unexplained.map((u) => label(i) + u));
  if (unexplained.length > 0) {
    const where = bugs.length > 0 ? ` (not what ${bugs.map((b) => b.reference).join(", ")} explains)` : "";
    return make("fail", `a failure nobody declared${where}: ${unexplained.join("; ")}`, refs);
  }
  const inconclusive = readings.flatMap((r, i) => r.inconclusive.map((u) => label(i) + u));
  if (inconclusive.length > 0) return make("inconclusive", inconclusive.join("; "), refs);
  const unobservable = readings[0]?.unobservable ?? [];
  if (unobservable.length > 0) {
    return make("inconclusive", `none of the assertions ${unobservable.map((b) => b.reference).join(", ")} explains is evaluated on ${version}`, refs);
  }
  if (bugs.length === 0) return make("pass", "every assertion held");

  const shown: string[] = [];
  const missing: string[] = [];
  for (const bug of bugs) {
    const hits = readings.filter((r) => r.reproduced.has(bug)).length;
    const needed = bug.racy ? bug.racy.atLeast : attempts.length;
    const tally = attempts.length > 1 ? ` in ${hits} of ${attempts.length} attempts (declared: at least ${needed})` : "";
    if (hits >= needed && hits > 0) {
      const first = readings.find((r) => r.reproduced.has(bug))!.reproduced.get(bug)!;
      shown.push(`${bug.reference}${tally}: ${first.join("; ")}`);
    } else {
      missing.push(`${bug.reference}${tally || ""}`);
    }
  }
  if (missing.length > 0) {
    return make(
      "unexpected-pass",
      `declared to reproduce on ${version} but did not show: ${missing.join(", ")} (fixed upstream, rarer than declared, or the scenario no longer reproduces it)`,
      refs,
    );
  }
  return make("known-bug-reproduced", `as declared: ${shown.join("; ")}`, refs);
}
