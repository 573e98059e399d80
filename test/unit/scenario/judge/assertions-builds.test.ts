/**
 * Assertions on what builds did (exit codes, digests, cached steps, metadata), on synthetic
 * observations: each holds, fails (saying where first), is inconclusive when the harness saw
 * nothing to judge, and is not evaluated when its build failed, never ran or is gated out.
 */
import { describe, expect, it } from "vitest";
import { evaluate, everyBuildSucceeds } from "../../../../harness/scenario/judge/assertions.ts";
import { satisfies } from "../../../../harness/scenario/judge/verdict.ts";
import type { Assertion } from "../../../../harness/scenario/model.ts";
import type { AttemptObservation } from "../../../../harness/scenario/observation.ts";
import { attempt, build, digest, image, runs, step } from "./observations.ts";

const judged = (a: Assertion, obs: AttemptObservation, version = "v0.34.0") => evaluate(a, obs, version, (range) => satisfies(version, range));

describe("build-succeeds", () => {
  const a: Assertion = { id: "ok", kind: "build-succeeds", build: "b" };

  it("holds when every run exits 0", () => {
    const o = judged(a, attempt(runs("b", [image(), image()])));
    expect(o).toMatchObject({ id: "ok", kind: "build-succeeds", status: "holds", actual: "exit 0 in all 2 run(s)" });
  });

  it("fails at the first run that exits non-zero, with its error", () => {
    const obs = attempt([
      build("b", { sequence: 1, iteration: 1 }),
      build("b", { sequence: 2, iteration: 2, exitCode: 1, error: "failed to solve: exit code: 1" }),
      build("b", { sequence: 3, iteration: 3, exitCode: 1, error: "later" }),
    ]);
    const o = judged(a, obs);
    expect(o.status).toBe("fails");
    expect(o.firstViolation).toEqual({ sequence: 2, iteration: 2 });
    expect(o.actual).toBe("exit 1: failed to solve: exit code: 1 (iteration 2)");
  });

  it("says BuildKit crashed, with the panic's first lines", () => {
    const crash = { exitCode: 2, oomKilled: false, panic: ["panic: runtime error: invalid memory address", "goroutine 1 [running]:"] };
    const o = judged(a, attempt([build("b", { sequence: 1, exitCode: 1, error: "EOF", crash })]));
    expect(o.status).toBe("fails");
    expect(o.actual).toBe("BuildKit crashed: panic: runtime error: invalid memory address | goroutine 1 [running]: (build #1)");
  });

  it("is not evaluated when the build never ran, saying why the steps stopped", () => {
    const o = judged(a, attempt([], { stoppedEarly: 'BuildKit crashed during build "a"' }));
    expect(o).toMatchObject({ status: "not-evaluated", actual: 'build "b" never ran: BuildKit crashed during build "a"' });
  });

  it("is not evaluated outside its versions", () => {
    const gated: Assertion = { ...a, versions: ">=0.13.0" };
    expect(judged(gated, attempt([build("b", { sequence: 1, exitCode: 1 })]), "v0.12.5")).toMatchObject({
      status: "not-evaluated",
      actual: "evaluated only on >=0.13.0, not on v0.12.5",
    });
    expect(judged(gated, attempt([build("b", { sequence: 1, exitCode: 1 })]), "v0.13.2").status).toBe("fails");
  });
});

describe("the implicit control: every build no build-succeeds names", () => {
  it("holds when they all succeeded", () => {
    const o = everyBuildSucceeds(attempt([build("a", { sequence: 1 }), build("b", { sequence: 2 })]), new Set());
    expect(o).toMatchObject({ id: "*every-build-succeeds", status: "holds", actual: "2 build(s) succeeded" });
  });

  it("fails on the first failed build, naming it", () => {
    const obs = attempt([build("a", { sequence: 1 }), build("b", { sequence: 2, exitCode: 1, error: "boom" }), build("c", { sequence: 3, exitCode: 1 })]);
    const o = everyBuildSucceeds(obs, new Set());
    expect(o).toMatchObject({ status: "fails", actual: 'build "b" exited 1: boom (build #2)', firstViolation: { sequence: 2 } });
  });

  it("leaves out the builds an assertion names (their failure is that assertion's)", () => {
    const obs = attempt([build("a", { sequence: 1 }), build("b", { sequence: 2, exitCode: 1 })]);
    expect(everyBuildSucceeds(obs, new Set(["b"]))).toMatchObject({ status: "holds", actual: "1 build(s) succeeded" });
  });

  it("reports a crash as BuildKit's", () => {
    const obs = attempt([build("a", { sequence: 1, exitCode: 1, crash: { exitCode: 137, oomKilled: false } })], { stoppedEarly: "crashed" });
    expect(everyBuildSucceeds(obs, new Set()).actual).toBe('BuildKit crashed during "a": the daemon exited with 137 (build #1)');
  });
});

