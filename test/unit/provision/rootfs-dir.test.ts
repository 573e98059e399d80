import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeWorkDir } from "../../../harness/environment/work-dirs.ts";
import { sweepLegacyRootfsDirs } from "../../../harness/provision/rootfs-dir.ts";

const root = mkdtempSync(join(tmpdir(), "rootfs-dir-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("rootfs folders", () => {
  it("are work dirs named after their owner's pid, which remove() removes", async () => {
    const dir = await makeWorkDir("rootfs");
    expect(dir.path.split("/").at(-1)).toMatch(new RegExp(`^buildkit-repro-rootfs-p${process.pid}-`));
    expect(existsSync(dir.path)).toBe(true);
    await dir.remove();
    expect(existsSync(dir.path)).toBe(false);
  });

  it("of earlier versions (no pid in the name) are swept once untouched for an hour, not before", async () => {
    const now = Date.now();
    const names = ["buildkit-repro-rootfs-0jyLVN", "buildkit-repro-rootfs-RWjkND", `buildkit-repro-rootfs-p${process.pid}-abcdef`, "something-else"];
    for (const n of names) mkdirSync(join(root, n, "usr/bin"), { recursive: true });
    const twoHoursAgo = new Date(now - 2 * 3600_000);
    for (const n of ["buildkit-repro-rootfs-0jyLVN", `buildkit-repro-rootfs-p${process.pid}-abcdef`, "something-else"])
      utimesSync(join(root, n), twoHoursAgo, twoHoursAgo);

    expect(await sweepLegacyRootfsDirs(root, now)).toEqual([join(root, "buildkit-repro-rootfs-0jyLVN")]);
    expect(readdirSync(root).sort()).toEqual(["buildkit-repro-rootfs-RWjkND", `buildkit-repro-rootfs-p${process.pid}-abcdef`, "something-else"].sort());
  });

  it("finds nothing to do in a folder that does not exist", async () => {
    expect(await sweepLegacyRootfsDirs(join(root, "missing"))).toEqual([]);
  });
});
