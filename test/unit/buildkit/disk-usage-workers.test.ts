/** du / debug workers output recorded from real clients against a v0.34.2 daemon. */
import { describe, expect, it } from "vitest";
import { type DiskUsageRecord, goTimeToRfc3339, parseByteSize, parseDiskUsageJson, parseDiskUsageVerbose } from "../../../harness/buildkit/disk-usage.ts";
import { parseWorkersJson, parseWorkersVerbose, workerSnapshotter } from "../../../harness/buildkit/workers.ts";
import { fixture } from "./fixtures.ts";

describe("disk usage", () => {
  it("reads `du --format '{{json .}}'` (v0.12.5 and v0.34.2 print the same records, in another order)", () => {
    const byId = (rs: DiskUsageRecord[]) => [...rs].sort((x, y) => x.id.localeCompare(y.id));
    const a = parseDiskUsageJson(fixture("v0.34.2-du-json.txt"));
    expect(a.map((r) => r.size)).toEqual([...a.map((r) => r.size)].sort((x, y) => x - y)); // v0.34 sorts by size
    expect(byId(parseDiskUsageJson(fixture("v0.12.5-du-json.txt")))).toEqual(byId(a));
    expect(a).toHaveLength(9);
    expect(a.find((r) => r.id === "x6bih496ezgd6zyud3jlq3wfq")).toEqual({
      id: "x6bih496ezgd6zyud3jlq3wfq",
      parents: [],
      createdAt: "2026-11-23T22:03:24.752455434Z",
      lastUsedAt: expect.stringMatching(/^2026-11-23T22:03:25\.\d+Z$/),
      mutable: false,
      inUse: false,
      shared: false,
      size: 3063525,
      description: "imported sha256:1551bde588862adfeb3e77859c73bf6e7c021e62aee682bb5eb0bc2a402e2880",
      usageCount: 4,
      recordType: "regular",
    });
    expect(
      a
        .filter((r) => r.recordType === "source.local")
        .map((r) => r.description)
        .sort(),
    ).toEqual([
      "local source for bbroot", // the .dockerignore load of the named context
      "local source for bbroot",
      "local source for context",
      "local source for context",
      "local source for dockerfile",
    ]);
  });

  it("reads the verbose table of clients without --format (v0.10.6) like the JSON, sizes rounded", () => {
    const json = parseDiskUsageJson(fixture("v0.34.2-du-json.txt"));
    for (const name of ["v0.10.6-du-verbose.txt", "v0.34.2-du-verbose.txt"]) {
      const verbose = parseDiskUsageVerbose(fixture(name));
      expect(verbose.map((r) => r.id).sort()).toEqual(json.map((r) => r.id).sort());
      for (const v of verbose) {
        const j = json.find((r) => r.id === v.id)!;
        expect({ ...v, size: 0 }).toEqual({ ...j, size: 0 });
        expect(Math.abs(v.size - j.size) / j.size).toBeLessThan(0.01); // "3.06MB"
      }
    }
  });

  it("reads prune's one-object-per-line JSON", () => {
    const records = parseDiskUsageJson(fixture("v0.34.2-du-json.txt"));
    const lines = `${records.map((r) => JSON.stringify(r)).join("\n")}\n`;
    expect(parseDiskUsageJson(lines)).toEqual(records);
    expect(parseDiskUsageJson("\n")).toEqual([]);
  });

  it("parses sizes and Go times", () => {
    expect(parseByteSize("3.06MB")).toBe(3_060_000);
    expect(parseByteSize("16.51kB")).toBe(16_510);
    expect(parseByteSize("0B")).toBe(0);
    expect(goTimeToRfc3339("2026-11-23 22:03:24.752455434 +0000 UTC")).toBe("2026-11-23T22:03:24.752455434Z");
    expect(goTimeToRfc3339("2026-11-23 22:03:24 +0200 CEST")).toBe("2026-11-23T22:03:24+02:00");
  });
});

describe("workers", () => {
  it("reads `debug workers --format '{{json .}}'` (v0.34.2 and v0.10.6)", () => {
    for (const name of ["v0.34.2-workers-json.txt", "v0.10.6-workers-json.txt"]) {
      const [w, ...rest] = parseWorkersJson(fixture(name));
      expect(rest).toEqual([]);
      expect(w!.id).toBe("fvmbpb1ydlc0hgmgfi945neid");
      expect(w!.platforms).toEqual(["linux/amd64", "linux/amd64/v2", "linux/amd64/v3", "linux/amd64/v4", "linux/386"]);
      expect(workerSnapshotter(w!)).toBe("overlayfs");
      expect(w!.labels["org.mobyproject.buildkit.worker.executor"]).toBe("oci");
    }
    // The v0.10 client's WorkerInfo has no buildkitVersion field; v0.34's has the daemon's.
    expect(parseWorkersJson(fixture("v0.34.2-workers-json.txt"))[0]!.buildkitVersion?.version).toBe("v0.34.2");
    expect(parseWorkersJson(fixture("v0.10.6-workers-json.txt"))[0]!.buildkitVersion).toBeUndefined();
  });

  it("reads the verbose listing like the JSON", () => {
    const [verbose] = parseWorkersVerbose(fixture("v0.10.6-workers-verbose.txt"));
    const [json] = parseWorkersJson(fixture("v0.10.6-workers-json.txt"));
    expect(verbose).toEqual(json);
  });
});
