import { readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { log } from "../log.ts";

/**
 * Rootfs folders named before the owner's pid was part of the name
 * (`buildkit-repro-rootfs-XXXXXX`; today's are work dirs, swept by their pid). A failed
 * first run used to leave them. Their owner cannot be known, so only one untouched for an
 * hour (longer than any image build) is taken as abandoned.
 */
const LEGACY = /^buildkit-repro-rootfs-[A-Za-z0-9]{6}$/;
const LEGACY_MIN_AGE_MS = 60 * 60_000;

/** Removes abandoned legacy rootfs folders in `root`; returns their paths. */
export async function sweepLegacyRootfsDirs(root: string = tmpdir(), now: number = Date.now()): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(root).catch(() => [] as string[])) {
    if (!LEGACY.test(name)) continue;
    const path = join(root, name);
    const old = await stat(path).then(
      (st) => now - st.mtimeMs > LEGACY_MIN_AGE_MS,
      () => false,
    );
    if (!old) continue;
    await rm(path, { recursive: true, force: true });
    removed.push(path);
  }
  if (removed.length > 0) log("cleanup", `removed ${removed.length} temporary rootfs folder(s) an earlier version left: ${removed.join(", ")}`);
  return removed;
}
