/**
 * Engine build streams recorded from real builds on each dockerd build
 * (test/fixtures/dockerd/<build>/, see its README): per-step cache hits decoded from the
 * moby.buildkit.trace messages, the image id, and a failing RUN's error.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { collapseProgressGroups, type StepResult } from "../../../harness/buildkit/progress/step.ts";
import { parseEngineBuildStream } from "../../../harness/dockerd/build-stream.ts";
import { pushedDigest, streamError } from "../../../harness/dockerd/engine-builder.ts";

const fixture = (build: string, name: string) => readFileSync(new URL(`../../fixtures/dockerd/${build}/${name}`, import.meta.url), "utf8");

const RUN1 = "[2/4] RUN echo building > /built.txt";
const COPY = "[3/4] COPY a.txt /a.txt";
const RUN2 = "[4/4] RUN cat /a.txt /built.txt";
const FAIL_COMMAND = "/bin/sh -c echo about to fail && cat /does-not-exist";

/**
 * The error text of a failing RUN changed in BuildKit v0.9.0 (moby/buildkit#2215, commit
 * a27d7c3d8 "exec: improve error message on exec errors"): v0.8 says "executor failed
 * running [...]", later versions "process ... did not complete successfully".
 */
const OLD_RUN_ERROR = `executor failed running [${FAIL_COMMAND}]: exit code: 1`;
const RUN_ERROR = `process "${FAIL_COMMAND}" did not complete successfully: exit code: 1`;

/**
 * `importReuses`: whether the first import of a cold build's inline cache reuses its steps.
 * Not on moby 27.1.1: BuildKit v0.14.0–v0.15.1 on graph drivers exports no cache results
 * (moby/buildkit#5242, a regression of #4784; fixed in v0.15.2 with moby 27.2.0).
 */
const ENGINES = [
  { build: "debian-bookworm", runError: OLD_RUN_ERROR, importReuses: true },
  { build: "debian-trixie", runError: RUN_ERROR, importReuses: true },
  { build: "moby-v27.1.1", runError: RUN_ERROR, importReuses: false },
  { build: "moby-v27.2.0", runError: RUN_ERROR, importReuses: true },
  { build: "moby-v2.0.0-beta.1", runError: RUN_ERROR, importReuses: true },
  { build: "moby-v2.0.0-beta.24", runError: RUN_ERROR, importReuses: true },
] as const;

function dockerfileSteps(steps: StepResult[]): Record<string, boolean> {
  return Object.fromEntries(
    collapseProgressGroups(steps)
      .filter((s) => !s.internal && !s.instruction?.startsWith("FROM "))
      .map((s) => [s.name, s.cached]),
  );
}

describe.each(ENGINES)("recorded $build", ({ build, runError, importReuses }) => {
  it("cold build on a fresh engine: no step cached, an image id, no error", () => {
    const p = parseEngineBuildStream(fixture(build, "cold.jsonl"));
    expect(dockerfileSteps(p.steps)).toEqual({ [RUN1]: false, [COPY]: false, [RUN2]: false });
    expect(p.imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(p.error).toBeUndefined();
    expect(p.parseWarnings).toEqual([]);
    expect(p.traceUpdates).toBeGreaterThan(0);
  });

  it("the same build again: every step cached, the same image", () => {
    const cold = parseEngineBuildStream(fixture(build, "cold.jsonl"));
    const warm = parseEngineBuildStream(fixture(build, "warm.jsonl"));
    expect(dockerfileSteps(warm.steps)).toEqual({ [RUN1]: true, [COPY]: true, [RUN2]: true });
    expect(warm.imageId).toBe(cold.imageId);
  });

  it(`after prune and image removal, --cache-from the pushed inline cache: ${importReuses ? "every step cached" : "nothing reused"}`, () => {
    const p = parseEngineBuildStream(fixture(build, "import.jsonl"));
    expect(dockerfileSteps(p.steps)).toEqual({ [RUN1]: importReuses, [COPY]: importReuses, [RUN2]: importReuses });
    const importing = p.steps.find((s) => s.name.startsWith("importing cache manifest from "));
    expect(importing).toMatchObject({ internal: true, name: "importing cache manifest from registry:5000/recorded/app:latest" });
  });

  it("a failing RUN: the step's error, the build's error, no image", () => {
    const p = parseEngineBuildStream(fixture(build, "fail.jsonl"));
    const run = p.steps.find((s) => s.instruction === "RUN echo about to fail && cat /does-not-exist");
    expect(run?.error).toBe(runError);
    expect(run?.cached).toBe(false);
    expect(p.steps.filter((s) => s.error)).toHaveLength(1);
    expect(p.error).toBe(runError);
    expect(p.imageId).toBeUndefined();
  });

  it("the push of the cold build names its digest and no error", () => {
    const push = fixture(build, "push.jsonl");
    expect(pushedDigest(push)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(streamError(push)).toBeUndefined();
  });
});

describe("stream damage", () => {
  it("reports an undecodable trace and non-JSON lines without throwing", () => {
    const p = parseEngineBuildStream('{"id":"moby.buildkit.trace","aux":"CgU="}\nnot json\n{"stream":"Step 1/2"}\n');
    expect(p.traceUpdates).toBe(0);
    expect(p.parseWarnings).toHaveLength(2);
    expect(p.parseWarnings[0]).toMatch(/undecodable moby.buildkit.trace/);
    expect(p.messages).toEqual(["Step 1/2"]);
  });
});
