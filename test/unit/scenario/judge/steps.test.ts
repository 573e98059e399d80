/**
 * Steps as the runner records them (stepObservations) and step-cached judged on them, from
 * progress streams recorded from real builds (test/fixtures/progress). A `COPY --link` is two
 * vertices in rawjson (the copy, weak, and its "LINK" merge) sharing a progress group: one
 * step, which must match a step-cached text exactly once.
 */
import { describe, expect, it } from "vitest";
import { parseProgress } from "../../../../harness/buildkit/progress/parse.ts";
import { evaluate } from "../../../../harness/scenario/judge/assertions.ts";
import { satisfies } from "../../../../harness/scenario/judge/verdict.ts";
import type { Assertion } from "../../../../harness/scenario/model.ts";
import type { AttemptObservation } from "../../../../harness/scenario/observation.ts";
import { stepObservations } from "../../../../harness/scenario/run/steps.ts";
import { fixture, RECORDINGS, STEPS } from "../../buildkit/fixtures.ts";
import { attempt, build } from "./observations.ts";

const observed = (file: string, format: "plain" | "rawjson" = "rawjson") => stepObservations(parseProgress(format, fixture(file)).steps);
const judged = (a: Assertion, obs: AttemptObservation, version = "v0.34.0") => evaluate(a, obs, version, (range) => satisfies(version, range));
const instruction = (name: string) => name.replace(/^\[[^\]]*\] /, "");
const copyLink: Assertion = { id: "link", kind: "step-cached", build: "b", step: "COPY --link --from=builder", cached: true };

describe.each(RECORDINGS)("stepObservations on the recorded two-stage build, $client $format", ({ client, format }) => {
  const vertices = format === "rawjson" ? 2 : 1;

  it("one observation per Dockerfile step, internal vertices left out, a COPY --link as one step", () => {
    const steps = observed(`${client}-${format}-cold.txt`, format);
    expect(steps.map((s) => s.step).sort()).toEqual(Object.values(STEPS).map(instruction).sort());
    const link = steps.find((s) => s.step.startsWith("COPY --link"))!;
    expect(link).toMatchObject({ cached: false, vertices, cachedVertices: 0 });
    for (const s of steps.filter((x) => x !== link)) expect(s).toMatchObject({ vertices: 1 });
  });

  it("a warm build: every step cached, the COPY --link with all its vertices", () => {
    const steps = observed(`${client}-${format}-warm.txt`, format);
    expect(steps.every((s) => s.cached)).toBe(true);
    expect(steps.find((s) => s.step.startsWith("COPY --link"))).toMatchObject({ cached: true, vertices, cachedVertices: vertices });
  });

  it("step-cached on the COPY --link matches exactly one step: cached when warm, executed when cold", () => {
    const run = (kase: string) => attempt([build("b", { sequence: 1, steps: observed(`${client}-${format}-${kase}.txt`, format) })]);
    expect(judged(copyLink, run("warm"))).toMatchObject({ status: "holds" });
    expect(judged(copyLink, run("import-cache"))).toMatchObject({ status: "holds" });
    const cold = judged(copyLink, run("cold"));
    expect(cold).toMatchObject({ status: "fails", actual: format === "rawjson" ? "executed (0 of 2 vertices cached) (build #1)" : "executed (build #1)" });
  });

  it("a failed step keeps its error", () => {
    const steps = observed(`${client}-${format}-fail.txt`, format);
    expect(steps.filter((s) => s.error)).toEqual([expect.objectContaining({ step: "RUN echo about to fail && cat /does-not-exist", cached: false })]);
  });
});

/**
 * The corpus scenario inline-cache-chains-vanish (FROM busybox + COPY --link --from=payload,
 * a prune, import of the inline cache of the image pushed last time), recorded on three
 * iterations with record-copy-link.ts.
 */
describe("COPY --link after prune + import of inline cache (inline-cache-chains-vanish, recorded)", () => {
  const loop = (client: string) =>
    attempt([1, 2, 3].map((i) => build("b", { sequence: i, iteration: i, steps: observed(`${client}-rawjson-copy-link-${i}.txt`) })));
  const link = (obs: AttemptObservation, i: number) => obs.builds[i - 1]!.steps.find((s) => s.step.startsWith("COPY --link"));

  it("records two Dockerfile steps per build, the FROM and the COPY --link", () => {
    for (const client of ["v0.24.0", "v0.34.0"]) {
      for (const b of loop(client).builds)
        expect(b.steps.map((s) => s.step.split(" ")[0] + (s.step.includes("--link") ? " --link" : ""))).toEqual(["COPY --link", "FROM"]);
    }
  });

  it("v0.24.0: both vertices of the COPY --link are cached once the cache is imported", () => {
    const obs = loop("v0.24.0");
    expect(link(obs, 1)).toMatchObject({ cached: false, vertices: 2, cachedVertices: 0 });
    expect(link(obs, 2)).toMatchObject({ cached: true, vertices: 2, cachedVertices: 2 });
    expect(link(obs, 3)).toMatchObject({ cached: true, vertices: 2, cachedVertices: 2 });
    const fromSecond = attempt(obs.builds.slice(1));
    expect(judged(copyLinkPayload, fromSecond)).toMatchObject({ status: "holds", actual: "cached in all 2 run(s)" });
  });

  it("v0.34.0: only the copy is cached, the LINK merge runs again, so the step is not cached and the observation says 1 of 2", () => {
    const obs = loop("v0.34.0");
    expect(link(obs, 2)).toMatchObject({ cached: false, vertices: 2, cachedVertices: 1 });
    expect(link(obs, 3)).toMatchObject({ cached: false, vertices: 2, cachedVertices: 1 });
    const vertices = parseProgress("rawjson", fixture("v0.34.0-rawjson-copy-link-2.txt")).steps.filter((s) => s.progressGroup);
    expect(vertices.map((v) => [v.name.split(" ")[2], v.cached])).toEqual([
      ["LINK", false],
      ["COPY", true],
    ]);
    const o = judged(copyLinkPayload, attempt(obs.builds.slice(1)));
    expect(o).toMatchObject({ status: "fails", actual: "executed (1 of 2 vertices cached) (iteration 2)", firstViolation: { sequence: 2, iteration: 2 } });
  });
});

const copyLinkPayload: Assertion = { id: "link", kind: "step-cached", build: "b", step: "/bin/payload /bin/payload", cached: true };
