/**
 * A command for test/unit/cli/entry.test.ts: registers an exit task that takes a while
 * and records that it ran, then either waits to be signalled, fails, or finishes.
 *   node --import tsx test/support/exit-tasks-command.ts <marker file> signal|harness-error|bug|ok
 */
import { appendFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { runCommand } from "../../harness/cli/entry.ts";
import { HarnessError } from "../../harness/errors.ts";
import { beforeExit } from "../../harness/interruption.ts";

const [marker = "", mode = "ok"] = process.argv.slice(2);

runCommand(async () => {
  beforeExit(async (reason) => {
    await sleep(500);
    appendFileSync(marker, `task ran for ${reason}\n`);
  });
  process.stdout.write("ready\n");
  switch (mode) {
    case "signal":
      await sleep(60_000);
      return 0;
    case "harness-error":
      throw new HarnessError("ENGINE_UNAVAILABLE", "no engine here", "start one");
    case "bug":
      throw new TypeError("a harness bug");
    default:
      return 0;
  }
});
