import { setGracefulCleanup } from "tmp-promise";
import { HarnessError } from "../errors.ts";
import { exitOnSignals, exitProcess, interrupted } from "../interruption.ts";

/** The exit status for an error that ended a command: 2 invalid input, 3 infrastructure, 4 a harness bug. */
export function exitCodeOf(err: unknown): number {
  if (!(err instanceof HarnessError)) return 4;
  return err.code === "SCENARIO_INVALID" ? 2 : 3;
}

/**
 * Runs a command as this process's whole life. SIGINT/SIGTERM end it like Ctrl-C: the
 * exit tasks run (remove the run's containers and temporary folders, let a running
 * apt-get finish), then it exits 130/143. Every other exit waits for the same tasks, so
 * an error never leaves this process's apt-get or temporary folders behind.
 */
export function runCommand(command: () => Promise<number>): void {
  exitOnSignals();
  // Temporary files and folders made with tmp-promise (build contexts, metadata files) are
  // removed at process exit too, so an interrupted build leaves none.
  setGracefulCleanup();
  command().then(
    (code) => exitProcess(code),
    (err: unknown) => {
      if (interrupted()) return; // the signal's exit is under way
      process.stderr.write(
        err instanceof HarnessError ? `error [${err.code}]: ${err.describe()}\n` : `unexpected error: ${(err as Error).stack ?? String(err)}\n`,
      );
      return exitProcess(exitCodeOf(err));
    },
  );
}
