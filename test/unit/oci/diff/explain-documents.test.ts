import { describe, expect, it } from "vitest";
import { exitStatusOf, explainImages } from "../../../../harness/oci/diff/index.ts";
import { BUILD_INFO_KEY, INLINE_CACHE_KEY } from "../../../../harness/oci/inline-cache.ts";
import { ATTESTATION_MANIFEST, type ImageConfig, MediaType, REFERENCE_TYPE_ANNOTATION } from "../../../../harness/oci/types.ts";
import { base64Json, MemoryStore, putImage, putIndex, tar } from "./synthetic-image.ts";

async function configPair(a: Partial<ImageConfig>, b: Partial<ImageConfig>) {
  const store = new MemoryStore();
  const layer = await tar([{ name: "f", content: "x" }]);
  const left = putImage(store, { layers: [{ tar: layer }], config: a });
  const right = putImage(store, { layers: [{ tar: layer }], config: b });
  const explanation = await explainImages({ store, reference: left.digest }, { store, reference: right.digest });
  return { explanation, store };
}

describe("result", () => {
  it("maps to diffoci's and regctl's exit statuses", () => {
    expect([exitStatusOf("same"), exitStatusOf("different"), exitStatusOf("error")]).toEqual([0, 1, 2]);
  });
});

describe("same images", () => {
  it("reads nothing but the two top documents when the digests are equal", async () => {
    const store = new MemoryStore();
    const image = putImage(store, { layers: [{ tar: await tar([{ name: "f", content: "x" }]) }] });
    const e = await explainImages({ store, reference: image.digest }, { store, reference: image.digest });
    expect(e.result).toBe("same");
    expect(e.summary).toBe(`same: both are ${image.digest}`);
    expect(e.levels).toEqual({ index: "absent", manifest: "same", config: "not-compared", layers: "not-compared" });
    expect(e.differences).toEqual([]);
    expect(store.reads).toEqual([image.digest, image.digest]);
  });
});

describe("config differences", () => {
  it("classifies created, history, platform and labels, and stops before the equal layers", async () => {
    const { explanation, store } = await configPair(
      { created: "2024-01-01T00:00:00Z", config: { Labels: { "org.opencontainers.image.version": "1" } } },
      {
        created: "2024-01-02T00:00:00Z",
        history: [{ created: "2023-11-14T22:13:20Z", created_by: "RUN step 0 # changed" }],
        variant: "v2",
        config: { Labels: { "org.opencontainers.image.version": "2" } },
      },
    );
    expect(explanation.differences.map((d) => [d.subject, d.cause, d.change])).toEqual([
      ["created", "timestamp", "changed"],
      ['config.Labels["org.opencontainers.image.version"]', "annotation", "changed"],
      ["history[0].created_by", "history-text", "changed"],
      ["variant", "platform", "added"],
    ]);
    expect(explanation.levels.layers).toBe("same");
    expect(store.reads).toHaveLength(4);
  });

  it("says 'only timestamps' for created and history times", async () => {
    const { explanation } = await configPair(
      { created: "2024-01-01T00:00:00Z" },
      { created: "2024-01-02T00:00:00Z", history: [{ created: "2024-01-02T00:00:00Z", created_by: "RUN step 0" }] },
    );
    expect(explanation.summary).toBe("only timestamps differ (config created, history[0].created)");
  });

  it("reports an array holding the same elements in another order as one reordering", async () => {
    const { explanation } = await configPair({ config: { Env: ["A=1", "B=2", "C=3"] } }, { config: { Env: ["C=3", "A=1", "B=2"] } });
    expect(explanation.differences).toEqual([
      expect.objectContaining({ subject: "config.Env", change: "reordered", cause: "other", before: ["A=1", "B=2", "C=3"], after: ["C=3", "A=1", "B=2"] }),
    ]);
  });

  it("tells a config that differs only in key order from one that differs in whitespace", async () => {
    const store = new MemoryStore();
    const layer = await tar([{ name: "f", content: "x" }]);
    const base = putImage(store, { layers: [{ tar: layer }] });
    const manifest = JSON.parse((await store.blob(base.digest)).toString());
    const config = JSON.parse((await store.blob(manifest.config.digest)).toString()) as Record<string, unknown>;
    const variant = (bytes: Buffer) => {
      const m = { ...manifest, config: { ...manifest.config, digest: store.put(bytes), size: bytes.length } };
      return store.put(Buffer.from(JSON.stringify(m)), MediaType.ociManifest);
    };
    const reversed = variant(Buffer.from(JSON.stringify(Object.fromEntries(Object.entries(config).reverse()))));
    const indented = variant(Buffer.from(JSON.stringify(config, null, 2)));
    const byOrder = await explainImages({ store, reference: base.digest }, { store, reference: reversed });
    const bySpace = await explainImages({ store, reference: base.digest }, { store, reference: indented });
    expect(byOrder.differences.map((d) => [d.level, d.cause, d.subject])).toEqual([["config", "ordering", "(document)"]]);
    expect(bySpace.differences.map((d) => [d.level, d.cause, d.subject])).toEqual([["config", "other", "(document)"]]);
  });
});

