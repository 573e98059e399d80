import type { Assertion } from "./types.ts";
import type { BuildObservation } from "./observation.ts";

export interface AssertionOutcome {
  /** The assertion in words, e.g. "config digest of build `rebuild` is the same in every run". */
  readonly description: string;
  readonly holds: boolean;
  readonly expected: string;
  readonly actual: string;
  /** Where it first stopped holding. */
  readonly firstViolation?: { readonly iteration?: number; readonly sequence: number };
}

function runsOf(build: string, observations: readonly BuildObservation[]): BuildObservation[] {
  return observations.filter((o) => o.build === build);
}

function where(o: BuildObservation): string {
  return o.iteration !== undefined ? `iteration ${o.iteration}` : `build #${o.sequence}`;
}

export function evaluate(assertion: Assertion, observations: readonly BuildObservation[]): AssertionOutcome {
  const runs = runsOf(assertion.build, observations);
  switch (assertion.kind) {
    case "digest-stable": {
      const key = assertion.digest === "image" ? "imageDigest" : "configDigest";
      const description = `${assertion.digest} digest of build "${assertion.build}" is the same in every run`;
      const first = runs[0]?.[key];
      const changed = runs.find((o) => o[key] !== first);
      const distinct = [...new Set(runs.map((o) => o[key] ?? "(none)"))];
      return {
        description,
        holds: runs.length > 0 && first !== undefined && !changed,
        expected: `one ${assertion.digest} digest across ${runs.length} run(s)`,
        actual:
          distinct.length === 1
            ? `${distinct[0]} in all ${runs.length} run(s)`
            : `${distinct.length} digests: ${distinct.map((d) => `${d} (first at ${where(runs.find((o) => (o[key] ?? "(none)") === d)!)})`).join(", ")}`,
        ...(changed ? { firstViolation: { iteration: changed.iteration, sequence: changed.sequence } } : {}),
      };
    }
    case "inline-cache-keeps-results": {
      const description = `no inline cache record loses its layers or chains between runs of "${assertion.build}"`;
      const withoutCache = runs.find((o) => !o.inlineCache);
      const losing = runs.filter((o) => (o.inlineCache?.lostSincePreviousRun.length ?? 0) > 0);
      const first = withoutCache ?? losing[0];
      const lossText = (o: BuildObservation) =>
        o.inlineCache!.lostSincePreviousRun.map((l) => `${l.digest} lost ${l.lost.join(" and ")}`).join("; ");
      return {
        description,
        holds: runs.length > 1 && !first,
        expected: `every record keeps its results across ${runs.length} run(s) (needs at least 2)`,
        actual: withoutCache
          ? `no inline cache in the image of ${where(withoutCache)}`
          : losing.length === 0
            ? `every record kept its results in all ${runs.length} run(s)`
            : `records lost results at ${losing.map((o) => `${where(o)} (${lossText(o)})`).join(", ")}`,
        ...(first ? { firstViolation: { iteration: first.iteration, sequence: first.sequence } } : {}),
      };
    }
  }
}

/** Builds that failed: a scenario expects its builds to succeed unless it says otherwise. */
export function buildsSucceeded(observations: readonly BuildObservation[]): AssertionOutcome {
  const failed = observations.find((o) => o.exitCode !== 0);
  return {
    description: "every build succeeds",
    holds: !failed,
    expected: "exit code 0 from every buildctl build",
    actual: failed ? `build "${failed.build}" (${where(failed)}) exited ${failed.exitCode}: ${failed.error ?? "no error text"}` : `${observations.length} build(s) succeeded`,
    ...(failed ? { firstViolation: { iteration: failed.iteration, sequence: failed.sequence } } : {}),
  };
}
