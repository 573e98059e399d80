import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { HarnessError } from "../../../harness/errors.ts";
import { loadScenario } from "../../../harness/scenario/load.ts";

const root = mkdtempSync(join(tmpdir(), "scenario-load-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const VALID = `id: sample
title: A sample
upstream: [https://github.com/moby/buildkit/issues/3009]
expectation: Same digest every time.
applies: ">=0.10.0"
steps:
  - build:
      name: first
      output: { type: image, name: "{{registry}}/{{scenario}}:latest", push: true }
assertions:
  - id: builds
    build-succeeds: { build: first }
`;

function scenarioDir(name: string, yaml: string | undefined, dockerfile = "FROM {{image:busybox}}\n"): string {
  const dir = join(root, name);
  mkdirSync(join(dir, "context"), { recursive: true });
  if (yaml !== undefined) writeFileSync(join(dir, "scenario.yaml"), yaml);
  writeFileSync(join(dir, "Dockerfile"), dockerfile);
  return dir;
}

function problemsOf(dir: string): string {
  try {
    loadScenario(dir);
  } catch (err) {
    expect(err).toBeInstanceOf(HarnessError);
    expect((err as HarnessError).code).toBe("SCENARIO_INVALID");
    return (err as HarnessError).message;
  }
  throw new Error("expected the scenario to be rejected");
}

describe("loadScenario", () => {
  it("loads a valid scenario with defaults filled in", () => {
    const s = loadScenario(scenarioDir("valid", VALID));
    expect(s.steps[0]).toMatchObject({
      kind: "build",
      name: "first",
      context: "context",
      dockerfile: "Dockerfile",
      outputs: [{ type: "image", name: "{{registry}}/{{scenario}}:latest", push: true, attrs: {} }],
      importCache: [],
      exportCache: [],
      noCache: false,
    });
    expect(s.assertions).toEqual([{ id: "builds", kind: "build-succeeds", build: "first" }]);
  });

  it("names the file when scenario.yaml is missing", () => {
    const dir = scenarioDir("missing", undefined);
    expect(problemsOf(dir)).toContain(join(dir, "scenario.yaml"));
  });

  it("rejects an unknown step by name", () => {
    expect(problemsOf(scenarioDir("unknown-step", VALID.replace("  - build:", "  - biuld:")))).toMatch(
      /steps\[0\]\.biuld: unknown key "biuld" \(allowed: build, prune/,
    );
  });

  it("rejects an assertion about a build that does not exist", () => {
    expect(problemsOf(scenarioDir("no-build", VALID.replace("{ build: first }", "{ build: second }")))).toMatch(/build: no build named "second"/);
  });

  it("rejects a context that escapes the folder through ..", () => {
    const yaml = VALID.replace("      name: first\n", "      name: first\n      context: ../..\n");
    expect(problemsOf(scenarioDir("dotdot", yaml))).toMatch(/context: "\.\.\/\.\." leads outside the scenario folder/);
  });

  it("rejects a context that escapes the folder through a symlink", () => {
    const dir = scenarioDir("symlink", VALID.replace("      name: first\n", "      name: first\n      context: link\n"));
    symlinkSync("/etc", join(dir, "link"));
    expect(problemsOf(dir)).toMatch(/link: is a symlink with an absolute target; use a relative target inside the scenario folder/);
  });

  it("rejects an invalid version range", () => {
    expect(problemsOf(scenarioDir("range", VALID.replace('">=0.10.0"', '"newer than 0.10"')))).toMatch(/applies: "newer than 0.10" is not a semver range/);
  });

  it("rejects an empty repeat and reports every problem at once", () => {
    const yaml = VALID.replace("steps:\n", "steps:\n  - repeat: { times: 0, steps: [] }\n").replace("title: A sample\n", "");
    const message = problemsOf(scenarioDir("empty-repeat", yaml));
    expect(message).toMatch(/repeat\.times: expected a number >= 1, found number 0/);
    expect(message).toMatch(/repeat\.steps: expected at least 1 entry, found a list of 0/);
    expect(message).toMatch(/title: is required/);
  });

  it("rejects YAML that does not parse", () => {
    expect(problemsOf(scenarioDir("bad-yaml", "id: [unclosed\n"))).toMatch(/not valid YAML/);
  });

  it("rejects an unknown template reference in the Dockerfile", () => {
    expect(problemsOf(scenarioDir("bad-template", VALID, "FROM {{imgae:busybox}}\n"))).toMatch(
      /steps\[0\]\.build\.dockerfile \(Dockerfile\): unknown reference \{\{imgae:busybox\}\}/,
    );
  });
});

describe("loadScenario known bugs", () => {
  const withExplains = (explains: string) =>
    VALID.replace(
      "steps:",
      `knownBugs:\n  - versions: ">=0.13.0"\n    status: reproduces\n    reference: https://github.com/moby/buildkit/issues/4793\n    explains: ${explains}\nsteps:`,
    );

  it("accepts one assertion named twice with two different symptoms", () => {
    const s = loadScenario(
      scenarioDir("two-symptoms", withExplains('[{ assertion: builds, actualContains: "not found" }, { assertion: builds, actualContains: "panic:" }]')),
    );
    expect(s.knownBugs[0]!.explains).toEqual([
      { assertion: "builds", actualContains: "not found" },
      { assertion: "builds", actualContains: "panic:" },
    ]);
  });

  it("rejects an assertion named twice with the same symptom, or once without one", () => {
    expect(
      problemsOf(scenarioDir("same-symptom", withExplains('[{ assertion: builds, actualContains: "x" }, { assertion: builds, actualContains: "x" }]'))),
    ).toContain('knownBugs[0].explains[1]: names "builds" twice');
    expect(problemsOf(scenarioDir("bare-twice", withExplains('[builds, { assertion: builds, actualContains: "x" }]')))).toContain(
      'knownBugs[0].explains[1]: names "builds" twice',
    );
  });
});

describe("loadScenario edit steps", () => {
  it("accepts edits of a file that an earlier write creates", () => {
    const yaml = VALID.replace(
      "steps:\n",
      'steps:\n  - write: { path: context/new.txt, content: a }\n  - append: { path: context/new.txt, content: b }\n  - chmod: { path: context/new.txt, mode: "0600" }\n',
    );
    const s = loadScenario(scenarioDir("edit-created", yaml));
    expect(s.steps.slice(0, 3).map((st) => (st.kind === "edit" ? st.op : st.kind))).toEqual(["write", "append", "chmod"]);
  });
  it("still rejects an edit of a file nothing creates", () => {
    const yaml = VALID.replace("steps:\n", "steps:\n  - append: { path: context/missing.txt, content: b }\n");
    expect(problemsOf(scenarioDir("edit-missing", yaml))).toMatch(/steps\[0\]\.append\.path: "context\/missing\.txt" does not exist/);
  });
});
