import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { aptLockHolders, conflictingLocks, describeHolders, type LockedFile, parseProcLocks } from "../../../harness/provision/dpkg-lock.ts";
import { CAN_HOLD_FCNTL_LOCKS, type FcntlLockHolder, holdFcntlLock } from "../../support/fcntl-lock.ts";

const FIXTURE = resolve(import.meta.dirname, "../../fixtures/proc-locks/dpkg-frontend-held.txt");
const FRONTEND: LockedFile = { path: "/var/lib/dpkg/lock-frontend", major: 0xfe, minor: 0, inode: 398608n };

describe("parseProcLocks on a recorded /proc/locks", () => {
  const locks = parseProcLocks(readFileSync(FIXTURE, "utf8"));

  it("reads every line: holders, the waiter, flock(2) and OFD locks", () => {
    expect(locks).toHaveLength(17);
    expect(locks[0]).toEqual({ kind: "POSIX", access: "WRITE", pid: 14038, major: 0xfe, minor: 0, inode: 398608n, waiting: false });
    expect(locks[1]).toMatchObject({ kind: "POSIX", pid: 14047, inode: 398608n, waiting: true });
    expect(locks.filter((l) => l.kind === "FLOCK")).toHaveLength(14);
    expect(locks.at(-1)).toMatchObject({ kind: "OFDLCK", access: "READ", pid: undefined, major: 0, minor: 6, inode: 3n });
  });

  it("finds the process apt-get itself named as the holder, not the one waiting behind it", () => {
    const found = conflictingLocks([FRONTEND], locks);
    expect(found.map((f) => f.lock.pid)).toEqual([14038]);
  });

  it("does not take a lock on another device with the same inode number for the file's", () => {
    expect(conflictingLocks([{ ...FRONTEND, major: 0x08 }], locks)).toEqual([]);
  });
});

describe("aptLockHolders on live locks", () => {
  const dir = mkdtempSync(join(tmpdir(), "dpkg-lock-test-"));
  const lockHolders: FcntlLockHolder[] = [];
  const flocks: ResultPromise[] = [];
  afterEach(async () => {
    for (const f of flocks.splice(0)) f.kill("SIGKILL");
    for (const h of lockHolders.splice(0)) await h.release();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.runIf(CAN_HOLD_FCNTL_LOCKS)("names the pid and command line of an fcntl lock holder", async () => {
    const path = join(dir, "lock-frontend");
    writeFileSync(path, "");
    const holder = await holdFcntlLock(path, 60);
    lockHolders.push(holder);
    const holders = aptLockHolders([path, join(dir, "missing")]);
    expect(holders).toEqual([{ path, pid: holder.pid, command: expect.stringMatching(/^perl -e use Fcntl/) }]);
    expect(describeHolders(holders)).toContain(`${path} is held by pid ${holder.pid}: perl -e`);
    await holder.release();
    expect(aptLockHolders([path])).toEqual([]);
  });

  it.runIf(CAN_HOLD_FCNTL_LOCKS)("ignores a flock(2) lock, which does not stop an fcntl lock (nor apt-get)", async () => {
    const path = join(dir, "flocked");
    writeFileSync(path, "");
    const flock = execa("flock", [path, "sleep", "60"], { reject: false });
    flocks.push(flock);
    await new Promise((r) => setTimeout(r, 300));
    expect(parseProcLocks(readFileSync("/proc/locks", "utf8")).some((l) => l.kind === "FLOCK" && l.pid === flock.pid)).toBe(true);
    expect(aptLockHolders([path])).toEqual([]);
    // The reason: the kernel lets an fcntl lock be taken on the same file meanwhile.
    lockHolders.push(await holdFcntlLock(path, 60));
  });
});
