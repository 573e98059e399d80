import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { ResultsDocument, VersionRecord } from "../../../harness/report/model.ts";
import { runMatrix, type VersionPart } from "../../../harness/run/matrix.ts";
import { mergeReportFolders, mergeResults } from "../../../harness/run/merge.ts";
import { parseShard, shardCells } from "../../../harness/run/shard.ts";
import { infrastructureError, notApplicable, type Verdict } from "../../../harness/scenario/judge/verdict.ts";
import { loadCorpus } from "../../../harness/scenario/load.ts";
import type { Scenario } from "../../../harness/scenario/model.ts";
import type { ScenarioResult } from "../../../harness/scenario/run/scenario.ts";

const corpus = loadCorpus(resolve(import.meta.dirname, "../../../scenarios"));
const scenarios = corpus.scenarios.slice(0, 7);
const VERSIONS = ["v0.11.6", "v0.13.2", "v0.20.2", "v0.25.0", "v0.34.0"];
/** This version's images "cannot be built": its cells are infrastructure errors, the others run. */
const BROKEN = "v0.20.2";

const roots: string[] = [];
const tempRoot = () => {
  const d = mkdtempSync(join(tmpdir(), "buildkit-repro-matrix-test-"));
  roots.push(d);
  return d;
};
afterAll(() => {
  for (const d of roots) rmSync(d, { recursive: true, force: true });
});

/** A verdict that depends only on the cell, so any run over the cell gives it. */
function verdictOf(version: string, scenario: Scenario): Verdict {
  const h = [...`${version}${scenario.id}`].reduce((n, c) => (n * 31 + c.charCodeAt(0)) % 9973, 7);
  if (h % 3 === 0) return notApplicable(`synthetic: ${scenario.id} does not apply to ${version}`);
  return { kind: h % 3 === 1 ? "pass" : "known-bug-reproduced", loud: false, reason: `synthetic ${h}` };
}

/** Counts what runs at once, to check the limits the matrix promises. */
const load = { running: 0, maxRunning: 0, provisioning: 0, maxProvisioning: 0 };
/** What happened, in order: "provision v", "start v", "close v". */
const events: string[] = [];
const tick = () => new Promise((r) => setTimeout(r, 2));

class SyntheticPart implements VersionPart {
  private failed = false;
  constructor(readonly version: string) {}
  async provision() {
    events.push(`provision ${this.version}`);
    load.provisioning++;
    load.maxProvisioning = Math.max(load.maxProvisioning, load.provisioning);
    await tick();
    load.provisioning--;
    this.failed = this.version === BROKEN;
  }
  async start() {
    events.push(`start ${this.version}`);
    if (this.failed) return; // a version that was not provisioned starts nothing
    load.running++;
    load.maxRunning = Math.max(load.maxRunning, load.running);
  }
  async run(scenario: Scenario): Promise<ScenarioResult> {
    await tick();
    const verdict = this.failed
      ? infrastructureError({ code: "IMAGE_PROVISION_FAILED", message: "synthetic: go build failed" })
      : verdictOf(this.version, scenario);
    const builder = { kind: "buildkitd" as const, id: this.version, buildkitVersion: this.version, origin: "synthetic" };
    return { scenario, builder, buildkitVersion: this.version, verdict, attempts: [], wallMs: 100 };
  }
  async close() {
    events.push(`close ${this.version}`);
    if (!this.failed) load.running--;
  }
  get record(): VersionRecord {
    return this.failed
      ? { version: this.version, status: "provision-failed", fault: { code: "IMAGE_PROVISION_FAILED", message: "synthetic: go build failed" } }
      : { version: this.version, status: "ran", timings: { provisionMs: 1000, startToReadyMs: 500 } };
  }
  get engine() {
    return { serverVersion: "20.10.24", apiVersion: "1.41", provenance: "running" };
  }
}

const part = (v: string) => new SyntheticPart(v);

async function run(opts: { shard?: string; parallelism?: number; reportsRoot?: string } = {}) {
  return runMatrix({
    versions: VERSIONS,
    scenarios,
    invalid: [],
    reportsRoot: opts.reportsRoot ?? tempRoot(),
    part,
    ...(opts.parallelism ? { parallelism: opts.parallelism } : {}),
    ...(opts.shard ? { shard: parseShard(opts.shard) } : {}),
  });
}

