import { HarnessError } from "../harness/errors.ts";
import { interrupted } from "../harness/interruption.ts";

/**
 * Runs a script's main the way the CLI runs a command: after SIGINT/SIGTERM the signal
 * handler removes the run's containers and exits 130/143, so an error the interruption
 * caused must not end the process first.
 */
export function runScript(main: () => Promise<void>): void {
  main().then(
    () => {
      if (!interrupted()) process.exit(0);
    },
    (err: unknown) => {
      if (interrupted()) return;
      process.stderr.write(
        err instanceof HarnessError ? `error [${err.code}]: ${err.describe()}\n` : `unexpected error: ${(err as Error).stack ?? String(err)}\n`,
      );
      process.exit(1);
    },
  );
}
