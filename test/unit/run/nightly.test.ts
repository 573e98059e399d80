import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { DOCKERD_BUILDS } from "../../../harness/provision/dockerd-builds.ts";

const ROOT = resolve(import.meta.dirname, "../../..");
const workflowText = readFileSync(resolve(ROOT, ".github/workflows/nightly.yml"), "utf8");
const workflow = parse(workflowText) as {
  jobs: Record<string, { strategy?: { matrix?: unknown }; steps: { run?: string; with?: Record<string, string> }[]; needs?: unknown }>;
};
/** The versions file read as plain JSON, apart from the harness's own reader. */
const file = JSON.parse(readFileSync(resolve(ROOT, "harness/provision/buildkit-versions.json"), "utf8")) as {
  versions: { version: string; matrix?: string }[];
};

describe("the nightly workflow", () => {
  it("takes its per-version jobs from the plan job's output, not from a list of its own", () => {
    expect(workflow.jobs.release?.strategy?.matrix).toBe(`$\{{ fromJSON(needs.plan.outputs.matrix) }}`);
    expect(workflow.jobs.plan?.steps.some((s) => s.run?.includes("scripts/nightly-matrix.ts") && s.run.includes("$GITHUB_OUTPUT"))).toBe(true);
    for (const v of file.versions) expect(workflowText, `${v.version} is written into nightly.yml`).not.toContain(v.version);
  });

  it("gets from the plan script exactly the versions file's default matrix and one job per dockerd engine", async () => {
    const { stdout } = await execa("node", ["--import", "tsx", "scripts/nightly-matrix.ts"], { cwd: ROOT });
    const m = /^matrix=(.*)$/m.exec(stdout);
    expect(m).not.toBeNull();
    const jobs = (JSON.parse(m![1]!) as { include: { version: string; artifact: string }[] }).include;
    const releases = jobs.map((j) => j.version).filter((v) => !v.startsWith("dockerd:"));
    const expected = file.versions.filter((v) => v.matrix).map((v) => v.version);
    expect([...releases].sort()).toEqual([...expected].sort());
    expect(releases.length).toBeGreaterThanOrEqual(30);
    const engines = jobs.map((j) => j.version).filter((v) => v.startsWith("dockerd:"));
    expect(engines.sort()).toEqual(DOCKERD_BUILDS.map((b) => `dockerd:${b.id}`).sort());

    // Every artifact is one the merge job downloads, and a name upload-artifact accepts.
    const pattern = workflow.jobs.merge!.steps.find((s) => s.with?.pattern)?.with?.pattern ?? "";
    const artifacts = jobs.map((j) => j.artifact);
    expect(new Set(artifacts).size).toBe(jobs.length);
    for (const a of artifacts) {
      expect(a.startsWith(pattern.slice(0, -1)), a).toBe(true);
      expect(a, "upload-artifact refuses these characters").not.toMatch(/["<>|*?\\/:\r\n]/);
    }
    expect(workflow.jobs.release!.steps.find((s) => s.with?.name)?.with?.name).toBe(`$\{{ matrix.artifact }}`);
  });

  it("runs master in a job of its own whose results the release merge does not take in", () => {
    const master = workflow.jobs.master!;
    expect(master.steps.some((s) => s.run?.includes("--version master"))).toBe(true);
    const masterArtifact = master.steps.find((s) => s.with?.name)?.with?.name ?? "";
    const pattern = workflow.jobs.merge!.steps.find((s) => s.with?.pattern)?.with?.pattern ?? "";
    expect(pattern.endsWith("*")).toBe(true);
    expect(masterArtifact.startsWith(pattern.slice(0, -1))).toBe(false);
  });
});
