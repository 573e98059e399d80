/**
 * The harness's temporary area: every host path a build may write (outputs, local caches,
 * rendered Dockerfiles, the scenario's working copy) lives in a folder made here. Names
 * carry the owning process's pid, so folders of a process that died are swept at the next
 * start, like its containers.
 */
import { existsSync, readdirSync, rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeExit } from "../interruption.ts";
import { log } from "../log.ts";

const PREFIX = "buildkit-repro-";
const OWNED = /^buildkit-repro-[a-z]+-p(\d+)-/;

export interface WorkDir {
  readonly path: string;
  remove(): Promise<void>;
}

/**
 * A new folder under the system's temporary directory, e.g. /tmp/buildkit-repro-scenario-p123-XXXXXX,
 * removed by remove(), and also when the process exits or gets SIGINT/SIGTERM first.
 */
export async function makeWorkDir(purpose: string): Promise<WorkDir> {
  const path = await mkdtemp(join(tmpdir(), `${PREFIX}${purpose}-p${process.pid}-`));
  const removeDir = () => rm(path, { recursive: true, force: true });
  const unregister = beforeExit(removeDir);
  return {
    path,
    remove: async () => {
      unregister();
      await removeDir();
    },
  };
}

/** Removes folders made here by processes that no longer exist. */
export function sweepWorkDirs(): number {
  let removed = 0;
  for (const name of readdirSync(tmpdir())) {
    const pid = OWNED.exec(name)?.[1];
    if (!pid || existsSync(`/proc/${pid}`)) continue;
    rmSync(join(tmpdir(), name), { recursive: true, force: true });
    removed++;
  }
  if (removed > 0) log("cleanup", `removed ${removed} temporary folder(s) of earlier runs`);
  return removed;
}
