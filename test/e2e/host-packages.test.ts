import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { execa } from "execa";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { aptGet } from "../../harness/provision/apt-get.ts";
import { type HostPackage, isDebianLike, provisionHostPackages } from "../../harness/provision/host-packages.ts";
import { CAN_HOLD_FCNTL_LOCKS, holdFcntlLock } from "../support/fcntl-lock.ts";

/**
 * Host provisioning against the machine's real apt and dpkg, with harmless packages
 * (GNU hello and sl, tiny, nothing depends on them) that the tests install and purge
 * again; the packages the harness and other users rely on are never removed.
 *
 * The original race: two provisioning steps of one run each called apt-get, and the
 * second failed at once with "Could not get lock /var/lib/dpkg/lock-frontend. It is held
 * by process N (apt-get)". Here another process holds that very lock while two callers
 * of the queue want the package at the same time.
 */
const ROOT = resolve(import.meta.dirname, "../..");
const HELLO: HostPackage = { name: "hello", provides: "/usr/bin/hello" };
const SL: HostPackage = { name: "sl", provides: "/usr/games/sl" };
const FRONTEND_LOCK = "/var/lib/dpkg/lock-frontend";
const canRun = process.getuid?.() === 0 && isDebianLike() && CAN_HOLD_FCNTL_LOCKS;

/** Purges whichever of the test packages is installed, in one apt-get. */
async function purgeTestPackages(): Promise<void> {
  const installed = [HELLO, SL].filter((p) => existsSync(p.provides)).map((p) => p.name);
  if (installed.length > 0) await aptGet(["purge", "-y", "-qq", ...installed], { prefix: [], lockWaitMs: 300_000 });
}

/** `dpkg --audit` lists packages left unpacked or half-configured; it prints nothing when dpkg is consistent. */
async function dpkgAudit(): Promise<string> {
  return (await execa("dpkg", ["--audit"], { reject: false })).stdout;
}

describe.runIf(canRun)("host packages on the real dpkg lock", () => {
  beforeAll(purgeTestPackages, 5 * 60_000);
  afterAll(purgeTestPackages, 5 * 60_000);
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("two concurrent callers wait for another process's dpkg lock, then install once", async () => {
    const holder = await holdFcntlLock(FRONTEND_LOCK, 4);
    const lines: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return write(chunk);
    });
    await Promise.all([
      provisionHostPackages([{ package: HELLO, neededBy: ["the BuildKit image, say"] }]),
      provisionHostPackages([{ package: HELLO, neededBy: ["the registry image, say"] }]),
    ]);
    await holder.ended;
    const log = lines.join("");
    expect(existsSync(HELLO.provides)).toBe(true);
    expect(log).toMatch(new RegExp(`waits for another process \\(at most \\d+ s\\): ${FRONTEND_LOCK} is held by pid ${holder.pid}: perl -e`));
    expect(log.match(/installing hello with apt-get/g)).toHaveLength(1);
    expect(log.match(/\[provision\] apt-get install/g)).toHaveLength(1);
    expect(await dpkgAudit()).toBe("");
  });

  it("SIGTERM during the install: the command lets apt-get finish, exits 143, and leaves dpkg consistent", async () => {
    const child = execa(process.execPath, ["--import", "tsx", "test/support/install-package.ts", SL.name, SL.provides], {
      cwd: ROOT,
      reject: false,
      all: true,
      forceKillAfterDelay: false, // execa's default SIGKILLs 5 s after kill(); the install takes longer
    });
    await new Promise<void>((installing, reject) => {
      let seen = "";
      child.stderr.on("data", (chunk: Buffer) => {
        seen += chunk.toString();
        if (/\[provision\] apt-get install/.test(seen)) installing();
      });
      void child.then((r) => reject(new Error(`ended before its install: ${r.all}`)));
    });
    child.kill("SIGTERM");
    const result = await child;
    expect(result.exitCode).toBe(143);
    const waited = /SIGTERM: waiting for apt-get \(pid (\d+)\) to finish first/.exec(String(result.all));
    expect(waited, String(result.all)).not.toBeNull();
    expect(existsSync(`/proc/${waited![1]}`)).toBe(false); // its apt-get ended before it did
    expect(existsSync(SL.provides)).toBe(true); // the install it had started was completed
    expect(await dpkgAudit()).toBe("");
  });
});