describe("inline cache (moby.buildkit.cache.v0)", () => {
  const SOURCE = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
  const COPY = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
  const RUN = "sha256:3333333333333333333333333333333333333333333333333333333333333333";
  const ZERO = "0001-01-01T00:00:00Z";
  const records = (copyChains: boolean, runCreated = "2024-01-01T00:00:00Z") => [
    { digest: SOURCE, layers: [{ layer: 0, createdAt: ZERO }] },
    { digest: COPY, inputs: [[{ link: 0 }]], ...(copyChains ? { chains: [{ layers: [1], createdAt: ZERO }] } : {}) },
    { digest: RUN, layers: [{ layer: 1, createdAt: runCreated }], inputs: [[{ link: 1 }]] },
  ];

  it("names a vanished chains on the record that lost it", async () => {
    const { explanation } = await configPair({ [INLINE_CACHE_KEY]: base64Json(records(true)) }, { [INLINE_CACHE_KEY]: base64Json(records(false)) });
    expect(explanation.summary).toBe("only cache metadata differs (config moby.buildkit.cache.v0 records[222222222222].chains vanished)");
    expect(explanation.differences).toEqual([
      {
        level: "config",
        cause: "cache-metadata",
        change: "removed",
        subject: "moby.buildkit.cache.v0 records[222222222222].chains",
        record: COPY,
        before: [{ layers: [1], createdAt: ZERO }],
        note: "chains vanished",
      },
    ]);
  });

  it("names a changed createdAt as a timestamp", async () => {
    const { explanation } = await configPair(
      { [INLINE_CACHE_KEY]: base64Json(records(true)) },
      { [INLINE_CACHE_KEY]: base64Json(records(true, "2024-06-01T00:00:00Z")) },
    );
    expect(explanation.summary).toBe("only timestamps differ (config moby.buildkit.cache.v0 records[333333333333].layers[layer 1].createdAt)");
    expect(explanation.differences[0]).toMatchObject({ before: "2024-01-01T00:00:00Z", after: "2024-06-01T00:00:00Z" });
  });

  it("names records in another order and the links that follow them as renumbered, not changed", async () => {
    const [source, copy, run] = records(true);
    // Same records, order RUN, SOURCE, COPY: every link now has another number.
    const moved = [{ ...run!, inputs: [[{ link: 2 }]] }, source!, { ...copy!, inputs: [[{ link: 1 }]] }];
    const { explanation } = await configPair({ [INLINE_CACHE_KEY]: base64Json(records(true)) }, { [INLINE_CACHE_KEY]: base64Json(moved) });
    expect(explanation.differences.map((d) => [d.subject, d.cause, d.change, d.note])).toEqual([
      ["moby.buildkit.cache.v0 records", "ordering", "reordered", "3 of 3 records are at other positions"],
      ["moby.buildkit.cache.v0 links", "ordering", "changed", "2 links renumbered: they point at the same records, at other positions"],
    ]);
    expect(explanation.summary).toBe("only order differs (config moby.buildkit.cache.v0 records reordered, moby.buildkit.cache.v0 links)");
  });

  it("names added records and inputs that point at other records", async () => {
    const other = "sha256:4444444444444444444444444444444444444444444444444444444444444444";
    const changed = [...records(true), { digest: other }];
    changed[2] = { ...changed[2]!, inputs: [[{ link: 3 }]] };
    const { explanation } = await configPair({ [INLINE_CACHE_KEY]: base64Json(records(true)) }, { [INLINE_CACHE_KEY]: base64Json(changed) });
    expect(explanation.differences.map((d) => [d.subject, d.change])).toEqual([
      ["moby.buildkit.cache.v0 records[444444444444]", "added"],
      ["moby.buildkit.cache.v0 records[333333333333].inputs[0]", "changed"],
    ]);
    expect(explanation.differences[1]).toMatchObject({ before: [{ record: "222222222222" }], after: [{ record: "444444444444" }] });
  });

  it("reads the full cache config form too: its layers' createdAt is a timestamp", async () => {
    const full = (createdAt: string) => ({
      layers: [{ blob: "sha256:abc", parent: -1, annotations: { createdAt, mediaType: MediaType.ociLayerTarGzip } }],
      records: records(true),
    });
    const { explanation } = await configPair(
      { [INLINE_CACHE_KEY]: base64Json(full("2024-01-01T00:00:00Z")) },
      { [INLINE_CACHE_KEY]: base64Json(full("2024-01-02T00:00:00Z")) },
    );
    expect(explanation.differences.map((d) => [d.subject, d.cause])).toEqual([["moby.buildkit.cache.v0.layers[0].annotations.createdAt", "timestamp"]]);
  });

  it("compares an undecodable value as a raw value and says why", async () => {
    const { explanation } = await configPair({ [INLINE_CACHE_KEY]: base64Json(records(true)) }, { [INLINE_CACHE_KEY]: "not base64!" });
    expect(explanation.differences).toEqual([
      expect.objectContaining({
        subject: INLINE_CACHE_KEY,
        cause: "cache-metadata",
        change: "changed",
        note: expect.stringMatching(/^compared as raw values: b: .*not valid base64/),
      }),
    ]);
  });

  it("names an inline cache present on one side only", async () => {
    const { explanation } = await configPair({}, { [INLINE_CACHE_KEY]: base64Json(records(true)) });
    expect(explanation.differences).toEqual([
      expect.objectContaining({
        subject: INLINE_CACHE_KEY,
        change: "added",
        after: { records: 3, recordsWithLayers: 2, recordsWithChains: 1, recordsMissingChains: 2, recordsWithoutResults: 0, links: 2 },
      }),
    ]);
  });
});

