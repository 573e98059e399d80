/**
 * Prints `matrix=<json>` for the nightly workflow's per-version jobs (GitHub's
 * `fromJSON(needs.plan.outputs.matrix)`), generated from harness/provision/buildkit-versions.json.
 */
import { nightlyMatrix } from "../harness/run/nightly.ts";
import { runScript } from "./run-script.ts";

runScript(async () => {
  process.stdout.write(`matrix=${JSON.stringify(nightlyMatrix())}\n`);
});
