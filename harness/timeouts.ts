/**
 * Every wait has a limit. Defaults fit the corpus on a slow two-core machine with room to
 * spare; each can be raised with an environment variable (seconds). A limit that is hit
 * is reported as a timeout, never as a verdict about BuildKit.
 */
import { HarnessError } from "./errors.ts";

const DEFAULTS = {
  /** One buildctl build (BuildKit's own integration tests give a sandbox 5 minutes). */
  build: 300,
  /** One scenario, every attempt and build included. */
  scenario: 1200,
  /** One answer from the Docker engine. */
  engine: 15,
  /** Network, registry and daemon up and answering (images already provisioned). */
  environmentStart: 120,
  /** Any other buildctl command (prune, du, debug workers). */
  buildctlCommand: 60,
  /** Provisioning one version's images (a cold BuildKit compile included). */
  provision: 1800,
} as const;

export type TimeoutName = keyof typeof DEFAULTS;

const VARIABLES: Record<TimeoutName, string> = {
  build: "BUILDKIT_REPRO_TIMEOUT_BUILD",
  scenario: "BUILDKIT_REPRO_TIMEOUT_SCENARIO",
  engine: "BUILDKIT_REPRO_TIMEOUT_ENGINE",
  environmentStart: "BUILDKIT_REPRO_TIMEOUT_ENVIRONMENT",
  buildctlCommand: "BUILDKIT_REPRO_TIMEOUT_BUILDCTL",
  provision: "BUILDKIT_REPRO_TIMEOUT_PROVISION",
};

/** The limit in milliseconds: the variable's value in seconds, else the default. */
export function timeoutMs(name: TimeoutName): number {
  const variable = VARIABLES[name];
  const raw = process.env[variable];
  if (raw === undefined || raw === "") return DEFAULTS[name] * 1000;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new HarnessError(
      "TIMEOUT",
      `${variable}=${raw} is not a positive number of seconds.`,
      `Unset it or give seconds, e.g. ${variable}=${DEFAULTS[name] * 2}.`,
    );
  }
  return seconds * 1000;
}

export function timeoutVariable(name: TimeoutName): string {
  return VARIABLES[name];
}

/** Rejects with a TIMEOUT HarnessError when `work` does not settle within the limit. */
export async function withTimeout<T>(name: TimeoutName, what: string, work: Promise<T>): Promise<T> {
  const ms = timeoutMs(name);
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new HarnessError("TIMEOUT", `${what} did not finish within ${ms / 1000} s.`, `Raise ${VARIABLES[name]} (seconds) if the machine is just slow.`)),
      ms,
    );
  });
  try {
    return await Promise.race([work, limit]);
  } finally {
    clearTimeout(timer);
  }
}
