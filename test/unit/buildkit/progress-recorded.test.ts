/**
 * Both progress parsers on streams recorded from real builds (test/fixtures/progress):
 * per-step cache hits as observed, errors, internal vertices, and format equivalence.
 */
import { describe, expect, it } from "vitest";
import { parseProgress } from "../../../harness/buildkit/progress/parse.ts";
import { collapseProgressGroups, type StepResult } from "../../../harness/buildkit/progress/step.ts";
import { FAIL_ERROR, FAIL_STEPS, fixture, RECORDINGS, STEPS } from "./fixtures.ts";

function parse(client: string, format: "plain" | "rawjson", kase: string) {
  return parseProgress(format, fixture(`${client}-${format}-${kase}.txt`));
}

/** Dockerfile steps (progress groups collapsed, as plain shows them) → cached. */
function cacheMap(steps: StepResult[]): Record<string, boolean> {
  return Object.fromEntries(
    collapseProgressGroups(steps)
      .filter((s) => !s.internal)
      .map((s) => [s.name, s.cached]),
  );
}

const allSteps = (cached: boolean) => Object.fromEntries(Object.values(STEPS).map((n) => [n, cached]));

describe.each(RECORDINGS)("recorded $client $format", ({ client, format }) => {
  it("cold build: no step cached", () => {
    const p = parse(client, format, "cold");
    expect(cacheMap(p.steps)).toEqual(allSteps(false));
    expect(p.error).toBeUndefined();
    expect(p.parseWarnings).toEqual([]);
  });

  it("second build: every step cached", () => {
    const p = parse(client, format, "warm");
    expect(cacheMap(p.steps)).toEqual(allSteps(true));
    expect(p.error).toBeUndefined();
  });

  it("build exporting a local cache after prune: no step cached", () => {
    const p = parse(client, format, "export-cache");
    expect(cacheMap(p.steps)).toEqual(allSteps(false));
    expect(p.steps.find((s) => s.name === "exporting cache to client directory")).toMatchObject({ internal: true, cached: false });
  });

  it("build importing the local cache after prune: every step cached", () => {
    const p = parse(client, format, "import-cache");
    expect(cacheMap(p.steps)).toEqual(allSteps(true));
    const importing = p.steps.find((s) => s.name.startsWith("importing cache manifest from local:"));
    expect(importing).toMatchObject({ internal: true });
  });

  it("failing RUN: the step's error and the build's error", () => {
    const p = parse(client, format, "fail");
    expect(cacheMap(p.steps)).toEqual({ [FAIL_STEPS.rootfs]: true, [FAIL_STEPS.copyA]: false, [FAIL_STEPS.run]: false });
    const run = p.steps.find((s) => s.name === FAIL_STEPS.run);
    expect(run?.error).toBe(FAIL_ERROR);
    expect(run?.instruction).toBe("RUN echo about to fail && cat /does-not-exist");
    expect(p.steps.filter((s) => s.error)).toHaveLength(1);
    expect(p.error).toBe(`failed to solve: ${FAIL_ERROR}`);
    // The Dockerfile excerpt after the steps is kept, not parsed as steps.
    expect(p.otherLines).toContain("   6 | >>> RUN echo about to fail && cat /does-not-exist");
  });

  it("names, stages and instructions of Dockerfile steps; internal vertices flagged", () => {
    const p = parse(client, format, "cold");
    const byName = new Map(collapseProgressGroups(p.steps).map((s) => [s.name, s]));
    expect(byName.get(STEPS.run2)).toMatchObject({
      stage: "builder",
      stepIndex: 3,
      stepCount: 3,
      instruction: "RUN cat /a.txt /built.txt > /combined.txt && echo combined",
      internal: false,
    });
    expect(byName.get(STEPS.copyLink)).toMatchObject({
      stage: "stage-2",
      instruction: "COPY --link --from=builder /combined.txt /out/combined.txt",
    });
    for (const name of [
      "[internal] load build definition from Dockerfile",
      "[internal] load .dockerignore",
      "[internal] load build context",
      "[context base] load from client",
      "exporting to oci image format",
    ]) {
      expect(byName.get(name), name).toMatchObject({ internal: true, cached: false });
      expect(byName.get(name)?.instruction).toBeUndefined();
    }
    for (const s of p.steps) expect(s.durationMs, s.name).toBeGreaterThanOrEqual(0);
  });
});

