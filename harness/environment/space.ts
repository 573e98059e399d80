/**
 * Free space where builds write: the daemon's state, the registry's storage (both tmpfs
 * with a size cap, so a scenario cannot eat the host's memory) and the host folder the
 * harness works in. Nearly full is the machine's problem, never a verdict about BuildKit.
 */
import { statfsSync } from "node:fs";
import { tmpdir } from "node:os";
import type { StartedTestContainer } from "testcontainers";

export interface SpaceUse {
  readonly where: string;
  readonly usedBytes: number;
  readonly sizeBytes: number;
}

/** Share of a filesystem in use above which a failure is blamed on space. */
const NEARLY_FULL = 0.95;
/** Host free space below which a failure is blamed on space. */
const HOST_MINIMUM_FREE = 256 * 1024 * 1024;

export function nearlyFull(use: SpaceUse): boolean {
  return use.sizeBytes > 0 && use.usedBytes / use.sizeBytes >= NEARLY_FULL;
}

/** `df -k <path>` inside a running container: its filesystem's size and use. */
export async function containerSpace(container: StartedTestContainer, path: string, label: string): Promise<SpaceUse | undefined> {
  const result = await container.exec(["df", "-k", path]).catch(() => undefined);
  if (result?.exitCode !== 0) return undefined;
  // "Filesystem 1K-blocks Used Available Use% Mounted on" then one line (busybox may wrap a long device name).
  const fields = result.output.trim().split("\n").slice(1).join(" ").trim().split(/\s+/);
  const [size, used] = [Number(fields[1]), Number(fields[2])];
  if (!Number.isFinite(size) || !Number.isFinite(used)) return undefined;
  return { where: `${label} (${path})`, usedBytes: used * 1024, sizeBytes: size * 1024 };
}

export function hostSpace(path = tmpdir()): SpaceUse {
  const s = statfsSync(path);
  return { where: `the host's ${path}`, usedBytes: (s.blocks - s.bavail) * s.bsize, sizeBytes: s.blocks * s.bsize };
}

export function hostNearlyOutOfSpace(use: SpaceUse): boolean {
  return use.sizeBytes - use.usedBytes < HOST_MINIMUM_FREE;
}

/** "1.2 GiB of 2.0 GiB" */
export function describeUse(use: SpaceUse): string {
  const gib = (n: number) => `${(n / 1024 ** 3).toFixed(2)} GiB`;
  return `${use.where}: ${gib(use.usedBytes)} of ${gib(use.sizeBytes)} used`;
}