describe("digest-stable", () => {
  const a = (digestKind: "image" | "manifest" | "config" | "layers", output?: number): Assertion => ({
    id: "stable",
    kind: "digest-stable",
    target: { build: "b", ...(output !== undefined ? { output } : {}) },
    digest: digestKind,
  });

  it("holds when every run has the same digest", () => {
    const o = judged(a("config"), attempt(runs("b", [image(), image(), image()])));
    expect(o).toMatchObject({ status: "holds", expected: "one config digest across all runs", actual: `c00000000000 in all 3 runs` });
  });

  it("fails at the first run that differs, listing each digest with where it first appeared, and the two images to compare", () => {
    const obs = attempt(runs("b", [image(), image(), image({ configDigest: digest("d") }), image({ configDigest: digest("e") })]));
    const o = judged(a("config"), obs);
    expect(o.status).toBe("fails");
    expect(o.firstViolation).toEqual({ sequence: 3, iteration: 3 });
    expect(o.actual).toBe(`3 digests: c00000000000 (first at iteration 1), d00000000000 (first at iteration 3), e00000000000 (first at iteration 4)`);
    expect(o.differing).toEqual([
      { sequence: 1, output: 0 },
      { sequence: 3, output: 0 },
    ]);
  });

  it("compares the digest it names: image is the index's when there is one, else the manifest's; layers are the diff_ids", () => {
    const withIndex = (i: string) => image({ indexDigest: digest(i), manifestDigest: digest("m") });
    expect(judged(a("image"), attempt(runs("b", [withIndex("i1"), withIndex("i2")]))).status).toBe("fails");
    expect(judged(a("manifest"), attempt(runs("b", [withIndex("i1"), withIndex("i2")]))).status).toBe("holds");
    expect(judged(a("image"), attempt(runs("b", [image({ manifestDigest: digest(1) }), image({ manifestDigest: digest(2) })]))).status).toBe("fails");
    const withLayers = (ids: string[]) => image({ config: { rootfs: { type: "layers", diff_ids: ids } } });
    expect(judged(a("layers"), attempt(runs("b", [withLayers([digest(1)]), withLayers([digest(1)])]))).status).toBe("holds");
    const moved = judged(a("layers"), attempt(runs("b", [withLayers([digest(1), digest(2)]), withLayers([digest(1), digest(3)])])));
    expect(moved.status).toBe("fails");
    expect(moved.actual).toContain(`100000000000,300000000000`);
  });

  it("reads the output it is given", () => {
    const twoOutputs = (second: string) => ({
      outputs: [
        { index: 0, type: "image" as const, image: image() },
        { index: 1, type: "oci" as const, image: image({ configDigest: digest(second) }) },
      ],
    });
    const obs = attempt([build("b", { sequence: 1, ...twoOutputs("x") }), build("b", { sequence: 2, ...twoOutputs("y") })]);
    expect(judged(a("config"), obs).status).toBe("holds");
    const o = judged(a("config", 1), obs);
    expect(o.status).toBe("fails");
    expect(o.differing).toEqual([
      { sequence: 1, output: 1 },
      { sequence: 2, output: 1 },
    ]);
  });

  it("is inconclusive with one run: stability needs two", () => {
    expect(judged(a("config"), attempt(runs("b", [image()])))).toMatchObject({
      status: "inconclusive",
      actual: 'only 1 run of "b"; stability needs at least 2',
    });
  });

  it("is inconclusive when a run's image was not pushed, or could not be read", () => {
    const notPushed = build("b", { sequence: 2, iteration: 2, outputs: [{ index: 0, type: "image" }] });
    const o = judged(a("config"), attempt([...runs("b", [image()]), notPushed]));
    expect(o.status).toBe("inconclusive");
    expect(o.actual).toContain("holds no image to read");
    const unreadable = build("b", { sequence: 2, iteration: 2, outputs: [{ index: 0, type: "oci", unreadable: "the archive is empty" }] });
    expect(judged(a("config"), attempt([...runs("b", [image()]), unreadable])).actual).toBe(
      'output 0 of "b" (iteration 2) could not be read: the archive is empty',
    );
  });

  it("fails when runs differ, even if a later run could not be read", () => {
    const notPushed = build("b", { sequence: 3, iteration: 3, outputs: [{ index: 0, type: "image" }] });
    const o = judged(a("config"), attempt([...runs("b", [image(), image({ configDigest: digest("d") })]), notPushed]));
    expect(o).toMatchObject({ status: "fails", firstViolation: { sequence: 2, iteration: 2 } });
  });

  it("is not evaluated when a run failed or the build never ran", () => {
    const failed = attempt([...runs("b", [image()]), build("b", { sequence: 2, iteration: 2, exitCode: 1 })]);
    expect(judged(a("config"), failed)).toMatchObject({ status: "not-evaluated", actual: 'build "b" failed (iteration 2); that failure is judged on its own' });
    expect(judged(a("config"), attempt([])).status).toBe("not-evaluated");
  });
});

