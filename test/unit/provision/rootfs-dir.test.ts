import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { rootfsDirOwner, sweepRootfsDirs, temporaryRootfsDir } from "../../../harness/provision/rootfs-dir.ts";

const root = mkdtempSync(join(tmpdir(), "rootfs-dir-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A pid no process has: the one of a child that has exited. */
async function deadPid(): Promise<number> {
  const child = execa("true");
  await child;
  return child.pid!;
}

describe("temporary rootfs folders", () => {
  it("carry their owner's pid in the name, and remove() removes them", async () => {
    const dir = await temporaryRootfsDir(root);
    expect(rootfsDirOwner(dir.path.split("/").at(-1)!)).toBe(process.pid);
    expect(existsSync(dir.path)).toBe(true);
    await dir.remove();
    expect(existsSync(dir.path)).toBe(false);
  });

  it("sweeps those whose owner died and old legacy-named ones; keeps a live owner's and recent legacy ones", async () => {
    const now = Date.now();
    const dead = join(root, `buildkit-repro-rootfs-${await deadPid()}-aaaaaa`);
    const live = join(root, `buildkit-repro-rootfs-${process.ppid}-bbbbbb`);
    const legacyOld = join(root, "buildkit-repro-rootfs-0jyLVN");
    const legacyRecent = join(root, "buildkit-repro-rootfs-RWjkND");
    const unrelated = join(root, "something-else-123-cccccc");
    for (const d of [dead, live, legacyOld, legacyRecent, unrelated]) mkdirSync(join(d, "usr/bin"), { recursive: true });
    utimesSync(legacyOld, new Date(now - 2 * 3600_000), new Date(now - 2 * 3600_000));

    expect((await sweepRootfsDirs(root, now)).sort()).toEqual([dead, legacyOld].sort());
    expect(readdirSync(root).sort()).toEqual(
      ["buildkit-repro-rootfs-RWjkND", `buildkit-repro-rootfs-${process.ppid}-bbbbbb`, "something-else-123-cccccc"].sort(),
    );
  });

  it("finds nothing to do in a folder that does not exist", async () => {
    expect(await sweepRootfsDirs(join(root, "missing"))).toEqual([]);
  });
});
