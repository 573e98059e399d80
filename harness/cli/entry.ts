import { setGracefulCleanup } from "tmp-promise";
import { HarnessError } from "../errors.ts";
import { exitOnSignals, exitProcess, interrupted, interruptionExitCode } from "../interruption.ts";

/** Exit codes of errors, as the README documents them (the CLI's EXIT; 130 and 143 come from interruption.ts). */
const EXIT = { invalidInput: 2, infrastructure: 3, harnessBug: 4 } as const;

/** The exit status for an error that ended a command: 2 invalid input, 3 infrastructure, 4 a harness bug. */
function exitCodeOf(err: unknown): number {
  if (err instanceof HarnessError)
    return err.code === "SCENARIO_INVALID" || err.code === "UNKNOWN_BUILDKIT_VERSION" || err.code === "UNKNOWN_DOCKERD_BUILD"
      ? EXIT.invalidInput
      : EXIT.infrastructure;
  if ((err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) return EXIT.invalidInput;
  return EXIT.harnessBug;
}

function describe(err: unknown, usage: string | undefined): string {
  if (err instanceof HarnessError) return `error [${err.code}]: ${err.describe()}\n`;
  if ((err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) return `${(err as Error).message}\n${usage ?? ""}`;
  return `unexpected error: ${(err as Error).stack ?? String(err)}\n`;
}

/**
 * Runs a command as this process's whole life. SIGINT/SIGTERM end it like Ctrl-C: the
 * exit tasks run (remove the run's containers and temporary folders, let a running
 * apt-get finish), then it exits 130/143. Every other exit waits for the same tasks, so
 * an error never leaves this process's apt-get or temporary folders behind.
 */
export function runCommand(command: () => Promise<number>, usage?: string): void {
  exitOnSignals();
  // Temporary files and folders made with tmp-promise are removed at process exit too,
  // so an interrupted build leaves none even where its own cleanup did not get to run.
  setGracefulCleanup();
  command().then(
    (code) => exitProcess(interrupted() ? interruptionExitCode() : code),
    (err: unknown) => {
      if (interrupted()) return exitProcess(interruptionExitCode()); // joins the signal's exit
      process.stderr.write(describe(err, usage));
      return exitProcess(exitCodeOf(err));
    },
  );
}