/** What names the run rather than what it found. */
const findings = (d: ResultsDocument) => ({ ...d, run: { ...d.run, id: "", startedAt: "", finishedAt: "" } });

describe("the matrix", () => {
  it("runs versions side by side within the limit, provisions one at a time, and a broken version sinks nobody", async () => {
    Object.assign(load, { running: 0, maxRunning: 0, provisioning: 0, maxProvisioning: 0 });
    const { document } = await run({ parallelism: 2 });
    expect(load.maxRunning).toBe(2);
    expect(load.maxProvisioning).toBe(1);
    expect(document.results).toHaveLength(VERSIONS.length * scenarios.length);
    const broken = document.results.filter((r) => r.version === BROKEN);
    expect(broken.every((r) => r.verdict.kind === "infrastructure-error")).toBe(true);
    expect(document.results.filter((r) => r.version !== BROKEN).every((r) => r.verdict.kind !== "infrastructure-error")).toBe(true);
    expect(document.versions.map((v) => [v.version, v.status])).toEqual(VERSIONS.map((v) => [v, v === BROKEN ? "provision-failed" : "ran"]));
    // results in matrix order even though versions finished interleaved
    expect(document.results.map((r) => `${r.version} ${r.scenario}`)).toEqual(VERSIONS.flatMap((v) => scenarios.map((s) => `${v} ${s.id}`)));
  });

  it("provisions ahead of the running versions, in run order, so a version never waits for a worker to compile", async () => {
    events.length = 0;
    await run({ parallelism: 1 });
    const provisions = events.filter((e) => e.startsWith("provision"));
    expect(provisions).toEqual(VERSIONS.map((v) => `provision ${v}`));
    // One version at a time runs, yet the second is provisioned before the first closes.
    expect(events.indexOf(`provision ${VERSIONS[1]}`)).toBeLessThan(events.indexOf(`close ${VERSIONS[0]}`));
    for (const v of VERSIONS) expect(events.indexOf(`provision ${v}`)).toBeLessThan(events.indexOf(`start ${v}`));
  });

  it("gives the same document one version at a time", async () => {
    const [one, two] = [await run({ parallelism: 1 }), await run({ parallelism: 3 })];
    expect(findings(one.document)).toEqual(findings(two.document));
  });
});

describe("shards", () => {
  it("cut the cells into contiguous slices that cover each cell once", () => {
    const all = [...shardCells(VERSIONS, ["a", "b", "c"])];
    const slices = [1, 2, 3, 4].map((i) => [...shardCells(VERSIONS, ["a", "b", "c"], { index: i, count: 4 })]);
    expect(slices.flat()).toEqual(all);
    expect(slices.map((s) => s.length)).toEqual([3, 4, 4, 4]);
    expect(() => parseShard("0/3")).toThrow(/not i\/n/);
    expect(() => parseShard("4/3")).toThrow(/not i\/n/);
    expect(() => parseShard("1/")).toThrow(/not i\/n/);
  });

  it("merge into the single run's document", async () => {
    const single = await run();
    for (const n of [2, 3, 7]) {
      const shards = [];
      for (let i = 1; i <= n; i++) shards.push(await run({ shard: `${i}/${n}`, parallelism: 1 + (i % 2) }));
      // each shard ran only part of the cells
      expect(shards.every((s) => s.document.results.length < single.document.results.length)).toBe(true);
      const merged = mergeResults(shards.map((s) => s.document));
      expect(findings(merged)).toEqual(findings(single.document));
      // and the folders merge the same way, written out as a report
      const out = join(tempRoot(), "merged");
      const written = await mergeReportFolders(
        shards.map((s) => s.dir),
        out,
      );
      expect(findings(written)).toEqual(findings(single.document));
    }
  });

  it("refuse overlapping inputs", async () => {
    const a = await run({ shard: "1/2" });
    const b = await run({ shard: "1/2" });
    expect(() => mergeResults([a.document, b.document])).toThrow(/Two results for v0.11.6 × /);
  });
});