describe("digest-equal and digest-differs", () => {
  const pair = (kind: "digest-equal" | "digest-differs", digestKind: "config" | "image" = "config", outputs: [number?, number?] = []): Assertion => ({
    id: "pair",
    kind,
    targets: [
      { build: "x", ...(outputs[0] !== undefined ? { output: outputs[0] } : {}) },
      { build: "y", ...(outputs[1] !== undefined ? { output: outputs[1] } : {}) },
    ],
    digest: digestKind,
  });
  const two = (cx: string, cy: string) =>
    attempt([build("x", { sequence: 1, image: image({ configDigest: digest(cx) }) }), build("y", { sequence: 2, image: image({ configDigest: digest(cy) }) })]);

  it("equal: holds on the same digest, fails on two, with the images to compare", () => {
    expect(judged(pair("digest-equal"), two("a", "a"))).toMatchObject({ status: "holds", actual: `x: a00000000000, y: a00000000000` });
    const o = judged(pair("digest-equal"), two("a", "b"));
    expect(o).toMatchObject({ status: "fails", firstViolation: { sequence: 2 } });
    expect(o.differing).toEqual([
      { sequence: 1, output: 0 },
      { sequence: 2, output: 0 },
    ]);
  });

  it("differs: holds on two digests, fails on one", () => {
    expect(judged(pair("digest-differs"), two("a", "b")).status).toBe("holds");
    const o = judged(pair("digest-differs"), two("a", "a"));
    expect(o).toMatchObject({ status: "fails", expected: "two different digests" });
    expect(o.differing).toBeUndefined();
  });

  it("compares the last run of each build", () => {
    const obs = attempt([
      build("x", { sequence: 1, iteration: 1, image: image({ configDigest: digest("old") }) }),
      build("y", { sequence: 2, iteration: 1, image: image({ configDigest: digest("new") }) }),
      build("x", { sequence: 3, iteration: 2, image: image({ configDigest: digest("new") }) }),
    ]);
    expect(judged(pair("digest-equal"), obs).status).toBe("holds");
  });

  it("compares two outputs of one build when told which", () => {
    const a: Assertion = { id: "p", kind: "digest-equal", targets: [{ build: "x" }, { build: "x", output: 1 }], digest: "config" };
    const obs = attempt([
      build("x", {
        sequence: 1,
        outputs: [
          { index: 0, type: "image", image: image({ configDigest: digest("a") }) },
          { index: 1, type: "oci", image: image({ configDigest: digest("b") }) },
        ],
      }),
    ]);
    const o = judged(a, obs);
    expect(o.status).toBe("fails");
    expect(o.differing).toEqual([
      { sequence: 1, output: 0 },
      { sequence: 1, output: 1 },
    ]);
  });

  it("is inconclusive when an output holds no image: a local export, an output index the build lacks", () => {
    const local = attempt([build("x", { sequence: 1, outputs: [{ index: 0, type: "local", files: [] }] }), build("y", { sequence: 2, image: image() })]);
    const o = judged(pair("digest-equal"), local);
    expect(o).toMatchObject({ status: "inconclusive", actual: 'build "x" (build #1) has no image output' });
    const chosen = judged(pair("digest-equal", "config", [0]), local);
    expect(chosen).toMatchObject({ status: "inconclusive", actual: 'output 0 of "x" (build #1) is a local export, not an image' });
    expect(judged(pair("digest-equal", "config", [3]), local).actual).toBe('build "x" (build #1) has no output 3');
  });

  it("is not evaluated when either build failed or never ran", () => {
    const failed = attempt([build("x", { sequence: 1, exitCode: 1 }), build("y", { sequence: 2, image: image() })]);
    expect(judged(pair("digest-differs"), failed).status).toBe("not-evaluated");
    expect(judged(pair("digest-differs"), attempt([build("x", { sequence: 1, image: image() })])).status).toBe("not-evaluated");
  });
});

