import { sweepOrphans, sweepRun } from "../../harness/environment/cleanup.ts";
import { runId } from "../../harness/environment/labels.ts";
import { ensureEngine } from "../../harness/provision/engine.ts";

export async function setup(): Promise<void> {
  process.env.BUILDKIT_REPRO_OWNER_PID = String(process.pid);
  runId(); // fixes the run id in the environment the workers inherit
  await ensureEngine();
  await sweepOrphans();
}

export async function teardown(): Promise<void> {
  await sweepRun(runId());
}
