import { hostname } from "node:os";
import type { EnvironmentRun } from "../corpus.ts";
import type { VerdictKind } from "../scenario/verdict.ts";

/** Bump on any incompatible change to results.json; readers check it. */
export const RESULTS_SCHEMA_VERSION = 1;

export interface RunResults {
  readonly schemaVersion: typeof RESULTS_SCHEMA_VERSION;
  readonly runId: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly host: string;
  readonly environments: readonly EnvironmentRun[];
  readonly counts: Readonly<Record<VerdictKind, number>>;
  /** Scenario × version cells whose verdict must turn the run red. */
  readonly loud: readonly { scenario: string; buildkitVersion: string; verdict: VerdictKind; reason: string }[];
}

export function collectResults(runId: string, startedAt: Date, environments: readonly EnvironmentRun[]): RunResults {
  const counts: Record<VerdictKind, number> = {
    pass: 0,
    "known-bug-reproduced": 0,
    "unexpected-pass": 0,
    fail: 0,
    "not-applicable": 0,
    "infrastructure-error": 0,
  };
  const loud: RunResults["loud"][number][] = [];
  for (const env of environments) {
    for (const r of env.results) {
      counts[r.verdict.kind]++;
      if (r.verdict.loud) loud.push({ scenario: r.scenario, buildkitVersion: r.buildkitVersion, verdict: r.verdict.kind, reason: r.verdict.reason });
    }
  }
  return {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    runId,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    host: hostname(),
    environments,
    counts,
    loud,
  };
}
