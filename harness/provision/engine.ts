import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import Dockerode from "dockerode";
import { HarnessError } from "../errors.ts";
import { log } from "../log.ts";
import { ensureHostPackages, HOST_PACKAGES, isDebianLike } from "./host-packages.ts";

export interface EngineInfo {
  readonly serverVersion: string;
  readonly apiVersion: string;
  /** "found" when an engine already answered; "started" when this process started dockerd. */
  readonly provenance: "found" | "started";
}

const DOCKERD_LOG = "/var/log/buildkit-repro-dockerd.log";
const START_LOCK = "/run/buildkit-repro-dockerd.lock";
const READY_TIMEOUT_MS = 60_000;

/** The engine's version when one answers (DOCKER_HOST, else the local socket). */
export async function pingEngine(): Promise<{ serverVersion: string; apiVersion: string } | undefined> {
  try {
    // A new client per ping, not the shared one: it must see the DOCKER_HOST of this moment.
    const docker = new Dockerode();
    const version = await docker.version();
    return { serverVersion: version.Version, apiVersion: version.ApiVersion };
  } catch {
    return undefined;
  }
}

function dockerdRunning(): boolean {
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "dockerd") return true;
    } catch {
      // the process ended while we looked
    }
  }
  return false;
}

async function waitForEngine(timeoutMs: number): Promise<{ serverVersion: string; apiVersion: string } | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const answer = await pingEngine();
    if (answer) return answer;
    await new Promise((r) => setTimeout(r, 250));
  }
  return undefined;
}

function noEngineError(why: string): HarnessError {
  const where = process.env.DOCKER_HOST ? `DOCKER_HOST=${process.env.DOCKER_HOST}` : "/var/run/docker.sock";
  return new HarnessError(
    "ENGINE_UNAVAILABLE",
    `No Docker engine answers at ${where}, and ${why}.`,
    "Start a Docker engine (e.g. `sudo systemctl start docker`, or install Docker Engine), " +
      "or run as root on Debian/Ubuntu so the harness can install docker.io and start dockerd itself.",
  );
}

/** Throws why the harness cannot start a Docker engine here, if it cannot. */
export function assertCanStartEngine(): void {
  if (process.env.DOCKER_HOST) throw noEngineError("DOCKER_HOST points elsewhere, so the harness will not start a local dockerd");
  if (process.platform !== "linux") throw noEngineError(`this is ${process.platform}, where the harness cannot start one`);
  if (process.getuid?.() !== 0) throw noEngineError("this process is not root, so it cannot start dockerd");
  if (!isDebianLike()) throw noEngineError("this is not a Debian/Ubuntu system, where the harness knows how to install one");
}

/**
 * Makes sure a Docker engine answers. On a Debian/Ubuntu machine where we are root and
 * nothing answers, installs Debian's docker.io if needed and starts dockerd in the
 * background, once: a lock file and a look for a running dockerd keep concurrent callers
 * from starting a second daemon. Elsewhere it fails with what is missing.
 */
export async function ensureEngine(): Promise<EngineInfo> {
  const found = await pingEngine();
  if (found) return { ...found, provenance: "found" };
  assertCanStartEngine();
  await ensureHostPackages([HOST_PACKAGES.dockerEngine], "starting a Docker engine");
  const started = await startDockerdOnce();
  if (!started) {
    throw new HarnessError("ENGINE_PROVISION_FAILED", `dockerd did not answer within ${READY_TIMEOUT_MS / 1000} s.`, `Read ${DOCKERD_LOG} for why.`);
  }
  return { ...started, provenance: "started" };
}

async function startDockerdOnce(): Promise<{ serverVersion: string; apiVersion: string } | undefined> {
  mkdirSync(dirname(START_LOCK), { recursive: true });
  const takeLock = (): number | undefined => {
    try {
      return openSync(START_LOCK, "wx");
    } catch {
      return undefined;
    }
  };
  let lock = takeLock();
  if (lock === undefined && !dockerdRunning()) {
    // A lock with no dockerd behind it was left by a process that died while starting one.
    rmSync(START_LOCK, { force: true });
    lock = takeLock();
  }
  if (lock === undefined) {
    log("engine", `another process is starting dockerd (${START_LOCK}); waiting`);
    return waitForEngine(READY_TIMEOUT_MS);
  }
  try {
    if (!dockerdRunning()) {
      log("engine", `no Docker engine answers; starting dockerd in the background (log: ${DOCKERD_LOG})`);
      const out = openSync(DOCKERD_LOG, "a");
      const child = spawn(existsSync("/usr/sbin/dockerd") ? "/usr/sbin/dockerd" : "dockerd", [], {
        detached: true,
        stdio: ["ignore", out, out],
      });
      child.unref();
      closeSync(out);
      writeFileSync("/run/buildkit-repro-dockerd.pid", `${child.pid}\n`);
    } else {
      log("engine", "a dockerd process exists but does not answer yet; waiting for it");
    }
    const answer = await waitForEngine(READY_TIMEOUT_MS);
    if (answer) log("engine", `Docker engine ${answer.serverVersion} (API ${answer.apiVersion}) is ready`);
    return answer;
  } finally {
    closeSync(lock);
    rmSync(START_LOCK, { force: true });
  }
}
