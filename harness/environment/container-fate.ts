/**
 * What became of a container the harness started: still running, or exited, how, and
 * what its log says. A daemon that exited with a Go panic (or a fatal error, or any exit
 * code of its own) crashed: that is a finding about BuildKit. One killed by a signal or the
 * OOM killer was lost: that is the machine's fault.
 */
import { docker } from "../provision/docker-client.ts";

export interface ContainerFate {
  readonly running: boolean;
  readonly exitCode?: number;
  readonly oomKilled?: boolean;
  /** The container is gone entirely (removed behind the harness's back). */
  readonly vanished?: boolean;
  /** Running, but its service stopped answering. */
  readonly unresponsive?: boolean;
}

export async function containerFate(id: string): Promise<ContainerFate> {
  try {
    const info = await docker.getContainer(id).inspect();
    return { running: info.State.Running, exitCode: info.State.ExitCode, oomKilled: info.State.OOMKilled };
  } catch {
    return { running: false, vanished: true };
  }
}

/** Exited by a signal (128+n: `docker kill`, SIGKILL from the OOM killer) rather than on its own. */
export function killed(fate: ContainerFate): boolean {
  return fate.vanished === true || fate.unresponsive === true || fate.oomKilled === true || (fate.exitCode !== undefined && fate.exitCode >= 128);
}

const LOG_LIMIT = 256 * 1024;

/** Demultiplexes a non-TTY `docker logs` body: 8-byte frame headers (stream, 0, 0, 0, size). */
function demuxLogs(buffer: Buffer): string {
  const parts: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buffer.length) {
    const size = buffer.readUInt32BE(i + 4);
    parts.push(buffer.subarray(i + 8, i + 8 + size));
    i += 8 + size;
  }
  // A body without frame headers (a TTY container) is the text itself.
  return i === buffer.length ? Buffer.concat(parts).toString("utf8") : buffer.toString("utf8");
}

/** The tail of a container's log (stdout and stderr), bounded. */
export async function containerLog(id: string): Promise<{ log: string; truncated: boolean }> {
  try {
    const body = (await docker.getContainer(id).logs({ stdout: true, stderr: true, follow: false, tail: 5000 })) as unknown as Buffer;
    const text = demuxLogs(Buffer.isBuffer(body) ? body : Buffer.from(String(body)));
    return text.length > LOG_LIMIT ? { log: text.slice(-LOG_LIMIT), truncated: true } : { log: text, truncated: false };
  } catch (err) {
    return { log: `(the log could not be read: ${(err as Error).message})`, truncated: false };
  }
}

/** How the Go runtime announces its own death: a panic, a fatal error, or a fatal signal (SIGABRT: abort). */
const PANIC = /^(panic: |fatal error: |SIG[A-Z]+: )/m;

/** The first lines of a Go panic, fatal error or fatal signal report in a log, if it has one. */
export function panicOf(log: string): string[] | undefined {
  const m = PANIC.exec(log);
  if (!m) return undefined;
  return log
    .slice(m.index)
    .split("\n")
    .filter((l) => l.trim() !== "")
    .slice(0, 6);
}
