import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  type CacheRecord,
  decodeBuildInfo,
  decodeInlineCache,
  InlineCacheFormatError,
  recordsLosingResults,
  recordsMissingChains,
  recordsWithChains,
  recordsWithLayers,
  summarizeInlineCache,
} from "../../../harness/oci/inline-cache.ts";
import type { ImageConfig } from "../../../harness/oci/types.ts";

const FIXTURES = join(import.meta.dirname, "../../fixtures/oci");
const realConfig = JSON.parse(readFileSync(join(FIXTURES, "inline-cache-records-only.config.json"), "utf8")) as ImageConfig;

const base: ImageConfig = { architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } };
const withValue = (key: string, json: unknown): ImageConfig => ({ ...base, [key]: Buffer.from(JSON.stringify(json)).toString("base64") });

describe("decodeInlineCache on a real image config", () => {
  const cache = decodeInlineCache(realConfig)!;

  it("decodes the records array BuildKit writes inline", () => {
    expect(cache.layers).toBeUndefined();
    expect(cache.records.map((r) => r.digest)).toEqual([
      "sha256:0a03a20f0653b905d007fff053ddbf024db16480017a854fa9cb4d6192457871",
      "sha256:70d80d3244a8dd5510433a94dd1efac8d20326622ea2f137a8d0f81380e61dcb",
      "sha256:b7786711cb5d39074c3df2754a142ce9da1145379e80bae9d7a20a80c2b0d28d",
    ]);
    const last = cache.records[2]!;
    expect(last.layers).toEqual([{ layer: 1, createdAt: "2025-08-13T10:49:19.455017895Z" }]);
    expect(last.inputs).toEqual([
      [
        { selector: "sha256:8a5edab282632443219e051e4ade2d1d5bbc671c781051bf1437897cbdfea0f1", link: 0 },
        { selector: "sha256:8a5edab282632443219e051e4ade2d1d5bbc671c781051bf1437897cbdfea0f1", link: 1 },
      ],
    ]);
    // `layer` indexes the image's own layers.
    expect(last.layers![0]!.layer).toBeLessThan(realConfig.rootfs.diff_ids.length);
  });

  it("summarizes it", () => {
    expect(recordsWithLayers(cache).map((r) => r.digest)).toEqual([cache.records[2]!.digest]);
    expect(recordsWithChains(cache)).toEqual([]);
    // A record whose layers are in image order is exported without chains: healthy, yet counted here.
    expect(recordsMissingChains(cache)).toHaveLength(1);
    expect(summarizeInlineCache(cache)).toEqual({
      records: 3,
      recordsWithLayers: 1,
      recordsWithChains: 0,
      recordsMissingChains: 1,
      recordsWithoutResults: 2,
      links: 2,
    });
  });

  it("finds no build info in an image built without it", () => {
    expect(decodeBuildInfo(realConfig)).toBeUndefined();
  });
});

describe("decodeInlineCache", () => {
  // Shaped like the records in moby/buildkit#3009: a COPY --link result out of image order.
  const withChains: CacheRecord[] = [
    { digest: "sha256:aa" },
    { layers: [{ layer: 0, createdAt: "2022-09-28T08:30:33.097788126Z" }], digest: "sha256:bb", inputs: [[{ link: 0 }]] },
    { chains: [{ layers: [1], createdAt: "0001-01-01T00:00:00Z" }], digest: "sha256:cc", inputs: [[{ link: 1 }], [{ selector: "sha256:dd", link: 0 }]] },
  ];

  it("returns undefined when the key is absent", () => {
    expect(decodeInlineCache(base)).toBeUndefined();
  });

  it("tells chains from layers, and what a later export lost", () => {
    const before = decodeInlineCache(withValue("moby.buildkit.cache.v0", withChains))!;
    expect(recordsWithChains(before).map((r) => r.digest)).toEqual(["sha256:cc"]);
    expect(summarizeInlineCache(before)).toMatchObject({ recordsWithLayers: 1, recordsWithChains: 1, recordsMissingChains: 1, links: 3 });
    const lostChains = withChains.map((r) => (r.digest === "sha256:cc" ? { digest: r.digest, inputs: r.inputs } : r));
    const after = decodeInlineCache(withValue("moby.buildkit.cache.v0", lostChains))!;
    expect(recordsLosingResults(before, after)).toEqual([{ digest: "sha256:cc", lost: ["chains"] }]);
    expect(recordsLosingResults(before, before)).toEqual([]);
  });

  it("also accepts a full cache config object", () => {
    const cache = decodeInlineCache(withValue("moby.buildkit.cache.v0", { layers: [{ blob: "sha256:ee", parent: -1 }], records: withChains }))!;
    expect(cache.layers).toEqual([{ blob: "sha256:ee", parent: -1 }]);
    expect(cache.records).toHaveLength(3);
  });

  it("rejects values that are not base64 JSON records", () => {
    expect(() => decodeInlineCache({ ...base, "moby.buildkit.cache.v0": "not base64!" })).toThrow(InlineCacheFormatError);
    expect(() => decodeInlineCache({ ...base, "moby.buildkit.cache.v0": Buffer.from("{oops").toString("base64") })).toThrow(/does not decode to JSON/);
    expect(() => decodeInlineCache(withValue("moby.buildkit.cache.v0", [{ layers: [] }]))).toThrow(/record 0 has no digest/);
    expect(() => decodeInlineCache({ ...base, "moby.buildkit.cache.v0": 42 })).toThrow(/not a base64 string/);
  });
});

describe("decodeBuildInfo", () => {
  it("decodes frontend, attrs and sources", () => {
    const info = {
      frontend: "dockerfile.v0",
      attrs: { "build-arg:foo": "bar", filename: "Dockerfile" },
      sources: [{ type: "docker-image", ref: "docker.io/library/alpine:3.13", pin: "sha256:1d30" }],
    };
    expect(decodeBuildInfo(withValue("moby.buildkit.buildinfo.v1", info))).toEqual(info);
  });
});
