import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CONTEXT_DOCKERFILE, engineBuildRequest } from "../../../harness/builders/dockerd.ts";
import { HarnessError } from "../../../harness/errors.ts";
import { dockerdBuildProblems } from "../../../harness/scenario/format/dockerd-builds.ts";
import { declaredBugs, inapplicability } from "../../../harness/scenario/judge/verdict.ts";
import { loadScenario } from "../../../harness/scenario/load.ts";
import type { BuildStep, KnownBug, Scenario } from "../../../harness/scenario/model.ts";
import { planBuild } from "../../../harness/scenario/run/request.ts";

const root = mkdtempSync(join(tmpdir(), "dockerd-builder-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function step(extra: Partial<BuildStep> = {}): BuildStep {
  return {
    kind: "build",
    name: "b",
    context: "context",
    dockerfile: "Dockerfile",
    buildArgs: {},
    frontendOpts: {},
    importCache: [],
    exportCache: [],
    outputs: [{ type: "image", name: "{{registry}}/{{scenario}}:latest", push: true, attrs: {} }],
    noCache: false,
    ...extra,
  };
}

describe("dockerdBuildProblems", () => {
  it("accepts what docker build can say", () => {
    const ok = step({
      importCache: [{ type: "registry", ref: "{{registry}}/x:latest", attrs: {} }],
      exportCache: [{ type: "inline", attrs: {} }],
      frontendOpts: { target: "final" },
      buildArgs: { A: "1" },
    });
    expect(dockerdBuildProblems(ok)).toEqual([]);
  });

  it("names every field docker build cannot say", () => {
    const bad = step({
      outputs: [
        { type: "image", name: "{{registry}}/a", push: false, attrs: { "oci-mediatypes": "true" } },
        { type: "oci", push: false, attrs: {} },
      ],
      importCache: [{ type: "local", name: "c", attrs: {} }],
      exportCache: [{ type: "registry", ref: "{{registry}}/c", attrs: { mode: "max" } }],
      frontendOpts: { "attest:provenance": "true" },
      sourcePolicy: "policy.json",
      buildArgs: { BUILDKIT_INLINE_CACHE: "1" },
    } as Partial<BuildStep>);
    expect(dockerdBuildProblems(bad).map((p) => p.field)).toEqual([
      "outputs",
      "output",
      "output",
      "importCache[0]",
      "exportCache[0]",
      "frontendOpts.attest:provenance",
      "sourcePolicy",
      "buildArgs.BUILDKIT_INLINE_CACHE",
    ]);
  });
});

describe("engineBuildRequest", () => {
  const folder = join(root, "folder");
  mkdirSync(join(folder, "context"), { recursive: true });
  writeFileSync(join(folder, "Dockerfile"), "FROM {{image:busybox}}\nARG N\nRUN echo $N\n");
  const BUSYBOX = `registry:5000/base/busybox@sha256:${"a".repeat(64)}`;
  const ctx = { registry: "registry:5000", images: new Map([["busybox", BUSYBOX]]), scenario: "s", iteration: 3 };

  it("is docker build -f <rendered Dockerfile> --cache-from … --build-arg BUILDKIT_INLINE_CACHE=1 -t <name>", async () => {
    const { request, output } = await engineBuildRequest(
      step({
        importCache: [{ type: "registry", ref: "{{registry}}/{{scenario}}:latest", attrs: {} }],
        exportCache: [{ type: "inline", attrs: {} }],
        buildArgs: { N: "{{iteration}}" },
        frontendOpts: { target: "final" },
      }),
      ctx,
      { folder, work: join(root, "work") },
    );
    expect(request).toEqual({
      contextDir: join(folder, "context"),
      dockerfile: CONTEXT_DOCKERFILE,
      dockerfileContent: `FROM ${BUSYBOX}\nARG N\nRUN echo $N\n`,
      tags: ["registry:5000/s:latest"],
      buildArgs: { N: "3", BUILDKIT_INLINE_CACHE: "1" },
      cacheFrom: ["registry:5000/s:latest"],
      target: "final",
      noCache: false,
    });
    expect(output).toMatchObject({ type: "image", name: "registry:5000/s:latest", push: true });
  });

  it("checks the Dockerfile once more before it is built, on either kind of builder", async () => {
    const edited = join(root, "edited");
    mkdirSync(join(edited, "context"), { recursive: true });
    // What a working copy could hold if an edit had rewritten the Dockerfile after validation.
    writeFileSync(join(edited, "Dockerfile"), "FROM docker.io/library/alpine\n");
    const paths = { folder: edited, work: join(root, "work-edited") };
    await expect(engineBuildRequest(step(), ctx, paths)).rejects.toThrow(
      /Dockerfile of build "b" \(Dockerfile\) is refused: line 1: FROM names "docker\.io\/library\/alpine"/,
    );
    await expect(planBuild(step(), 1, ctx, paths)).rejects.toThrow(/is refused: line 1/);
  });

  it("refuses a step the loader would have refused, and any name outside the test registry", async () => {
    await expect(engineBuildRequest(step({ exportCache: [{ type: "local", name: "c", attrs: {} }] }), ctx, { folder, work: root })).rejects.toThrow(
      /cannot run on dockerd: exportCache\[0\]/,
    );
    const outside = step({ outputs: [{ type: "image", name: "docker.io/library/x:latest", push: true, attrs: {} }] });
    await expect(engineBuildRequest(outside, ctx, { folder, work: root })).rejects.toBeInstanceOf(HarnessError);
  });
});

const YAML = (extra: string, build = "") => `id: s
title: t
upstream: [https://github.com/moby/buildkit/issues/3730]
expectation: e
${extra}
steps:
  - build:
      name: b
${build}      output: { type: image, name: "{{registry}}/{{scenario}}:latest", push: true }
  - remove-image: { ref: "{{registry}}/{{scenario}}:latest" }
  - pull: { ref: "{{registry}}/{{scenario}}:latest" }
assertions:
  - id: ok
    build-succeeds: { build: b }
`;

function folderWith(name: string, yaml: string): string {
  const dir = join(root, name);
  mkdirSync(join(dir, "context"), { recursive: true });
  writeFileSync(join(dir, "Dockerfile"), "FROM {{image:busybox}}\n");
  writeFileSync(join(dir, "scenario.yaml"), yaml);
  return dir;
}

function problems(dir: string): string {
  try {
    loadScenario(dir);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error("accepted");
}

describe("the format's builders", () => {
  it("defaults to buildkitd and reads remove-image and pull steps", () => {
    const s = loadScenario(folderWith("default", YAML("")));
    expect(s.builders).toEqual(["buildkitd"]);
    expect(s.steps.slice(1)).toEqual([
      { kind: "remove-image", ref: "{{registry}}/{{scenario}}:latest" },
      { kind: "pull", ref: "{{registry}}/{{scenario}}:latest" },
    ]);
  });

  it("refuses, for a scenario on dockerd, a build docker build cannot say", () => {
    const dir = folderWith("dockerd-local-cache", YAML("builders: [buildkitd, dockerd]", '      exportCache: [{ type: registry, ref: "{{registry}}/c" }]\n'));
    expect(problems(dir)).toMatch(/steps\[0\]\.build\.exportCache\[0\]: a dockerd build exports cache only inline .*\(the scenario runs on dockerd\)/);
  });

  it("refuses, for a scenario on dockerd, a context with its own .dockerignore", () => {
    const dir = folderWith("dockerd-dockerignore", YAML("builders: [buildkitd, dockerd]"));
    writeFileSync(join(dir, "context", ".dockerignore"), ".git\n");
    expect(problems(dir)).toMatch(/steps\[0\]\.build\.context: has a \.dockerignore, which dockerd builds here do not apply yet/);
  });

  it("refuses an image step outside the test registry", () => {
    const dir = folderWith(
      "rmi-outside",
      YAML("").replace('remove-image: { ref: "{{registry}}/{{scenario}}:latest" }', "remove-image: { ref: docker.io/library/busybox }"),
    );
    expect(problems(dir)).toMatch(/steps\[1\]\.remove-image\.ref: "docker\.io\/library\/busybox" must start with \{\{registry\}\}\//);
  });

  it("ties an engine range to dockerd, and a builder to the scenario's builders", () => {
    const bug = (b: string) => `knownBugs:
  - versions: "<0.14.0"
${b}    status: reproduces
    reference: https://github.com/moby/buildkit/issues/3730
    explains: [ok]`;
    expect(problems(folderWith("engine-alone", YAML(bug('    engine: ">=20.10.0"\n'))))).toMatch(/knownBugs\[0\]\.engine: only goes with builder: dockerd/);
    expect(problems(folderWith("builder-not-listed", YAML(bug("    builder: dockerd\n"))))).toMatch(
      /knownBugs\[0\]\.builder: "dockerd" is not one of the scenario's builders \(buildkitd\)/,
    );
  });
});

describe("judging by builder", () => {
  const bug = (extra: Partial<KnownBug>): KnownBug => ({
    versions: "<0.14.0",
    status: "reproduces",
    reference: "r",
    explains: [{ assertion: "ok" }],
    ...extra,
  });
  const scenario = (knownBugs: KnownBug[], builders: Scenario["builders"] = ["buildkitd", "dockerd"]) =>
    ({ applies: "*", requires: [], builders, knownBugs }) as unknown as Scenario;
  const engine20 = { kind: "dockerd" as const, buildkitVersion: "v0.8.4-0.20221020190723-eeb7b65ab7d6", engineVersion: "20.10.24+dfsg1" };

  it("declares a dockerd-only bug on engines, not on a buildkitd of the same BuildKit", () => {
    const s = scenario([bug({ builder: "dockerd" })]);
    expect(declaredBugs(s, engine20)).toHaveLength(1);
    expect(declaredBugs(s, "v0.8.4")).toHaveLength(0);
  });

  it("filters by the engine's own version", () => {
    const s = scenario([bug({ versions: "*", builder: "dockerd", engine: ">=27.0.0 <27.2.0" })]);
    expect(declaredBugs(s, { kind: "dockerd", buildkitVersion: "v0.15.0", engineVersion: "27.1.1" })).toHaveLength(1);
    expect(declaredBugs(s, { kind: "dockerd", buildkitVersion: "v0.15.2", engineVersion: "27.2.0" })).toHaveLength(0);
    expect(declaredBugs(s, engine20)).toHaveLength(0);
  });

  it("does not apply a scenario to a kind of builder it does not list", () => {
    expect(inapplicability(scenario([], ["buildkitd"]), engine20)).toMatch(/runs on buildkitd builders, not on dockerd/);
    expect(inapplicability(scenario([], ["buildkitd", "dockerd"]), engine20)).toBeUndefined();
  });
});
