import { runCommand } from "../harness/cli/entry.ts";

/**
 * Runs a script's main the way the CLI runs a command (runCommand): an error is printed
 * and exits non-zero, and SIGINT/SIGTERM remove the run's containers and exit 130/143.
 */
export function runScript(main: () => Promise<void>): void {
  runCommand(async () => {
    await main();
    return 0;
  });
}
