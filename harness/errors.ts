/**
 * Errors a user can cause or fix (a bad scenario, no Docker engine, an unreachable
 * registry). Each carries a stable code and a hint saying what to do, so the CLI and the
 * reports can print them without a stack trace, and so infrastructure failures are never
 * mistaken for a verdict about BuildKit.
 */
export type HarnessErrorCode =
  | "ENGINE_UNAVAILABLE"
  | "ENGINE_PROVISION_FAILED"
  | "HOST_PROVISION_FAILED"
  | "IMAGE_PROVISION_FAILED"
  | "UNKNOWN_BUILDKIT_VERSION"
  | "UNKNOWN_DOCKERD_BUILD"
  | "DAEMON_NOT_READY"
  | "SNAPSHOTTER_MISMATCH"
  | "REGISTRY_ERROR"
  | "BUILDCTL_FAILED"
  | "PROGRESS_PARSE_ERROR"
  | "LAYER_FORMAT_UNSUPPORTED"
  | "IMAGE_ARCHIVE_INVALID"
  | "BUILD_OUTPUT_UNREADABLE"
  | "SCENARIO_INVALID"
  | "DAEMON_LOST"
  | "REGISTRY_LOST"
  | "OUT_OF_SPACE"
  | "TIMEOUT"
  | "VERSION_MISMATCH"
  | "HARNESS_BUG"
  | "INTERRUPTED";

export class HarnessError extends Error {
  override name = "HarnessError";
  constructor(
    readonly code: HarnessErrorCode,
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The message as a user reads it: what went wrong, then what to do. */
  describe(): string {
    return this.hint ? `${this.message}\n  → ${this.hint}` : this.message;
  }
}
