import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { HOST_PACKAGES, isDebianLike } from "../../../harness/provision/host-packages.ts";

/**
 * .ci/run's decisions, through --dry-run, which prints each command instead of running
 * it: CI must never be tested here for real, it would take the engine away from
 * everyone on the machine. busybox-static and docker-registry are installed by this
 * project's own test setup before any test runs, so they are known to be there.
 */
const ROOT = resolve(import.meta.dirname, "../../..");
const dir = mkdtempSync(join(tmpdir(), "ci-run-test-"));
const sleepers: ResultPromise[] = [];
afterAll(() => {
  for (const s of sleepers) s.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

function ciRun(env: Record<string, string | undefined>) {
  return execa("bash", [".ci/run", "--dry-run"], { cwd: ROOT, env: { ...process.env, ...env }, extendEnv: false, reject: false, all: true });
}

/** A live process whose name (comm) is "dockerd", as the harness's started dockerd has: a copy of sleep. */
async function fakeDockerd(): Promise<number> {
  const binary = join(dir, "dockerd");
  if (!existsSync(binary)) copyFileSync("/bin/sleep", binary);
  const child = execa(binary, ["600"], { reject: false });
  sleepers.push(child);
  await new Promise((r) => setTimeout(r, 100));
  return child.pid!;
}

describe.runIf(isDebianLike())(".ci/run --dry-run", () => {
  it("without CI=true only installs and tests", async () => {
    const result = await ciRun({ CI: undefined });
    expect(result.exitCode).toBe(0);
    expect(result.all).not.toMatch(/remov|stopping|kill/);
    expect(result.all).toMatch(/would run: npm ci --no-audit --no-fund --loglevel=error\n== npm test\nwould run: npm test$/);
  });

  it("with CI=true stops the harness's dockerd and removes the installed harness packages, then installs and tests", async () => {
    const pid = await fakeDockerd();
    const pidfile = join(dir, "dockerd.pid");
    writeFileSync(pidfile, `${pid}\n`);
    const packages = [HOST_PACKAGES.busyboxStatic.name, HOST_PACKAGES.registry.name, "buildkit-repro-no-such-package"];
    const result = await ciRun({ CI: "true", CI_DOCKERD_PIDFILE: pidfile, CI_REMOVE_PACKAGES: packages.join(" ") });
    expect(result.exitCode, result.all).toBe(0);
    const lines = result.all.split("\n").slice(1); // after the versions line
    expect(lines).toEqual([
      `== stopping the dockerd the harness started (pid ${pid})`,
      `would run: kill -TERM ${pid}`,
      `would run: rm -f ${pidfile}`,
      "not installed: buildkit-repro-no-such-package",
      "== removing busybox-static docker-registry (images and Go build caches stay)",
      "would run: env DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq -o DPkg::Lock::Timeout=300 busybox-static docker-registry",
      "would run: npm ci --no-audit --no-fund --loglevel=error",
      "== npm test",
      "would run: npm test",
    ]);
    // a dry run changed nothing
    expect(existsSync(`/proc/${pid}`)).toBe(true);
    expect(existsSync(pidfile)).toBe(true);
    expect(existsSync(HOST_PACKAGES.registry.provides)).toBe(true);
  });

  it("leaves a dockerd it did not start alone: a pid file naming another process is only removed", async () => {
    const pidfile = join(dir, "stale.pid");
    writeFileSync(pidfile, `${process.pid}\n`); // a live process, but not a dockerd
    const result = await ciRun({ CI: "true", CI_DOCKERD_PIDFILE: pidfile, CI_REMOVE_PACKAGES: "buildkit-repro-no-such-package" });
    expect(result.exitCode).toBe(0);
    expect(result.all).not.toMatch(/kill/);
    expect(result.all).toContain(`would run: rm -f ${pidfile}`);
  });

  it("refuses when apt-get would remove more than the packages named", async () => {
    // docker-registry pre-depends on init-system-helpers, so removing that would remove it too.
    const result = await ciRun({ CI: "true", CI_DOCKERD_PIDFILE: join(dir, "none.pid"), CI_REMOVE_PACKAGES: "init-system-helpers" });
    expect(result.exitCode).toBe(1);
    expect(result.all).toMatch(/refusing to remove init-system-helpers: apt-get would also remove: .*\bdocker-registry\b/);
    expect(result.all).not.toMatch(/would run: (env|npm)/);
  });

  it("refuses when apt-get will not even plan the removal", async () => {
    // Removing libc6 breaks what cannot be removed; apt-get -s fails.
    const result = await ciRun({ CI: "true", CI_DOCKERD_PIDFILE: join(dir, "none.pid"), CI_REMOVE_PACKAGES: "libc6" });
    expect(result.exitCode).toBe(1);
    expect(result.all).toMatch(/refusing to remove libc6: apt-get -s remove failed: /);
    expect(result.all).not.toMatch(/would run: (env|npm)/);
  });

  it("rejects an unknown option", async () => {
    const result = await execa("bash", [".ci/run", "--frobnicate"], { cwd: ROOT, reject: false });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe("usage: .ci/run [--dry-run]");
  });
});
