import { log } from "./log.ts";

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

/** 130 after SIGINT, 143 after SIGTERM, like a shell. */
export function interruptionExitCode(): number {
  return interruption.signal.reason === "SIGINT" ? 130 : 143;
}

/** Exits with the signal's code once the exit tasks are done: what a run calls once it has reported what finished. */
export function exitAfterInterruption(): Promise<never> {
  return exitProcess(interruptionExitCode(), interruption.signal.reason as NodeJS.Signals);
}

let signalHandlersInstalled = false;
let reportGraceMs: number | undefined;

/**
 * After the first signal, give the process `ms` to stop its work and report what finished
 * (it then calls exitAfterInterruption) before it exits anyway. Without it, a signal exits
 * as soon as the exit tasks are done.
 */
export function allowReportAfterSignal(ms: number): void {
  reportGraceMs = ms;
}

/**
 * SIGINT and SIGTERM abort `interruption`, then the process exits 130 / 143 as a shell
 * reports a process ended by those signals, after its exit tasks: at once, or when the
 * run has written its report (allowReportAfterSignal). A second signal skips the report.
 * Idempotent.
 *
 * The listeners stay registered (`on`, not `once`): execa's signal-exit re-raises a
 * signal when it believes it is the only listener left, which would kill the process
 * before the exit tasks finish.
 */
export function exitOnSignals(): void {
  if (signalHandlersInstalled) return;
  signalHandlersInstalled = true;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted()) {
      if (!exiting()) log("cleanup", `${signal} again: exiting without waiting for the report`);
      void exitAfterInterruption();
      return;
    }
    interruption.abort(signal);
    if (reportGraceMs === undefined) {
      void exitAfterInterruption();
      return;
    }
    log("cleanup", `${signal}: stopping; what finished is reported, then the containers and networks this process created are removed`);
    setTimeout(() => void exitAfterInterruption(), reportGraceMs).unref();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}
