/** Progress lines for people watching a run; stderr so stdout stays machine-readable. */
export function log(scope: string, message: string): void {
  if (process.env.BUILDKIT_REPRO_QUIET === "1") return;
  process.stderr.write(`[${scope}] ${message}\n`);
}