describe("step-cached", () => {
  const a = (text: string, cached: boolean): Assertion => ({ id: "s", kind: "step-cached", build: "b", step: text, cached });
  const withSteps = (...perRun: ReturnType<typeof step>[][]) => attempt(perRun.map((steps, i) => build("b", { sequence: i + 1, iteration: i + 1, steps })));

  it("holds when the one matching step was cached (or executed) in every run", () => {
    const obs = withSteps([step("RUN make", true), step("COPY . /src", false)], [step("RUN make", true), step("COPY . /src", false)]);
    expect(judged(a("RUN make", true), obs)).toMatchObject({ status: "holds", expected: "cached", actual: "cached in all 2 run(s)" });
    expect(judged(a("COPY . /src", false), obs)).toMatchObject({ status: "holds", expected: "executed" });
  });

  it("matches on a part of the instruction, whitespace normalized", () => {
    const obs = withSteps([step("RUN  head -c 32 /dev/urandom   > /rand", true)]);
    expect(judged(a("head -c 32   /dev/urandom >", true), obs).status).toBe("holds");
  });

  it("fails at the first run where the step was not as expected", () => {
    const obs = withSteps([step("RUN make", true)], [step("RUN make", false)], [step("RUN make", false)]);
    expect(judged(a("RUN make", true), obs)).toMatchObject({
      status: "fails",
      actual: "executed (iteration 2)",
      firstViolation: { sequence: 2, iteration: 2 },
    });
  });

  it("says how many vertices of a COPY --link were cached when not all were", () => {
    const obs = withSteps([step("COPY --link --from=x /a /b", false, 2, 1)]);
    expect(judged(a("COPY --link", true), obs).actual).toBe("executed (1 of 2 vertices cached) (iteration 1)");
  });

  it("is inconclusive when no step or two steps match", () => {
    const none = judged(a("RUN nothing", true), withSteps([step("RUN make", true)]));
    expect(none).toMatchObject({ status: "inconclusive", actual: '0 steps of iteration 1 match (steps: "RUN make")' });
    const two = judged(a("RUN make", true), withSteps([step("RUN make", true), step("RUN make install", true)]));
    expect(two).toMatchObject({ status: "inconclusive" });
    expect(two.actual).toMatch(/^2 steps of iteration 1 match/);
  });

  it("fails when a run shows the wrong state, even if another run matched nothing", () => {
    const obs = withSteps([], [step("RUN make", false)]);
    expect(judged(a("RUN make", true), obs)).toMatchObject({ status: "fails", firstViolation: { sequence: 2, iteration: 2 } });
  });

  it("is not evaluated when the build failed", () => {
    const obs = attempt([build("b", { sequence: 1, exitCode: 1, steps: [step("RUN make", false)] })]);
    expect(judged(a("RUN make", true), obs).status).toBe("not-evaluated");
  });
});

describe("metadata-key", () => {
  const a = (present: boolean, key = "containerimage.buildinfo"): Assertion => ({ id: "m", kind: "metadata-key", build: "b", key, present });
  const withMetadata = (...perRun: Record<string, unknown>[]) => attempt(perRun.map((metadata, i) => build("b", { sequence: i + 1, metadata })));

  it("holds when the key is present, also suffixed with a platform", () => {
    expect(judged(a(true), withMetadata({ "containerimage.buildinfo": "e30=" })).status).toBe("holds");
    expect(judged(a(true), withMetadata({ "containerimage.buildinfo/linux/amd64": "e30=" })).status).toBe("holds");
    expect(judged(a(true), withMetadata({ "containerimage.buildinfo.extra": "x" })).status).toBe("fails");
  });

  it("fails at the first run that has (or lacks) it", () => {
    const obs = withMetadata({ "containerimage.digest": digest(1) }, { "containerimage.digest": digest(1), "containerimage.buildinfo": "e30=" });
    expect(judged(a(false), obs)).toMatchObject({ status: "fails", actual: "present (build #2)", firstViolation: { sequence: 2 } });
    expect(judged(a(true), obs)).toMatchObject({ status: "fails", actual: "absent (build #1)" });
  });

  it("is inconclusive when the build wrote no metadata file", () => {
    expect(judged(a(false), withMetadata({}))).toMatchObject({ status: "inconclusive", actual: "the build wrote no metadata file (build #1)" });
  });

  it("is not evaluated when the build failed", () => {
    expect(judged(a(false), attempt([build("b", { sequence: 1, exitCode: 1 })])).status).toBe("not-evaluated");
  });
});
