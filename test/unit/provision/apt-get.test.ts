import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { HarnessError } from "../../../harness/errors.ts";
import { aptGet } from "../../../harness/provision/apt-get.ts";
import { isDebianLike } from "../../../harness/provision/host-packages.ts";
import { CAN_HOLD_FCNTL_LOCKS, holdFcntlLock } from "../../support/fcntl-lock.ts";

/**
 * The waiting logic against a real fcntl lock held by another process, on a lock file of
 * the test's own: apt-get runs only harmless commands (--version, an invalid operation),
 * so the host's apt and dpkg state is never touched. test/e2e/host-packages.test.ts does
 * the same against the real dpkg lock with a real install.
 */
const dir = mkdtempSync(join(tmpdir(), "apt-get-test-"));
const lockFile = join(dir, "lock-frontend");
writeFileSync(lockFile, "");
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  vi.restoreAllMocks();
});

function captureLog(): string[] {
  const lines: string[] = [];
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  return lines;
}

describe.runIf(isDebianLike() && CAN_HOLD_FCNTL_LOCKS)("aptGet", () => {
  it("waits while another process holds the lock, says which, then runs apt-get", async () => {
    const holder = await holdFcntlLock(lockFile, 1.5);
    const lines = captureLog();
    const started = Date.now();
    await aptGet(["--version"], { prefix: [], lockWaitMs: 30_000, lockFiles: [lockFile] });
    const waited = Date.now() - started;
    await holder.ended;
    expect(waited).toBeGreaterThanOrEqual(1000);
    expect(lines.join("")).toMatch(
      new RegExp(`\\[provision\\] apt-get --version waits for another process \\(at most \\d+ s\\): ${lockFile} is held by pid ${holder.pid}: perl -e`),
    );
    expect(lines.join("")).toContain("[provision] the apt/dpkg locks are free");
  });

  it("gives up after the bounded wait, naming the holder", async () => {
    const holder = await holdFcntlLock(lockFile, 30);
    captureLog();
    try {
      const err = await aptGet(["--version"], { prefix: [], lockWaitMs: 1000, lockFiles: [lockFile] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HarnessError);
      expect((err as HarnessError).code).toBe("HOST_PROVISION_FAILED");
      expect((err as HarnessError).message).toContain(`gave up waiting for apt/dpkg locks: ${lockFile} is held by pid ${holder.pid}: perl -e`);
      expect((err as HarnessError).hint).toMatch(/BUILDKIT_REPRO_APT_LOCK_WAIT/);
    } finally {
      await holder.release();
    }
  });

  it("reports apt-get's own error when the command fails for another reason", async () => {
    captureLog();
    const err = await aptGet(["no-such-operation"], { prefix: [], lockWaitMs: 1000, lockFiles: [lockFile] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HarnessError);
    expect((err as HarnessError).message).toMatch(/^apt-get no-such-operation failed \(exit 100\): E: Invalid operation no-such-operation/);
  });
});
