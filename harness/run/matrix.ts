/**
 * A run: the scenarios on each version, one version after another, every result recorded
 * as it is judged. Nothing in one version or one scenario can end the run; an
 * interruption stops it between steps and the report says what did not run.
 */
import { resolve } from "node:path";
import { interrupted } from "../interruption.ts";
import type { ResultsDocument, VersionRecord } from "../report/model.ts";
import { scenarioRecord } from "../report/records.ts";
import type { InvalidScenario } from "../scenario/load.ts";
import type { Scenario } from "../scenario/model.ts";
import type { ScenarioResult } from "../scenario/run/scenario.ts";
import { DOCKERD_PREFIX, DockerdSession } from "./dockerd-session.ts";
import { RunRecorder } from "./recorder.ts";
import { VersionSession } from "./version-session.ts";

const PROJECT_ROOT = resolve(import.meta.dirname, "../..");

export interface MatrixRun {
  readonly document: ResultsDocument;
  readonly dir: string;
}

export async function runMatrix(opts: {
  versions: readonly string[];
  scenarios: readonly Scenario[];
  invalid: readonly InvalidScenario[];
  reportsRoot: string;
  onResult?: (result: ScenarioResult) => void;
}): Promise<MatrixRun> {
  const recorder = await RunRecorder.create(opts.reportsRoot);
  const versions: VersionRecord[] = [];
  let engine: ResultsDocument["run"]["engine"];
  for (const version of opts.versions) {
    const session = version.startsWith(DOCKERD_PREFIX) ? new DockerdSession(version) : new VersionSession(version);
    if (!interrupted()) await session.open();
    try {
      for (const scenario of opts.scenarios) {
        const result = await session.run(scenario);
        await recorder.add(result);
        opts.onResult?.(result);
      }
    } finally {
      await session.close();
    }
    versions.push(session.record);
    engine ??= session.engine && { serverVersion: session.engine.serverVersion, apiVersion: session.engine.apiVersion, provenance: session.engine.provenance };
  }
  const document = await recorder.finish({
    versions,
    scenarios: opts.scenarios.map((s) => scenarioRecord(s, PROJECT_ROOT)),
    invalidScenarios: opts.invalid.map((i) => ({ folder: i.dir, message: i.error.describe() })),
    ...(engine ? { engine } : {}),
    complete: !interrupted(),
  });
  return { document, dir: recorder.dir };
}
