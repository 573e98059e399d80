/**
 * Aborted when the process gets SIGINT or SIGTERM. Long operations (buildctl) take its
 * signal, and nothing reports a verdict after it fired: an interrupted run says nothing
 * about BuildKit.
 */
export const interruption = new AbortController();

export function interrupted(): boolean {
  return interruption.signal.aborted;
}

/** Why the process is ending: a signal, or an exit the program chose (its result or an error). */
export type ExitReason = NodeJS.Signals | "exit";

/**
 * Work that must be done before the process ends, whatever ends it: wait for an apt-get
 * this process started, remove a temporary folder, remove the containers of a run. Each
 * task bounds its own duration.
 */
export type ExitTask = (reason: ExitReason) => Promise<void>;

const exitTasks = new Set<ExitTask>();
let exitStarted: Promise<never> | undefined;

/** True once the process has begun to exit: nothing new (an apt-get) may start then. */
export function exiting(): boolean {
  return exitStarted !== undefined;
}

/** Registers `task` until the returned function is called. */
export function beforeExit(task: ExitTask): () => void {
  exitTasks.add(task);
  return () => exitTasks.delete(task);
}

/**
 * Exits with `code` once every registered exit task has settled. A second call (a signal
 * during an exit already under way) joins the first and keeps its code.
 */
export function exitProcess(code: number, reason: ExitReason = "exit"): Promise<never> {
  exitStarted ??= Promise.allSettled([...exitTasks].map((task) => task(reason))).then(() => process.exit(code));
  return exitStarted;
}

let signalHandlersInstalled = false;

/**
 * SIGINT and SIGTERM abort `interruption`, run the exit tasks, then exit 130 / 143 as a
 * shell reports a process ended by those signals. Idempotent.
 *
 * The listeners stay registered (`on`, not `once`): execa's signal-exit re-raises a
 * signal when it believes it is the only listener left, which would kill the process
 * before the exit tasks finish. A second signal while they run is ignored.
 */
export function exitOnSignals(): void {
  if (signalHandlersInstalled) return;
  signalHandlersInstalled = true;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted()) return;
    interruption.abort(signal);
    void exitProcess(signal === "SIGINT" ? 130 : 143, signal);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}
