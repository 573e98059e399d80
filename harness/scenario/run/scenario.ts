/**
 * Runs a scenario on a started environment and judges it: its attempts (several only
 * where a racy bug is declared), each attempt's outcomes, and the verdict. Whatever stops
 * it (the machine, a timeout, an interruption, a harness bug) becomes a verdict that says
 * so, with what was observed up to then; it never escapes as an exception.
 */
import type { BuilderIdentity, ScenarioBuilder } from "../../builders/builder.ts";
import { HarnessError } from "../../errors.ts";
import { interruption } from "../../interruption.ts";
import { RegistryClient } from "../../oci/registry-client.ts";
import { timeoutMs, timeoutVariable } from "../../timeouts.ts";
import { evaluate, everyBuildSucceeds } from "../judge/assertions.ts";
import type { AssertionOutcome } from "../judge/outcome.ts";
import {
  declaredBugs,
  type Fault,
  inapplicability,
  infrastructureError,
  judge,
  notApplicable,
  notRun,
  rangeVersion,
  satisfies,
  type Verdict,
} from "../judge/verdict.ts";
import type { Scenario } from "../model.ts";
import type { AttemptObservation } from "../observation.ts";
import { runAttempt } from "./attempt.ts";
import { explainDifferences } from "./explain.ts";

export interface JudgedAttempt {
  readonly observation: AttemptObservation;
  readonly outcomes: readonly AssertionOutcome[];
}

export interface ScenarioResult {
  readonly scenario: Scenario;
  /** What ran it: results are about a scenario on a builder. */
  readonly builder: BuilderIdentity;
  readonly buildkitVersion: string;
  readonly verdict: Verdict;
  readonly attempts: readonly JudgedAttempt[];
  readonly wallMs: number;
}

/** Every outcome of one attempt: the implicit control first, then the scenario's assertions. */
export function outcomesOf(scenario: Scenario, version: string, observation: AttemptObservation): AssertionOutcome[] {
  const gate = (range: string) => satisfies(version, range);
  // A build-succeeds gated out on this version judges nothing, so the control keeps its build.
  const named = new Set(scenario.assertions.flatMap((a) => (a.kind === "build-succeeds" && (a.versions === undefined || gate(a.versions)) ? [a.build] : [])));
  return [everyBuildSucceeds(observation, named), ...scenario.assertions.map((a) => evaluate(a, observation, version, gate))];
}

/** What stopped a scenario, as a fault; a harness bug keeps its stack. */
export function faultOf(error: unknown): Fault {
  if (error instanceof HarnessError) return { code: error.code, message: error.describe() };
  // A thrown non-Error has no stack; one made here would only point at this function.
  if (!(error instanceof Error)) return { code: "HARNESS_BUG", message: `the harness failed: ${String(error)}` };
  return { code: "HARNESS_BUG", message: `the harness failed: ${error.message}`, ...(error.stack ? { detail: error.stack } : {}) };
}

/** Aborts on SIGINT/SIGTERM, or with a TIMEOUT error once the scenario's time is up. */
function scenarioSignal(id: string): { signal: AbortSignal; dispose: () => void } {
  const deadline = new AbortController();
  const ms = timeoutMs("scenario");
  const timer = setTimeout(
    () =>
      deadline.abort(
        new HarnessError(
          "TIMEOUT",
          `scenario ${id} did not finish within ${ms / 1000} s.`,
          `Raise ${timeoutVariable("scenario")} (seconds) if the machine is slow.`,
        ),
      ),
    ms,
  );
  return { signal: AbortSignal.any([interruption.signal, deadline.signal]), dispose: () => clearTimeout(timer) };
}

export async function runScenario(scenario: Scenario, builder: ScenarioBuilder): Promise<ScenarioResult> {
  const version = rangeVersion(builder.identity);
  const started = Date.now();
  const finish = (verdict: Verdict, attempts: JudgedAttempt[] = []): ScenarioResult => ({
    scenario,
    builder: builder.identity,
    buildkitVersion: builder.identity.buildkitVersion,
    verdict,
    attempts,
    wallMs: Date.now() - started,
  });
  const why = inapplicability(scenario, builder.identity);
  if (why) return finish(notApplicable(why));
  // Enough attempts for every racy bug declared here to show as often as it must.
  const count = Math.max(1, ...declaredBugs(scenario, builder.identity).map((b) => b.racy?.of ?? 1));
  const { signal, dispose } = scenarioSignal(scenario.id);
  const attempts: JudgedAttempt[] = [];
  try {
    for (let i = 1; i <= count; i++) {
      const stopWhen = (soFar: AttemptObservation) => outcomesOf(scenario, version, soFar).some((o) => o.status === "fails");
      const { observation, error } = await runAttempt(scenario, builder, count > 1 ? i : undefined, signal, stopWhen);
      const outcomes = outcomesOf(scenario, version, observation);
      attempts.push({
        observation,
        outcomes:
          error === undefined ? await explainDifferences(outcomes, observation, new RegistryClient(builder.registry.urlFromHost), builder.platform) : outcomes,
      });
      if (error !== undefined) {
        // Whatever a signal made fail (buildctl canceled, a stream cut), the reason is the signal.
        if (interruption.signal.aborted)
          return finish(notRun({ code: "INTERRUPTED", message: `interrupted (${String(interruption.signal.reason)})` }), attempts);
        const fault = faultOf(error);
        return finish(fault.code === "INTERRUPTED" ? notRun(fault) : infrastructureError(fault), attempts);
      }
    }
    return finish(
      judge(
        scenario,
        builder.identity,
        attempts.map((a) => a.outcomes),
      ),
      attempts,
    );
  } finally {
    dispose();
  }
}