describe("rawjson specifics (recorded)", () => {
  it("v0.13 multi-line and v0.34 single-line rawjson give the same steps for the same build", () => {
    expect(fixture("v0.13.2-rawjson-cold.txt").split("\n")[0]).toBe("{"); // multi-line
    expect(fixture("v0.34.2-rawjson-cold.txt").split("\n")[0]).toMatch(/^\{"vertexes":.*\}$/); // one per line
    for (const kase of ["cold", "warm", "fail", "export-cache", "import-cache"]) {
      const shape = (client: string) =>
        parse(client, "rawjson", kase)
          .steps.map((s) => ({
            name: s.name.replace(/local:\d+/, "local:N"),
            cached: s.cached,
            internal: s.internal,
            error: s.error,
            progressGroup: s.progressGroup !== undefined,
            inputs: s.inputs?.length ?? 0,
          }))
          .sort((a, b) => a.name.localeCompare(b.name));
      expect(shape("v0.13.2"), kase).toEqual(shape("v0.34.2"));
    }
  });

  it("COPY --link is two vertices in one progress group, with the group's instruction", () => {
    const p = parse("v0.34.2", "rawjson", "cold");
    const group = p.steps.filter((s) => s.progressGroup !== undefined);
    expect(group.map((s) => s.name).sort()).toEqual([
      "[stage-2 1/3] COPY --link --from=builder /combined.txt /out/combined.txt",
      "[stage-2 1/3] LINK COPY --link --from=builder /combined.txt /out/combined.txt",
    ]);
    expect(new Set(group.map((s) => s.progressGroup)).size).toBe(1);
    for (const s of group) {
      expect(s.instruction).toBe("COPY --link --from=builder /combined.txt /out/combined.txt");
      expect(s.stage).toBe("stage-2");
      expect(s.internal).toBe(false);
    }
    expect(collapseProgressGroups(p.steps)).toHaveLength(p.steps.length - 1);
  });

  it("vertices carry digests, inputs and timestamps", () => {
    const p = parse("v0.34.2", "rawjson", "cold");
    const run3 = p.steps.find((s) => s.name === STEPS.run3)!;
    expect(run3.vertex).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(run3.inputs).toHaveLength(1);
    expect(p.steps.map((s) => s.vertex)).toContain(run3.inputs![0]);
    expect(Date.parse(run3.startedAt!)).toBeLessThanOrEqual(Date.parse(run3.completedAt!));
    expect(run3.durationMs).toBeGreaterThan(0);
  });

  it.each(["v0.13.2", "v0.34.2"])("%s import-cache: a vertex is cached if ANY update said so (intermediate updates drop the flag)", (client) => {
    const text = fixture(`${client}-rawjson-import-cache.txt`);
    const run3 = parseProgress("rawjson", text).steps.find((s) => s.name === STEPS.run3)!;
    expect(run3.cached).toBe(true);

    // Cut the recording right after the last update of that vertex that lacks the flag
    // (as an interrupted build would leave it): still cached.
    const marker = client === "v0.13.2" ? "\n}\n" : "\n";
    const chunks = text.split(marker);
    const isRun3Update = (c: string) => c.includes(`"digest": "${run3.vertex}"`) || c.includes(`"digest":"${run3.vertex}"`);
    const updates = chunks.map((c, i) => [c, i] as const).filter(([c]) => isRun3Update(c) && /"vertexes"/.test(c));
    const flags = updates.map(([c]) => /"cached": ?true/.test(c));
    expect(flags.indexOf(true)).toBeLessThan(flags.lastIndexOf(false)); // cached, then not
    const lastUncached = updates[flags.lastIndexOf(false)]![1];
    const prefix = chunks.slice(0, lastUncached + 1).join(marker) + (client === "v0.13.2" ? "\n}\n" : "\n");
    const cut = parseProgress("rawjson", prefix);
    expect(cut.parseWarnings.filter((w) => !/non-JSON line/.test(w))).toEqual([]);
    expect(cut.steps.find((s) => s.vertex === run3.vertex)?.cached).toBe(true);
  });

  it("tolerates the client's logrus line and the error excerpt: warnings, not a crash", () => {
    const imp = parse("v0.34.2", "rawjson", "import-cache");
    expect(imp.otherLines).toHaveLength(1);
    expect(imp.otherLines[0]).toMatch(/^time=".*" level=warning msg="failed check for fsverity support"/);
    expect(imp.parseWarnings).toHaveLength(1);
    expect(imp.parseWarnings[0]).toMatch(/non-JSON line/);

    const fail = parse("v0.13.2", "rawjson", "fail");
    expect(fail.otherLines[0]).toBe("Dockerfile.fail:6");
    expect(fail.otherLines.at(-1)).toBe(`error: failed to solve: ${FAIL_ERROR}`);
  });
});

describe("plain vs rawjson (recorded, same client)", () => {
  it.each(["v0.13.2", "v0.34.2"])("%s: same Dockerfile steps and cache results once groups are collapsed", (client) => {
    for (const kase of ["cold", "warm", "fail", "export-cache", "import-cache"]) {
      expect(cacheMap(parse(client, "plain", kase).steps), kase).toEqual(cacheMap(parse(client, "rawjson", kase).steps));
    }
  });

  it("plain has no digests: vertices are #N", () => {
    const p = parse("v0.12.5", "plain", "cold");
    expect(p.steps.map((s) => s.vertex)).toEqual(p.steps.map((_, i) => `#${i + 1}`));
    expect(p.steps.find((s) => s.name === STEPS.run1)?.durationMs).toBe(100); // "#6 DONE 0.1s"
  });
});
