import { randomBytes } from "node:crypto";
import { hostname } from "node:os";

/** Every container, network and volume the harness creates carries these labels. */
export const LABEL_RUN = "org.buildkit-repro.run";
export const LABEL_OWNER_PID = "org.buildkit-repro.owner-pid";
export const LABEL_OWNER_HOST = "org.buildkit-repro.owner-host";
/** The process that created the resource: a test worker, where the owner is the test run. */
export const LABEL_CREATOR_PID = "org.buildkit-repro.creator-pid";

/**
 * One id per harness run. A vitest run shares it across workers through the environment,
 * so the run's teardown can sweep what any worker left.
 */
export function runId(): string {
  process.env.BUILDKIT_REPRO_RUN_ID ??= `${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
  return process.env.BUILDKIT_REPRO_RUN_ID;
}

/** The pid that owns the run's resources: the run's top process when one set it, else this one. */
function ownerPid(): string {
  process.env.BUILDKIT_REPRO_OWNER_PID ??= String(process.pid);
  return process.env.BUILDKIT_REPRO_OWNER_PID;
}

export function resourceLabels(): Record<string, string> {
  return { [LABEL_RUN]: runId(), [LABEL_OWNER_PID]: ownerPid(), [LABEL_OWNER_HOST]: hostname(), [LABEL_CREATOR_PID]: String(process.pid) };
}
