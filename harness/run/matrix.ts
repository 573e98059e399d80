/**
 * A run: the scenarios on each version, every result recorded as it is judged. Versions
 * run side by side (each its own daemons, registry and network), at most `parallelism`
 * at a time. Images are provisioned one version at a time, since a BuildKit compile
 * takes every core, in run order and ahead of the versions running: the next versions
 * compile while the first ones run, so a worker rarely waits for a compile. Nothing in one version
 * or one scenario can end the run; an interruption stops it between steps and the report
 * says what did not run.
 */
import { resolve } from "node:path";
import { DOCKERD_PREFIX } from "../builders/builder.ts";
import { interrupted } from "../interruption.ts";
import { compareVersions } from "../provision/versions.ts";
import type { ResultsDocument, VersionRecord } from "../report/model.ts";
import { scenarioRecord } from "../report/records.ts";
import type { InvalidScenario } from "../scenario/load.ts";
import type { Scenario } from "../scenario/model.ts";
import type { ScenarioResult } from "../scenario/run/scenario.ts";
import { DockerdSession } from "./dockerd-session.ts";
import { RunRecorder } from "./recorder.ts";
import { type Shard, shardCells } from "./shard.ts";
import { VersionSession } from "./version-session.ts";

const PROJECT_ROOT = resolve(import.meta.dirname, "../..");

/**
 * Versions run side by side by default. Measured on two cores / 24 GiB with fresh builders
 * and registries as new processes (generations.ts), the full default matrix (31 versions ×
 * 25 scenarios, warm): two at a time 1054 s (bench/matrix.ts), cores 80% busy, nothing
 * loud; three at a time 883 s (`run --matrix --parallel 3`), but buildctl v0.31.0 then
 * failed on exit after a finished build (moby/buildkit#6912, a busy machine misses its
 * 50 ms telemetry flush) and that cell was not judged. Two gives every verdict.
 */
export const DEFAULT_PARALLELISM = 2;

/** What the run needs of one version's part (VersionSession; a synthetic one in tests). */
export interface VersionPart {
  readonly version: string;
  provision(): Promise<void>;
  start(): Promise<void>;
  run(scenario: Scenario): Promise<ScenarioResult>;
  close(): Promise<void>;
  readonly record: VersionRecord;
  readonly engine?: { readonly serverVersion: string; readonly apiVersion: string; readonly provenance: string } | undefined;
}

export interface MatrixRun {
  readonly document: ResultsDocument;
  readonly dir: string;
}

/** One at a time: a queue of tasks, each started when the one before settled. */
class Serial {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(task: () => Promise<T>): Promise<T> {
    const next = this.tail.then(task, task);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

export async function runMatrix(opts: {
  versions: readonly string[];
  scenarios: readonly Scenario[];
  invalid: readonly InvalidScenario[];
  reportsRoot: string;
  onResult?: (result: ScenarioResult) => void;
  /** Versions at once; DEFAULT_PARALLELISM unless set. */
  parallelism?: number;
  /** Only this shard's version × scenario cells. */
  shard?: Shard;
  /** A version's part of the run; a VersionSession (real daemons) or a DockerdSession unless set. */
  part?: (version: string) => VersionPart;
  /** The results.json to compare verdicts with; the newest other run in reportsRoot unless set. */
  previous?: string;
}): Promise<MatrixRun> {
  const recorder = await RunRecorder.create(opts.reportsRoot, opts.previous ? { previous: opts.previous } : {});
  // Oldest first, whatever order they were named in: shards of one run cut the same cells.
  // Engines (dockerd:<build>) come after the standalone versions, in the order named.
  const engines = opts.versions.filter((v) => v.startsWith(DOCKERD_PREFIX));
  const versions = [...new Set([...opts.versions.filter((v) => !v.startsWith(DOCKERD_PREFIX)).sort(compareVersions), ...engines])];
  const cells = shardCells(
    versions,
    opts.scenarios.map((s) => s.id),
    opts.shard,
  );
  const plan = versions
    .map((version) => ({ version, scenarios: opts.scenarios.filter((s) => cells.has(`${version}\0${s.id}`)) }))
    .filter((p) => p.scenarios.length > 0);
  const makePart =
    opts.part ?? ((version: string): VersionPart => (version.startsWith(DOCKERD_PREFIX) ? new DockerdSession(version) : new VersionSession(version)));
  const parts = new Map(plan.map((p) => [p.version, makePart(p.version)]));
  const provisioning = new Serial();
  const provisioned = new Map(
    plan.map((p) => {
      const done = provisioning.run(() => parts.get(p.version)!.provision());
      done.catch(() => undefined); // awaited by the version's worker; not unhandled if that worker never comes
      return [p.version, done];
    }),
  );
  const records = new Map<string, VersionRecord>();
  let engine: ResultsDocument["run"]["engine"];

  const runVersion = async (version: string, scenarios: readonly Scenario[]) => {
    const part = parts.get(version)!;
    await provisioned.get(version);
    try {
      await part.start();
      for (const scenario of scenarios) {
        const result = await part.run(scenario);
        await recorder.add(result);
        opts.onResult?.(result);
      }
    } finally {
      await part.close();
    }
    records.set(version, part.record);
    engine ??= part.engine && { serverVersion: part.engine.serverVersion, apiVersion: part.engine.apiVersion, provenance: part.engine.provenance };
  };

  const queue = [...plan];
  const workers = Array.from({ length: Math.max(1, Math.min(opts.parallelism ?? DEFAULT_PARALLELISM, plan.length)) }, async () => {
    for (let next = queue.shift(); next; next = queue.shift()) await runVersion(next.version, next.scenarios);
  });
  await Promise.all(workers);

  const versionIndex = new Map(versions.map((v, i) => [v, i]));
  const scenarioIndex = new Map(opts.scenarios.map((s, i) => [s.id, i]));
  const document = await recorder.finish({
    versions: plan.map((p) => records.get(p.version)!),
    scenarios: opts.scenarios.map((s) => scenarioRecord(s, PROJECT_ROOT)),
    invalidScenarios: opts.invalid.map((i) => ({ folder: i.dir, message: i.error.describe() })),
    ...(engine ? { engine } : {}),
    complete: !interrupted(),
    order: (a, b) => versionIndex.get(a.version)! - versionIndex.get(b.version)! || scenarioIndex.get(a.scenario)! - scenarioIndex.get(b.scenario)!,
  });
  return { document, dir: recorder.dir };
}
