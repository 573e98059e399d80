import { existsSync, readFileSync } from "node:fs";
import { execa } from "execa";
import { HarnessError } from "../errors.ts";
import { log } from "../log.ts";

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

let aptUpdated = false;

/**
 * Installs the Debian packages among `packages` that are missing, or explains how to
 * get them where this machine does not let us (not Debian, not root, no sudo).
 */
export async function ensureHostPackages(packages: readonly HostPackage[], reason: string): Promise<void> {
  const missing = packages.filter((p) => !existsSync(p.provides));
  if (missing.length === 0) return;
  const names = missing.map((p) => p.name).join(" ");
  const prefix = await aptPrefix();
  if (!prefix) {
    throw new HarnessError(
      "ENGINE_PROVISION_FAILED",
      `${reason} needs ${missing.map((p) => `${p.provides} (Debian package ${p.name})`).join(", ")}, which is missing on this ${osName()} machine, and this process cannot install it (${isDebianLike() ? "not root and no passwordless sudo" : "not a Debian/Ubuntu system"}).`,
      isDebianLike() ? `Run: sudo apt-get install -y ${names}` : `Install the equivalent of ${names} for ${osName()}.`,
    );
  }
  const [cmd = "apt-get", ...pre] = [...prefix, "apt-get"];
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  log("provision", `installing ${names} with apt-get (${reason})`);
  try {
    if (!aptUpdated) {
      await execa(cmd, [...pre, "update", "-qq"], { env });
      aptUpdated = true;
    }
    await execa(cmd, [...pre, "install", "-y", "-qq", "--no-install-recommends", ...missing.map((p) => p.name)], { env });
  } catch (err) {
    throw new HarnessError(
      "ENGINE_PROVISION_FAILED",
      `apt-get install ${names} failed: ${(err as Error).message}`,
      "Check apt's sources and network, then retry.",
      { cause: err },
    );
  }
}
