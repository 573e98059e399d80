import { setTimeout as sleep } from "node:timers/promises";
import { execa, type Result, type ResultPromise } from "execa";
import { HarnessError } from "../errors.ts";
import { beforeExit, type ExitReason, exiting, exitOnSignals } from "../interruption.ts";
import { log } from "../log.ts";
import { APT_LOCK_FILES, aptLockHolders, describeHolders, type LockHolder } from "./dpkg-lock.ts";

const DEFAULT_LOCK_WAIT_S = 300;
const LOCK_POLL_MS = 500;
const STILL_WAITING_EVERY_MS = 30_000;
/** How long an exit waits for a running apt-get before asking it to stop. */
const FINISH_WAIT_MS = 120_000;
/** How long apt-get gets to stop after SIGINT (it lets the current dpkg run finish). */
const STOP_WAIT_MS = 60_000;
const LOCK_ERROR = /Could not get lock|Unable to acquire the dpkg frontend lock|Unable to lock directory/;

export interface AptGetOptions {
  /** [] when root, ["sudo", "-n"] through passwordless sudo. */
  readonly prefix: readonly string[];
  /** How long, in all, to wait for apt/dpkg locks other processes hold. */
  readonly lockWaitMs: number;
  /** The lock files to watch (APT_LOCK_FILES; tests may point elsewhere). */
  readonly lockFiles?: readonly string[];
}

/** BUILDKIT_REPRO_APT_LOCK_WAIT (seconds), default 300. */
export function aptLockWaitMs(): number {
  const raw = process.env.BUILDKIT_REPRO_APT_LOCK_WAIT;
  if (raw === undefined || raw === "") return DEFAULT_LOCK_WAIT_S * 1000;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new HarnessError(
      "HOST_PROVISION_FAILED",
      `BUILDKIT_REPRO_APT_LOCK_WAIT=${raw} is not a number of seconds.`,
      "Unset it, or set a whole number of seconds.",
    );
  }
  return seconds * 1000;
}

/**
 * Runs `apt-get <args>` once the apt and dpkg locks are free, waiting (bounded) while
 * another process holds them and saying which one. Another process may take a lock
 * between our look and apt-get's own attempt, so apt-get also waits for the dpkg locks
 * itself (DPkg::Lock::Timeout) and a lock failure is retried until the deadline.
 */
export async function aptGet(args: readonly string[], opts: AptGetOptions): Promise<void> {
  const deadline = Date.now() + opts.lockWaitMs;
  const lockFiles = opts.lockFiles ?? APT_LOCK_FILES;
  for (;;) {
    await waitForLocks(lockFiles, deadline, args);
    const secondsLeft = Math.max(1, Math.ceil((deadline - Date.now()) / 1000));
    log("provision", `apt-get ${args.join(" ")}`);
    const result = await runDetached([...args, "-o", `DPkg::Lock::Timeout=${secondsLeft}`], opts.prefix);
    if (result.exitCode === 0) return;
    const output = String(result.all ?? "");
    if (LOCK_ERROR.test(output) && Date.now() < deadline) {
      log("provision", `apt-get ${args[0]} found a lock taken after we looked; waiting again`);
      continue;
    }
    throw new HarnessError(
      "HOST_PROVISION_FAILED",
      `apt-get ${args.join(" ")} failed (${result.signal ? `signal ${result.signal}` : `exit ${result.exitCode}`}): ${output.trim().split("\n").slice(-8).join("\n")}`,
      LOCK_ERROR.test(output)
        ? "Another apt-get or dpkg held its lock for too long: let it finish (or raise BUILDKIT_REPRO_APT_LOCK_WAIT), then retry."
        : "Check apt's sources and network (`apt-get update`), then retry. If dpkg reports an interrupted install, run `dpkg --configure -a` first.",
      { cause: result },
    );
  }
}

async function waitForLocks(lockFiles: readonly string[], deadline: number, args: readonly string[]): Promise<void> {
  let holders: LockHolder[] = aptLockHolders(lockFiles);
  if (holders.length === 0) return;
  const waitS = Math.round((deadline - Date.now()) / 1000);
  log("provision", `apt-get ${args[0]} waits for another process (at most ${waitS} s): ${describeHolders(holders)}`);
  let lastLog = Date.now();
  while (holders.length > 0) {
    if (Date.now() >= deadline) {
      throw new HarnessError(
        "HOST_PROVISION_FAILED",
        `apt-get ${args.join(" ")} gave up waiting for apt/dpkg locks: ${describeHolders(holders)}`,
        "Let that process finish (or raise BUILDKIT_REPRO_APT_LOCK_WAIT, in seconds), then retry.",
      );
    }
    await sleep(LOCK_POLL_MS);
    holders = aptLockHolders(lockFiles);
    if (holders.length > 0 && Date.now() - lastLog >= STILL_WAITING_EVERY_MS) {
      log("provision", `still waiting: ${describeHolders(holders)}`);
      lastLog = Date.now();
    }
  }
  log("provision", "the apt/dpkg locks are free");
}

/**
 * apt-get runs in its own process group, so a Ctrl-C in the terminal does not reach it
 * (or the dpkg it runs) directly. Until it ends, this process does not exit: an exit or a
 * signal first waits for it (bounded), then asks it to stop after its current dpkg run.
 */
async function runDetached(args: readonly string[], prefix: readonly string[]): Promise<Result<{ all: true; reject: false }>> {
  // Checked in the same tick as the spawn: an exit under way has already listed the
  // apt-get runs it waits for, and would not wait for a new one.
  if (exiting()) throw new HarnessError("INTERRUPTED", `Not starting apt-get ${args[0]}: the process is exiting.`, "Run the command again.");
  const [cmd = "apt-get", ...pre] = [...prefix, "apt-get"];
  const child = execa(cmd, [...pre, ...args], {
    detached: true,
    stdin: "ignore",
    all: true,
    reject: false,
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  const unregister = beforeExit((reason) => letFinish(child, reason));
  exitOnSignals();
  try {
    return await child;
  } finally {
    unregister();
  }
}

async function endsWithin(child: ResultPromise, ms: number): Promise<boolean> {
  const timer = new AbortController();
  const ended = await Promise.race([child.then(() => true), sleep(ms, false, { signal: timer.signal }).catch(() => false)]);
  timer.abort();
  return ended;
}

async function letFinish(child: ResultPromise, reason: ExitReason): Promise<void> {
  const why = reason === "exit" ? "exiting" : reason;
  log("provision", `${why}: waiting for apt-get (pid ${child.pid}) to finish first, so dpkg is not left half-done (at most ${FINISH_WAIT_MS / 1000} s)`);
  if (await endsWithin(child, FINISH_WAIT_MS)) return;
  log("provision", `apt-get (pid ${child.pid}) still runs; asking it to stop after its current dpkg run (SIGINT)`);
  child.kill("SIGINT");
  if (await endsWithin(child, STOP_WAIT_MS)) {
    log("provision", "apt-get stopped early; if a later apt-get says dpkg was interrupted, run `dpkg --configure -a`");
    return;
  }
  log("provision", `apt-get (pid ${child.pid}) did not stop and is left running on its own; once it ends, run \`dpkg --configure -a\` if dpkg asks for it`);
}
