/**
 * After a build failed: was it the machine? A daemon (buildkitd, or a dockerd engine) that
 * exited on its own crashed: a finding about BuildKit, kept with the first lines of its
 * panic. One that was killed or stopped answering, a registry gone, or a filesystem nearly
 * full is a fault of the machine, never a verdict about BuildKit.
 */
import type { MachineDiagnosis } from "../builders/builder.ts";
import { HarnessError } from "../errors.ts";
import type { DaemonExit, DaemonRecord } from "../scenario/observation.ts";
import { BUILDKITD_GENERATIONS } from "./buildkitd-container.ts";
import { type ContainerFate, containerFate, containerLog, killed, panicOf } from "./container-fate.ts";
import { generationLog } from "./generations.ts";
import { describeUse, hostNearlyOutOfSpace, hostSpace, nearlyFull, type SpaceUse } from "./space.ts";

export interface DiagnosisProbe {
  /** "buildkitd" or "the dockerd engine", for messages. */
  readonly daemonName: string;
  readonly daemonContainerId: string;
  /** For a buildkitd container: which of its buildkitd processes is the daemon. */
  readonly daemonGeneration?: number;
  /** Does the daemon's API answer (bounded in time)? */
  daemonAnswers(): Promise<boolean>;
  readonly registryUrl: string;
  /** Filesystems the build writes to, where they can be measured. */
  spaces(): Promise<readonly (SpaceUse | undefined)[]>;
  /** What to raise when a capped filesystem fills. */
  readonly spaceHint: string;
}

/** The log of a daemon: its container's, or the part of it one buildkitd generation wrote. */
async function daemonLog(containerId: string, generation: number | undefined): Promise<{ log: string; truncated: boolean }> {
  const whole = await containerLog(containerId);
  return generation === undefined ? whole : { ...whole, log: generationLog(BUILDKITD_GENERATIONS, whole.log, generation) };
}

/** A daemon's log and, once it stopped, how it ended. */
async function daemonRecord(containerId: string, generation: number | undefined): Promise<DaemonRecord> {
  const fate = await containerFate(containerId);
  const { log: text, truncated } = await daemonLog(containerId, generation);
  const exit = fate.running ? undefined : daemonExit(fate, text);
  return {
    container: containerId.slice(0, 12),
    ...(generation !== undefined ? { generation } : {}),
    log: text,
    logTruncated: truncated,
    ...(exit ? { exit } : {}),
  };
}

/**
 * The daemons (or engines) an environment replaced, kept as evidence until an attempt
 * takes them together with the current one's record.
 */
export class DaemonRecords {
  private retired: DaemonRecord[] = [];

  async retire(containerId: string, generation?: number): Promise<void> {
    this.retired.push(await daemonRecord(containerId, generation));
  }

  async take(currentContainerId: string, generation?: number): Promise<DaemonRecord[]> {
    const records = [...this.retired, await daemonRecord(currentContainerId, generation)];
    this.retired = [];
    return records;
  }
}

function daemonExit(fate: ContainerFate, log: string): DaemonExit {
  const panic = panicOf(log);
  return { exitCode: fate.exitCode ?? -1, oomKilled: fate.oomKilled ?? false, ...(panic ? { panic } : {}) };
}

/**
 * The daemon's state as the engine sees it, once the engine has caught up: a daemon just
 * killed can still show as running for a moment after its clients saw EOF, so one that does
 * not answer is watched until it shows as exited (or for 5 s).
 */
async function settledFate(probe: DiagnosisProbe): Promise<ContainerFate> {
  const fate = await containerFate(probe.daemonContainerId);
  if (!fate.running || (await probe.daemonAnswers())) return fate;
  for (let i = 0; i < 25; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const later = await containerFate(probe.daemonContainerId);
    if (!later.running) return later;
  }
  return { running: false, unresponsive: true };
}

export async function registryAnswers(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(5_000) });
    return res.ok;
  } catch {
    return false;
  }
}

export async function diagnoseFailure(probe: DiagnosisProbe, evidence: string | undefined): Promise<MachineDiagnosis> {
  const fate = await settledFate(probe);
  if (!fate.running) {
    const { log: text } = await daemonLog(probe.daemonContainerId, probe.daemonGeneration);
    const exit = daemonExit(fate, text);
    if (exit.panic || !killed(fate)) return { crash: exit };
    const how = fate.unresponsive
      ? "stopped answering"
      : fate.oomKilled
        ? "was killed by the OOM killer"
        : fate.vanished
          ? "was removed"
          : `was killed (exit ${fate.exitCode})`;
    return {
      fault: new HarnessError(
        "DAEMON_LOST",
        `${probe.daemonName} ${how} during the build.`,
        "Something outside the harness stopped the daemon, or the host ran out of memory; run again.",
      ),
    };
  }
  if (!(await registryAnswers(probe.registryUrl))) {
    return {
      fault: new HarnessError("REGISTRY_LOST", "The test registry stopped answering during the build.", "Something outside the harness stopped it; run again."),
    };
  }
  const host = hostSpace();
  const full = (await probe.spaces()).find((u): u is SpaceUse => u !== undefined && nearlyFull(u)) ?? (hostNearlyOutOfSpace(host) ? host : undefined);
  if (full) return { fault: new HarnessError("OUT_OF_SPACE", `${describeUse(full)}.`, probe.spaceHint) };
  // A daemon frees a failed step's snapshot at once, so a full state shows only in what the step printed.
  const enospc = evidence ? /^.*(no space left on device|ENOSPC).*$/im.exec(evidence) : null;
  if (enospc) return { fault: new HarnessError("OUT_OF_SPACE", `A build ran out of space: ${enospc[0].trim().slice(0, 300)}`, probe.spaceHint) };
  return undefined;
}
