import { readFileSync, statSync } from "node:fs";

/**
 * The locks apt-get and dpkg take (fcntl record locks): the frontend lock every apt
 * command holds while it installs, dpkg's database lock, and the package-list and
 * download-cache locks `apt-get update` and downloads take.
 */
export const APT_LOCK_FILES = ["/var/lib/dpkg/lock-frontend", "/var/lib/dpkg/lock", "/var/lib/apt/lists/lock", "/var/cache/apt/archives/lock"] as const;

/** One line of /proc/locks. */
export interface ProcLock {
  /** POSIX (fcntl), OFDLCK (open file description), FLOCK (flock(2)), LEASE, … */
  readonly kind: string;
  readonly access: string;
  /** The holder, as the kernel recorded it; undefined for OFD locks, which belong to no process. */
  readonly pid: number | undefined;
  readonly major: number;
  readonly minor: number;
  readonly inode: bigint;
  /** A process blocked waiting for this lock ("->" lines), not a holder. */
  readonly waiting: boolean;
}

export interface LockHolder {
  readonly path: string;
  readonly pid: number | undefined;
  /** Its command line from /proc/<pid>/cmdline, or why it could not be read. */
  readonly command: string;
}

// "1: POSIX  ADVISORY  WRITE 3821 fe:00:398608 0 EOF" or "1: -> POSIX  ADVISORY  WRITE 3822 fe:00:398608 0 EOF"
const LINE = /^\d+:\s+(->\s+)?(\S+)\s+\S+\s+(\S+)\s+(-?\d+)\s+([0-9a-f]+):([0-9a-f]+):(\d+)\s/;

export function parseProcLocks(text: string): ProcLock[] {
  const locks: ProcLock[] = [];
  for (const line of text.split("\n")) {
    const m = LINE.exec(line);
    if (!m) continue;
    const pid = Number(m[4]);
    locks.push({
      kind: m[2]!,
      access: m[3]!,
      pid: pid > 0 ? pid : undefined,
      major: Number.parseInt(m[5]!, 16),
      minor: Number.parseInt(m[6]!, 16),
      inode: BigInt(m[7]!),
      waiting: m[1] !== undefined,
    });
  }
  return locks;
}

/** glibc's dev_t encoding, as stat() returns it. */
function majorMinor(dev: bigint): { major: number; minor: number } {
  return {
    major: Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn)),
    minor: Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn)),
  };
}

/** Only record locks conflict with apt's fcntl locks: a flock(2) on the same file does not stop apt-get. */
const CONFLICTS_WITH_APT = new Set(["POSIX", "OFDLCK"]);

const MAX_COMMAND = 200;

function commandOf(pid: number | undefined): string {
  if (pid === undefined) return "an open file description lock, which names no process";
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    if (argv.length === 0) return "(no command line: a kernel thread or a zombie)";
    const line = argv.join(" ").replace(/\s+/g, " ");
    return line.length > MAX_COMMAND ? `${line.slice(0, MAX_COMMAND)}…` : line;
  } catch {
    return "(not visible from here: another pid namespace, or it just ended)";
  }
}

/** Which file a lock is on: /proc/locks names files by device and inode. */
export interface LockedFile {
  readonly path: string;
  readonly major: number;
  readonly minor: number;
  readonly inode: bigint;
}

function lockedFile(path: string): LockedFile | undefined {
  try {
    const st = statSync(path, { bigint: true });
    return { path, ...majorMinor(st.dev), inode: st.ino };
  } catch {
    return undefined; // a lock file that does not exist is not held
  }
}

/** The locks among `locks` that would make apt wait on `files`: holders, not waiters, and only record locks. */
export function conflictingLocks(files: readonly LockedFile[], locks: readonly ProcLock[]): { file: LockedFile; lock: ProcLock }[] {
  return files.flatMap((file) =>
    locks
      .filter((l) => !l.waiting && CONFLICTS_WITH_APT.has(l.kind) && l.inode === file.inode && l.major === file.major && l.minor === file.minor)
      .map((lock) => ({ file, lock })),
  );
}

/**
 * Who holds a lock apt would wait for on `paths`, read from /proc/locks (fuser and lsof
 * may not be installed).
 */
export function aptLockHolders(paths: readonly string[] = APT_LOCK_FILES): LockHolder[] {
  const files = paths.map(lockedFile).filter((f) => f !== undefined);
  if (files.length === 0) return [];
  const locks = parseProcLocks(readFileSync("/proc/locks", "utf8"));
  return conflictingLocks(files, locks).map(({ file, lock }) => ({ path: file.path, pid: lock.pid, command: commandOf(lock.pid) }));
}

export function describeHolders(holders: readonly LockHolder[]): string {
  return holders.map((h) => `${h.path} is held by ${h.pid === undefined ? "" : `pid ${h.pid}: `}${h.command}`).join("; ");
}
