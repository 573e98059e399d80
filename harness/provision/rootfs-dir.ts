import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeExit } from "../interruption.ts";
import { log } from "../log.ts";

const PREFIX = "buildkit-repro-rootfs-";
/** Folders named before the owner's pid was part of the name: only an old one can be swept safely. */
const LEGACY_MIN_AGE_MS = 60 * 60_000;

export interface TemporaryRootfsDir {
  readonly path: string;
  remove(): Promise<void>;
}

/**
 * A folder to assemble an image's root filesystem in, named after this process
 * (`buildkit-repro-rootfs-<pid>-XXXXXX`) so that a later run can tell whether its owner
 * is alive. It is removed by `remove()`, and also when the process exits or gets
 * SIGINT/SIGTERM before that.
 */
export async function temporaryRootfsDir(root: string = tmpdir()): Promise<TemporaryRootfsDir> {
  const path = await mkdtemp(join(root, `${PREFIX}${process.pid}-`));
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

/** The owner pid a folder's name records; undefined for names from before it did. */
export function rootfsDirOwner(name: string): number | undefined {
  const m = new RegExp(`^${PREFIX}(\\d+)-`).exec(name);
  return m ? Number(m[1]) : undefined;
}

/**
 * Removes rootfs folders that processes which died (killed, or older versions that exited
 * early) left in `root`: those whose owner pid no longer exists, and legacy-named ones
 * untouched for an hour. Returns the paths removed.
 */
export async function sweepRootfsDirs(root: string = tmpdir(), now: number = Date.now()): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(root).catch(() => [] as string[])) {
    if (!name.startsWith(PREFIX)) continue;
    const path = join(root, name);
    const owner = rootfsDirOwner(name);
    const orphaned =
      owner !== undefined
        ? owner !== process.pid && !existsSync(`/proc/${owner}`)
        : await stat(path).then(
            (st) => now - st.mtimeMs > LEGACY_MIN_AGE_MS,
            () => false,
          );
    if (!orphaned) continue;
    await rm(path, { recursive: true, force: true });
    removed.push(path);
  }
  if (removed.length > 0) log("cleanup", `removed ${removed.length} temporary rootfs folder(s) that an earlier run left: ${removed.join(", ")}`);
  return removed;
}
