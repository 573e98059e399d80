import { resolve } from "node:path";
import semver from "semver";
import { describe, expect, it } from "vitest";
import { matrixVersions, supportedVersions } from "../../../harness/provision/versions.ts";
import { loadCorpus } from "../../../harness/scenario/load.ts";

const matrix = matrixVersions().map((v) => v.version);
const corpus = loadCorpus(resolve(import.meta.dirname, "../../../scenarios"));

/** The releases where a range starts: where a declared verdict changes. */
function lowerBound(range: string): string | undefined {
  return semver.minVersion(range)?.version;
}

describe("the default matrix", () => {
  it("has every minor from v0.11 to the newest at one version at least", () => {
    const newest = semver.parse(matrix.at(-1))!;
    for (let minor = 11; minor <= newest.minor; minor++)
      expect(
        matrix.some((v) => semver.minor(v) === minor),
        `v0.${minor}`,
      ).toBe(true);
  });

  it("picks no older patch of a minor than a release the file pins", () => {
    for (const pin of supportedVersions().filter((v) => !v.matrix)) {
      const picks = matrix.filter((m) => semver.minor(m) === semver.minor(pin.version));
      expect(picks.length, `${pin.version}'s minor`).toBeGreaterThan(0);
      expect(semver.gte(picks.at(-1)!, pin.version), `${pin.version} is newer than the matrix's v0.${semver.minor(pin.version)}`).toBe(true);
    }
  });

  it("has every release where a scenario's declared verdict changes, from v0.11 on", () => {
    const boundaries = new Set<string>();
    for (const scenario of corpus.scenarios) {
      // Bugs declared for dockerd engines only change no standalone daemon's verdict.
      const s = { ...scenario, knownBugs: scenario.knownBugs.filter((b) => b.builder !== "dockerd") };
      for (const range of [s.applies, ...s.knownBugs.map((b) => b.versions), ...s.requires.map((r) => r.versions)]) {
        const low = lowerBound(range);
        if (low && semver.gte(low, "0.11.0")) boundaries.add(`v${low}`);
      }
      for (const b of s.knownBugs) if (b.fixedIn) boundaries.add(b.fixedIn.startsWith("v") ? b.fixedIn : `v${b.fixedIn}`);
      // where a declared bug's range ends, the release after it changes the verdict
      for (const b of s.knownBugs) {
        const upper = /<\s*(\d+\.\d+\.\d+)/.exec(b.versions)?.[1];
        if (upper && semver.gte(upper, "0.11.0")) boundaries.add(`v${upper}`);
      }
    }
    expect(boundaries.size).toBeGreaterThan(3);
    for (const b of boundaries) expect(matrix, `${b} is a verdict boundary of the corpus`).toContain(b);
  });

  it("says why each version is in it, and is at least 30 versions", () => {
    expect(matrix.length).toBeGreaterThanOrEqual(30);
    for (const v of matrixVersions()) expect(v.matrix?.length ?? 0).toBeGreaterThan(10);
  });
});
