/**
 * A fresh daemon or registry without a new container. The container's first process is a
 * small shell that runs the service with its state in `<root>/<generation>`; on SIGUSR1 it
 * kills the service, deletes that state, and starts the next generation with empty state on
 * the same port. A new buildkitd process with empty state is what a new CI runner is, and a
 * new registry process on empty storage is an empty registry; each costs a process start
 * instead of a container's creation, network, runtime and removal, which was most of a
 * scenario's CPU before.
 *
 * A service that exits on its own ends the container with its exit status, so a crash is
 * seen exactly as when the service was the container's only process. Every generation is
 * announced in the container's log, which is how one generation's log is told apart.
 */
import { docker } from "../provision/docker-client.ts";

export interface GenerationsSpec {
  /** Names the service in the log's announcements: "buildkitd", "registry". */
  readonly service: string;
  /** Each generation's state is the directory `<root>/<generation>`. */
  readonly root: string;
  /** How the service is told its state directory: a command-line flag, or an environment variable. */
  readonly stateDir: { readonly flag: string } | { readonly env: string };
}

const RENEW_SIGNAL = "SIGUSR1";

function mark(spec: GenerationsSpec): string {
  return `buildkit-repro: ${spec.service} generation`;
}

/**
 * An `sh -c` script; its arguments are the service's command line. The kill is SIGKILL on
 * purpose: the old state is deleted, nothing of it needs a clean shutdown. If the signal
 * finds the service already gone on its own, that is a crash and ends the container.
 */
export function superviseGenerations(spec: GenerationsSpec): string {
  const launch = "flag" in spec.stateDir ? `"$@" ${spec.stateDir.flag} "$state" &` : `${spec.stateDir.env}="$state" "$@" &`;
  return `
renew=0
generation=0
trap 'renew=1' USR1
start() {
  generation=$((generation + 1))
  state="${spec.root}/$generation"
  mkdir -p "$state"
  echo "${mark(spec)} $generation starting" >&2
  ${launch}
  child=$!
}
start "$@"
while :; do
  wait "$child"
  status=$?
  if [ "$renew" = 1 ]; then
    renew=0
    if kill -KILL "$child" 2>/dev/null; then
      wait "$child" 2>/dev/null
      echo "${mark(spec)} $generation replaced" >&2
      rm -rf "$state" 2>/dev/null || busybox rm -rf "$state"
      start "$@"
      continue
    fi
  fi
  echo "${mark(spec)} $generation exited with status $status" >&2
  exit "$status"
done
`;
}

/**
 * Asks a supervised container for its next generation (the current one is killed and its
 * state deleted) and returns that generation's number; the caller waits until it answers.
 */
export async function askNextGeneration(containerId: string, current: number): Promise<number> {
  await docker.getContainer(containerId).kill({ signal: RENEW_SIGNAL });
  return current + 1;
}

/**
 * The part of a container's log written while `generation` ran: from its start
 * announcement up to the next generation's. A log that no longer reaches back to the
 * announcement (its head was cut) is taken from its beginning.
 */
export function generationLog(spec: GenerationsSpec, log: string, generation: number): string {
  const start = log.indexOf(`${mark(spec)} ${generation} starting\n`);
  const next = log.indexOf(`${mark(spec)} ${generation + 1} starting\n`);
  return log.slice(start === -1 ? 0 : start, next === -1 ? undefined : next);
}

/** What one look at a starting generation found: it answers as wanted, or why not yet. */
export type Look<T> = { readonly answered: T } | { readonly notYet: string };

/**
 * Looks every 50 ms until a generation answers as wanted (a look that throws counts as not
 * yet, with its message); after `timeoutMs`, throws what `timedOut` makes of the last reason.
 */
export async function untilAnswered<T>(look: () => Promise<Look<T>>, timeoutMs: number, timedOut: (last: string) => Error): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const found = await look();
      if ("answered" in found) return found.answered;
      last = found.notYet;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw timedOut(last);
}
