import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { beforeExit, exitOnSignals } from "../interruption.ts";
import { log } from "../log.ts";
import { docker } from "../provision/docker-client.ts";
import { LABEL_CREATOR_PID, LABEL_OWNER_HOST, LABEL_OWNER_PID, LABEL_RUN } from "./labels.ts";

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
  return result;
}

let registered = false;

/**
 * Before this process exits, remove what it created for the run: after SIGINT/SIGTERM
 * (an interrupted build leaves nothing behind), and after an error that ended it while an
 * environment was starting. The signal handlers exit 130/143 like a shell would.
 * Containers still being created when the signal arrives are caught by sweeping until a
 * sweep finds nothing.
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
  exitOnSignals();
}

async function sweepUntilEmpty(run: string, rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    const removed = await sweepOwn(run);
    if (removed.containers + removed.networks + removed.volumes === 0 && i > 0) return;
    await new Promise((r) => setTimeout(r, 300));
  }
}