describe("build info (moby.buildkit.buildinfo.v1)", () => {
  it("diffs the decoded JSON: a changed source pin is named by its path", async () => {
    const info = (pin: string) => ({ frontend: "dockerfile.v0", sources: [{ type: "docker-image", ref: "docker.io/library/busybox:latest", pin }] });
    const { explanation } = await configPair({ [BUILD_INFO_KEY]: base64Json(info("sha256:aaa")) }, { [BUILD_INFO_KEY]: base64Json(info("sha256:bbb")) });
    expect(explanation.summary).toBe("only build info differs (config moby.buildkit.buildinfo.v1.sources[0].pin)");
    expect(explanation.differences[0]).toMatchObject({ path: [BUILD_INFO_KEY, "sources", 0, "pin"], before: "sha256:aaa", after: "sha256:bbb" });
  });
});

describe("manifest differences", () => {
  it("reports annotations alone, and compares nothing below the equal config", async () => {
    const store = new MemoryStore();
    const layer = await tar([{ name: "f", content: "x" }]);
    const a = putImage(store, {
      layers: [{ tar: layer, annotations: { "org.example.a": "1" } }],
      annotations: { "org.opencontainers.image.created": "2024-01-01" },
    });
    const b = putImage(store, {
      layers: [{ tar: layer, annotations: { "org.example.a": "2" } }],
      annotations: { "org.opencontainers.image.created": "2024-02-01" },
    });
    const e = await explainImages({ store, reference: a.digest }, { store, reference: b.digest });
    expect(e.levels).toEqual({ index: "absent", manifest: "different", config: "same", layers: "same" });
    expect(e.summary).toBe('only annotations differ (manifest annotations["org.opencontainers.image.created"], layers[0].annotations["org.example.a"])');
    expect(store.reads).toEqual([a.digest, b.digest]);
  });
});

