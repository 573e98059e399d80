import { existsSync, readFileSync } from "node:fs";
import { execa } from "execa";
import { HarnessError } from "../errors.ts";
import { log } from "../log.ts";
import { aptGet, aptLockWaitMs } from "./apt-get.ts";

/** A Debian package this harness may install, and a file that proves it is installed. */
export interface HostPackage {
  readonly name: string;
  readonly provides: string;
}

export const HOST_PACKAGES = {
  dockerEngine: { name: "docker.io", provides: "/usr/sbin/dockerd" },
  busyboxStatic: { name: "busybox-static", provides: "/bin/busybox" },
  runc: { name: "runc", provides: "/usr/sbin/runc" },
  registry: { name: "docker-registry", provides: "/usr/bin/docker-registry" },
} as const satisfies Record<string, HostPackage>;

/** A package a plan needs, and what needs it (for the log line and the error). */
export interface PlannedPackage {
  readonly package: HostPackage;
  readonly neededBy: readonly string[];
}

export function isDebianLike(): boolean {
  return existsSync("/etc/debian_version") && existsSync("/usr/bin/apt-get");
}

function osName(): string {
  try {
    const line = readFileSync("/etc/os-release", "utf8")
      .split("\n")
      .find((l) => l.startsWith("PRETTY_NAME="));
    return line ? line.slice("PRETTY_NAME=".length).replaceAll('"', "") : process.platform;
  } catch {
    return process.platform;
  }
}

/** How we may run apt-get here: as root, through passwordless sudo, or not at all. */
async function aptPrefix(): Promise<string[] | undefined> {
  if (!isDebianLike()) return undefined;
  if (process.getuid?.() === 0) return [];
  const sudo = await execa("sudo", ["-n", "true"], { reject: false });
  return sudo.exitCode === 0 ? ["sudo", "-n"] : undefined;
}

let queue: Promise<unknown> = Promise.resolve();
let listsUpdated = false;

/**
 * Installs whatever `plan` lists that is missing: one `apt-get update` per process, then
 * one `apt-get install` of everything missing. Calls are served one after another (one
 * apt-get at a time per process, and apt's locks across processes), so a caller that
 * arrives while another's install runs waits for it, then finds its packages there.
 */
export function provisionHostPackages(plan: readonly PlannedPackage[]): Promise<void> {
  const turn = queue.then(() => installMissing(plan));
  queue = turn.catch(() => undefined);
  return turn;
}

/** The same for packages one step needs; a no-op when a plan already installed them. */
export function ensureHostPackages(packages: readonly HostPackage[], neededBy: string): Promise<void> {
  return provisionHostPackages(packages.map((p) => ({ package: p, neededBy: [neededBy] })));
}

async function installMissing(plan: readonly PlannedPackage[]): Promise<void> {
  const missing = plan.filter((p) => !existsSync(p.package.provides));
  if (missing.length === 0) return;
  const names = [...new Set(missing.map((p) => p.package.name))];
  const why = [...new Set(missing.flatMap((p) => p.neededBy))].join("; ");
  const prefix = await aptPrefix();
  if (!prefix) {
    throw new HarnessError(
      "HOST_PROVISION_FAILED",
      `${why} needs ${missing.map((p) => `${p.package.provides} (Debian package ${p.package.name})`).join(", ")}, which is missing on this ${osName()} machine, and this process cannot install it (${isDebianLike() ? "not root and no passwordless sudo" : "not a Debian/Ubuntu system"}).`,
      isDebianLike() ? `Run: sudo apt-get install -y ${names.join(" ")}` : `Install the equivalent of ${names.join(" ")} for ${osName()}.`,
    );
  }
  const opts = { prefix, lockWaitMs: aptLockWaitMs() };
  log("provision", `installing ${names.join(" ")} with apt-get (for: ${why})`);
  if (!listsUpdated) {
    await aptGet(["update", "-qq"], opts);
    listsUpdated = true;
  }
  await aptGet(["install", "-y", "-qq", "--no-install-recommends", ...names], opts);
  const stillMissing = missing.filter((p) => !existsSync(p.package.provides));
  if (stillMissing.length > 0) {
    throw new HarnessError(
      "HOST_PROVISION_FAILED",
      `apt-get installed ${names.join(" ")}, yet ${stillMissing.map((p) => p.package.provides).join(", ")} is missing.`,
      `Check with \`dpkg -L ${stillMissing[0]!.package.name}\` where the package puts its files on this ${osName()} machine.`,
    );
  }
}
