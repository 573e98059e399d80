import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { allowReportAfterSignal, beforeExit, exitAfterInterruption as exitAfterSignal, exitOnSignals } from "../interruption.ts";
import { log } from "../log.ts";
import { docker } from "../provision/docker-client.ts";
import { LABEL_CREATOR_PID, LABEL_OWNER_HOST, LABEL_OWNER_PID, LABEL_RUN } from "./labels.ts";
import { sweepWorkDirs } from "./work-dirs.ts";

export interface SweepResult {
  containers: number;
  networks: number;
  volumes: number;
}

/** Removes our containers (with their anonymous volumes), networks and volumes for which `shouldRemove` says so. */
async function sweep(shouldRemove: (labels: Record<string, string>) => boolean): Promise<SweepResult> {
  const result: SweepResult = { containers: 0, networks: 0, volumes: 0 };
  const filters = JSON.stringify({ label: [LABEL_RUN] });
  for (const c of await docker.listContainers({ all: true, filters })) {
    if (!shouldRemove(c.Labels)) continue;
    await docker
      .getContainer(c.Id)
      .remove({ force: true, v: true })
      .catch(() => undefined);
    result.containers++;
  }
  for (const n of await docker.listNetworks({ filters })) {
    if (!shouldRemove(n.Labels ?? {})) continue;
    await docker
      .getNetwork(n.Id)
      .remove()
      .catch(() => undefined);
    result.networks++;
  }
  const { Volumes } = await docker.listVolumes({ filters });
  for (const v of Volumes ?? []) {
    if (!shouldRemove(v.Labels ?? {})) continue;
    await docker
      .getVolume(v.Name)
      .remove({ force: true })
      .catch(() => undefined);
    result.volumes++;
  }
  return result;
}

/** Everything of one run, whoever in it created it. */
export function sweepRun(run: string): Promise<SweepResult> {
  return sweep((labels) => labels[LABEL_RUN] === run);
}

/**
 * Environments (buildkitd or dockerd) of this process that are up or starting. Versions of
 * a matrix run side by side under one run id, so sweeping "everything of the run" is only
 * safe once the last one is gone.
 */
let liveEnvironments = 0;

/** An environment's first container is about to be made. */
export function environmentStarting(): void {
  liveEnvironments++;
}

/** An environment is gone (stopped, or failed to start): the last one sweeps the run. */
export async function environmentGone(run: string): Promise<void> {
  liveEnvironments--;
  if (liveEnvironments === 0) await sweepRun(run);
}

/** What this process created for the run: a test worker must not remove its siblings' resources. */
function sweepOwn(run: string): Promise<SweepResult> {
  const pid = String(process.pid);
  return sweep((labels) => labels[LABEL_RUN] === run && labels[LABEL_CREATOR_PID] === pid);
}

/**
 * Leftovers of earlier runs that crashed or were killed: resources whose owning process
 * on this host no longer exists. Resources of live runs (another terminal) are kept.
 */
export async function sweepOrphans(): Promise<SweepResult> {
  const here = hostname();
  const result = await sweep((labels) => {
    if (labels[LABEL_OWNER_HOST] !== here) return false;
    const pid = labels[LABEL_OWNER_PID];
    return !pid || !existsSync(`/proc/${pid}`);
  });
  const total = result.containers + result.networks + result.volumes;
  if (total > 0) {
    log("cleanup", `removed leftovers of an earlier run: ${result.containers} container(s), ${result.networks} network(s), ${result.volumes} volume(s)`);
  }
  sweepWorkDirs();
  return result;
}

let registered = false;
/** How long the run may take, after a signal, to stop its builds and write its report. */
const GRACE_MS = 30_000;

/** Exits with the signal's code once the run's containers, networks and volumes (and the other exit tasks) are gone. */
export function exitAfterInterruption(run: string): Promise<never> {
  removeRunOnSignal(run);
  return exitAfterSignal();
}

/**
 * Before this process exits, remove what it created for the run. On SIGINT/SIGTERM: abort
 * what runs (buildctl is canceled, no verdict is reached after it), let the run write its
 * report of what finished (it then calls exitAfterInterruption), then remove everything
 * this process created and exit 130/143. A run that does not get there within the grace
 * period, or a second signal, skips the report. After an error that ends the process
 * while an environment starts, the same removal runs. Containers still being created when
 * the signal arrives are caught by sweeping until a sweep finds nothing.
 */
export function removeRunOnSignal(run: string): void {
  if (registered) return;
  registered = true;
  beforeExit(async (reason) => {
    if (reason === "exit") {
      await sweepOwn(run).catch(() => undefined);
      return;
    }
    log("cleanup", `${reason}: removing the containers and networks this process created`);
    await sweepUntilEmpty(run).catch((err: unknown) => log("cleanup", `cleanup after ${reason} failed: ${(err as Error).message}`));
  });
  allowReportAfterSignal(GRACE_MS);
  exitOnSignals();
}

async function sweepUntilEmpty(run: string, rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    const removed = await sweepOwn(run);
    if (removed.containers + removed.networks + removed.volumes === 0 && i > 0) return;
    await new Promise((r) => setTimeout(r, 300));
  }
}
