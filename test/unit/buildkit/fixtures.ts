/** Recorded streams in test/fixtures/progress (see its README for how they were recorded). */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const FIXTURE_DIR = fileURLToPath(new URL("../../fixtures/progress/", import.meta.url));

export function fixture(name: string): string {
  return readFileSync(FIXTURE_DIR + name, "utf8");
}

/** The Dockerfile steps of the recorded two-stage build, as the progress shows them. */
export const STEPS = {
  rootfs: "[rootfs 1/1] COPY --from=base / /",
  run1: "[builder 1/3] RUN echo building > /built.txt",
  copyA: "[builder 2/3] COPY a.txt /a.txt",
  run2: "[builder 3/3] RUN cat /a.txt /built.txt > /combined.txt && echo combined",
  copyLink: "[stage-2 1/3] COPY --link --from=builder /combined.txt /out/combined.txt",
  copyB: "[stage-2 2/3] COPY b.txt /b.txt",
  run3: "[stage-2 3/3] RUN cat /out/combined.txt /b.txt",
} as const;

export const FAIL_STEPS = {
  rootfs: "[rootfs 1/1] COPY --from=base / /",
  copyA: "[stage-1 1/2] COPY a.txt /a.txt",
  run: "[stage-1 2/2] RUN echo about to fail && cat /does-not-exist",
} as const;

export const FAIL_ERROR = 'process "/bin/sh -c echo about to fail && cat /does-not-exist" did not complete successfully: exit code: 1';

export const RECORDINGS = [
  { client: "v0.12.5", format: "plain" },
  { client: "v0.13.2", format: "plain" },
  { client: "v0.13.2", format: "rawjson" },
  { client: "v0.34.2", format: "plain" },
  { client: "v0.34.2", format: "rawjson" },
] as const;