describe("index differences", () => {
  async function indexPair(arm64InB: boolean) {
    const store = new MemoryStore();
    const layer = await tar([{ name: "f", content: "x" }]);
    const amd64 = putImage(store, { layers: [{ tar: layer }] });
    const arm64 = putImage(store, { layers: [{ tar: layer }], platform: { os: "linux", architecture: "arm64" } });
    const attestation = (of: string, created: string) => {
      const d = putImage(store, { layers: [{ tar: layer }], config: { created } });
      return {
        mediaType: d.mediaType,
        digest: d.digest,
        size: d.size,
        platform: { os: "unknown", architecture: "unknown" },
        annotations: { [REFERENCE_TYPE_ANNOTATION]: ATTESTATION_MANIFEST, "vnd.docker.reference.digest": of },
      };
    };
    const a = putIndex(store, [amd64, attestation(amd64.digest, "2024-01-01T00:00:00Z")]);
    const b = putIndex(store, [amd64, ...(arm64InB ? [arm64] : []), attestation(amd64.digest, "2024-01-02T00:00:00Z")]);
    return { store, a, b, amd64 };
  }

  it("names a platform added and an attestation that differs, and follows linux/amd64 to an equal manifest", async () => {
    const { store, a, b, amd64 } = await indexPair(true);
    const e = await explainImages({ store, reference: a }, { store, reference: b });
    expect(e.levels).toEqual({ index: "different", manifest: "same", config: "not-compared", layers: "not-compared" });
    expect(e.differences.map((d) => [d.subject, d.cause, d.change])).toEqual([
      ["manifests[attestation of linux/amd64]", "build-info", "changed"],
      ["manifests[linux/arm64]", "platform", "added"],
    ]);
    expect(e.indexEntries).toEqual([
      { key: "linux/amd64", kind: "platform", a: amd64.digest, b: amd64.digest, followed: true },
      expect.objectContaining({ key: "attestation of linux/amd64", kind: "attestation", followed: false }),
      expect.objectContaining({ key: "linux/arm64", kind: "platform", followed: false }),
    ]);
    expect(e.summary).toBe(
      "build info and platforms differ: build info (index manifests[attestation of linux/amd64]); platforms (index manifests[linux/arm64] added)",
    );
  });

  it("follows the platform the caller names, and errs when one side lacks it", async () => {
    const { store, a, b } = await indexPair(true);
    const e = await explainImages({ store, reference: a }, { store, reference: b }, { platform: { os: "linux", architecture: "arm64" } });
    expect(e.result).toBe("error");
    expect(e.error).toMatchObject({ code: "REGISTRY_ERROR", message: expect.stringContaining("has no manifest for linux/arm64 (it offers linux/amd64)") });
    expect(e.summary).toMatch(/^error: /);
  });

  it("says when one reference is an index and the other an image manifest", async () => {
    const { store, a, amd64 } = await indexPair(false);
    const e = await explainImages({ store, reference: a }, { store, reference: amd64.digest });
    expect(e.differences).toEqual([expect.objectContaining({ level: "index", change: "removed", cause: "other", subject: "(index)" })]);
    expect(e.levels.manifest).toBe("same");
  });
});

describe("errors", () => {
  it("gives the result 'error' with the code, and what was compared until then", async () => {
    const store = new MemoryStore();
    const a = putImage(store, { layers: [{ tar: await tar([{ name: "f", content: "x" }]) }] });
    const b = putImage(store, { layers: [{ tar: await tar([{ name: "f", content: "y" }]) }] });
    const manifest = JSON.parse((await store.blob(b.digest)).toString()) as { layers: { digest: string }[] };
    store.drop(manifest.layers[0]!.digest);
    const e = await explainImages({ store, reference: a.digest }, { store, reference: b.digest });
    expect(e.result).toBe("error");
    expect(e.error).toEqual({ code: "REGISTRY_ERROR", message: `memory: ${manifest.layers[0]!.digest} is not stored`, hint: "Store it first." });
    expect(e.levels).toMatchObject({ manifest: "different", config: "different" });
  });
});
