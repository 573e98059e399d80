/**
 * Assertions that read the images builds pushed or exported (files, layers, whiteouts,
 * config, inline cache, annotations), on synthetic observations. The inline cache cases
 * start from a real BuildKit image config (test/fixtures/oci).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeInlineCache, INLINE_CACHE_KEY } from "../../../../harness/oci/inline-cache.ts";
import type { ImageConfig, Manifest } from "../../../../harness/oci/types.ts";
import { evaluate } from "../../../../harness/scenario/judge/assertions.ts";
import { satisfies } from "../../../../harness/scenario/judge/verdict.ts";
import type { Assertion } from "../../../../harness/scenario/model.ts";
import type { AttemptObservation, ImageObservation } from "../../../../harness/scenario/observation.ts";
import { attempt, build, digest, entry, image, layer, runs, whiteoutEntry } from "./observations.ts";

const judged = (a: Assertion, obs: AttemptObservation, version = "v0.34.0") => evaluate(a, obs, version, (range) => satisfies(version, range));
const one = (img: ImageObservation) => attempt([build("b", { sequence: 1, image: img })]);
const notPushed = attempt([build("b", { sequence: 1, outputs: [{ index: 0, type: "image" }] })]);

describe("file-equal and file-differs", () => {
  const a = (kind: "file-equal" | "file-differs", path = "/out/rand"): Assertion => ({ id: "f", kind, targets: [{ build: "x" }, { build: "y" }], path });
  const withFile = (content: string | undefined) =>
    image({ layers: [layer([entry("out", { type: "directory" }), ...(content !== undefined ? [entry("out/rand", { content })] : [])])] });
  const two = (cx: string | undefined, cy: string | undefined) =>
    attempt([build("x", { sequence: 1, image: withFile(cx) }), build("y", { sequence: 2, image: withFile(cy) })]);

  it("equal holds on the same content and fails on different content, at the second build", () => {
    expect(judged(a("file-equal"), two("1", "1"))).toMatchObject({ status: "holds", actual: `x: 100000000000, y: 100000000000` });
    expect(judged(a("file-equal"), two("1", "2"))).toMatchObject({ status: "fails", firstViolation: { sequence: 2 } });
  });

  it("differs holds on different content and fails on the same", () => {
    expect(judged(a("file-differs"), two("1", "2")).status).toBe("holds");
    expect(judged(a("file-differs"), two("1", "1"))).toMatchObject({ status: "fails", expected: "different content" });
  });

  it("reads the file as the image shows it: deleted in a higher layer, it is not there", () => {
    const deleted = image({ layers: [layer([entry("out", { type: "directory" }), entry("out/rand", { content: "1" })]), layer([whiteoutEntry("out/rand")])] });
    const obs = attempt([build("x", { sequence: 1, image: withFile("1") }), build("y", { sequence: 2, image: deleted })]);
    expect(judged(a("file-equal"), obs)).toMatchObject({ status: "inconclusive", actual: '/out/rand is not in the image of "y" (build #2)' });
  });

  it("is inconclusive when the file is absent, or not a regular file", () => {
    expect(judged(a("file-differs"), two("1", undefined)).status).toBe("inconclusive");
    const dir = image({ layers: [layer([entry("out", { type: "directory" }), entry("out/rand", { type: "directory" })])] });
    const obs = attempt([build("x", { sequence: 1, image: withFile("1") }), build("y", { sequence: 2, image: dir })]);
    expect(judged(a("file-equal"), obs)).toMatchObject({ status: "inconclusive", actual: '/out/rand in the image of "y" is a directory, not a regular file' });
  });

  it("compares a hardlinked path by the content it links to", () => {
    const linked = image({ layers: [layer([entry("out/orig", { content: "1" }), entry("out/rand", { type: "hardlink", linkname: "out/orig" })])] });
    const obs = attempt([build("x", { sequence: 1, image: withFile("1") }), build("y", { sequence: 2, image: linked })]);
    expect(judged(a("file-equal"), obs).status).toBe("holds");
  });

  it("is inconclusive when an image was not pushed, and not evaluated when a build failed", () => {
    const obs = attempt([build("x", { sequence: 1, image: withFile("1") }), build("y", { sequence: 2, outputs: [{ index: 0, type: "image" }] })]);
    expect(judged(a("file-equal"), obs).status).toBe("inconclusive");
    const failed = attempt([build("x", { sequence: 1, image: withFile("1") }), build("y", { sequence: 2, exitCode: 1 })]);
    expect(judged(a("file-equal"), failed).status).toBe("not-evaluated");
  });
});

describe("inline-cache-keeps-results", () => {
  const realConfig = JSON.parse(readFileSync(join(import.meta.dirname, "../../../fixtures/oci/inline-cache-records-only.config.json"), "utf8")) as ImageConfig;
  const real = decodeInlineCache(realConfig)!;
  const a: Assertion = { id: "k", kind: "inline-cache-keeps-results", build: "b" };
  // The real records, and the same with a COPY --link record holding its result as a chain.
  const chained = { records: [...real.records, { digest: digest("link"), chains: [{ layers: [0, 1] }], inputs: [[{ link: 2 }]] }] };
  const lostChains = { records: [...real.records, { digest: digest("link"), inputs: [[{ link: 2 }]] }] };
  const withCache = (cache: ImageObservation["inlineCache"]) => image({ ...(cache ? { inlineCache: cache } : {}) });

  it("holds when no record loses layers or chains between consecutive runs", () => {
    const o = judged(a, attempt(runs("b", [withCache({ decoded: chained }), withCache({ decoded: chained }), withCache({ decoded: chained })])));
    expect(o).toMatchObject({ status: "holds", actual: "every record kept its results in all 3 runs" });
  });

  it("fails at the run where a record lost its chains, naming the record", () => {
    const obs = attempt(runs("b", [withCache({ decoded: chained }), withCache({ decoded: chained }), withCache({ decoded: lostChains })]));
    const o = judged(a, obs);
    expect(o).toMatchObject({ status: "fails", firstViolation: { sequence: 3, iteration: 3 } });
    expect(o.actual).toBe("records lost results: link00000000 lost chains (iteration 3)");
  });

  it("fails when a record lost its layer result", () => {
    const noLayers = { records: real.records.map((r) => ({ digest: r.digest, ...(r.inputs ? { inputs: r.inputs } : {}) })) };
    const o = judged(a, attempt(runs("b", [withCache({ decoded: real }), withCache({ decoded: noLayers })])));
    expect(o.actual).toBe("records lost results: b7786711cb5d lost layers (iteration 2)");
  });

  it("fails when the inline cache cannot be decoded (a malformed cache is a finding)", () => {
    const o = judged(a, attempt(runs("b", [withCache({ decoded: real }), withCache({ error: "not valid base64" })])));
    expect(o).toMatchObject({ status: "fails", actual: "the inline cache cannot be decoded: not valid base64 (iteration 2)" });
  });

  it("is inconclusive with one run, or an image without inline cache", () => {
    expect(judged(a, attempt(runs("b", [withCache({ decoded: real })]))).status).toBe("inconclusive");
    const o = judged(a, attempt(runs("b", [withCache({ decoded: real }), withCache(undefined)])));
    expect(o).toMatchObject({ status: "inconclusive", actual: `the image of iteration 2 has no inline cache (${INLINE_CACHE_KEY}); was it exported?` });
  });

  it("fails when a loss shows after a run without inline cache, comparing with the last run that had one", () => {
    const obs = attempt(runs("b", [withCache({ decoded: chained }), withCache(undefined), withCache({ decoded: lostChains })]));
    expect(judged(a, obs)).toMatchObject({ status: "fails", firstViolation: { sequence: 3, iteration: 3 } });
  });
});

describe("layer-mtimes", () => {
  const a = (layers: "last" | "new" | "all", notAfter = 1000): Assertion => ({ id: "t", kind: "layer-mtimes", target: { build: "b" }, notAfter, layers });
  const base = layer([entry("bin", { type: "directory", mtime: 5000 })], { fromBaseImage: true });
  const made = layer([entry("app", { mtime: 10 }), entry("dev", { type: "directory", mtime: 2000 })]);
  const top = layer([entry("top", { mtime: 20 })]);
  const img = image({ layers: [base, made, top] });

  it("last: only the top layer", () => {
    expect(judged(a("last"), one(img))).toMatchObject({ status: "holds", actual: "1 entries, none later" });
  });

  it("new: the layers the build added, not the base image's", () => {
    const o = judged(a("new"), one(img));
    expect(o).toMatchObject({ status: "fails", actual: "1 of 3 entries later: dev 1970-01-01T00:33:20Z (build #1)", firstViolation: { sequence: 1 } });
  });

  it("all: every layer", () => {
    expect(judged(a("all"), one(img)).actual).toBe("2 of 4 entries later: bin 1970-01-01T01:23:20Z, dev 1970-01-01T00:33:20Z (build #1)");
  });

  it("lists at most eight late entries", () => {
    const many = image({ layers: [layer(Array.from({ length: 10 }, (_, i) => entry(`f${i}`, { mtime: 2000 })))] });
    expect(judged(a("last"), one(many)).actual).toMatch(/^10 of 10 entries later: f0 .*, f7 [^,]*, …/);
  });

  it("fails at the first run with a late entry", () => {
    const late = image({ layers: [layer([entry("app", { mtime: 2000 })])] });
    expect(judged(a("last"), attempt(runs("b", [img, late])))).toMatchObject({ status: "fails", firstViolation: { sequence: 2, iteration: 2 } });
  });

  it("is inconclusive with no layers, or no layer added on top of the base image", () => {
    expect(judged(a("last"), one(image()))).toMatchObject({ status: "inconclusive", actual: "the image has no layers (build #1)" });
    expect(judged(a("new"), one(image({ layers: [base] })))).toMatchObject({
      status: "inconclusive",
      actual: "the build added no layer on top of its base image (build #1)",
    });
    expect(judged(a("all"), notPushed).status).toBe("inconclusive");
  });

  it("fails when a run has a late entry, even if an earlier run was not pushed", () => {
    const late = image({ layers: [layer([entry("app", { mtime: 2000 })])] });
    const obs = attempt([
      build("b", { sequence: 1, iteration: 1, outputs: [{ index: 0, type: "image" }] }),
      build("b", { sequence: 2, iteration: 2, image: late }),
    ]);
    expect(judged(a("last"), obs)).toMatchObject({ status: "fails", firstViolation: { sequence: 2, iteration: 2 } });
  });
});

describe("whiteout", () => {
  const a = (mtimeNotAfter?: number): Assertion => ({
    id: "w",
    kind: "whiteout",
    target: { build: "b" },
    path: "/gone",
    ...(mtimeNotAfter !== undefined ? { mtimeNotAfter } : {}),
  });
  const rm = (mtime: number) => image({ layers: [layer([entry("gone", { mtime: 5 })]), layer([whiteoutEntry("gone", mtime)])] });

  it("holds when a layer deletes the path with a whiteout, dated no later than given", () => {
    expect(judged(a(), one(rm(1700000999)))).toMatchObject({ status: "holds", actual: "whiteout .wh.gone dated 2023-11-14T22:29:59Z" });
    expect(judged(a(1700000000), one(rm(0))).status).toBe("holds");
  });

  it("fails when the whiteout is dated later", () => {
    expect(judged(a(1700000000), one(rm(1700000999)))).toMatchObject({ status: "fails", actual: "whiteout .wh.gone dated 2023-11-14T22:29:59Z (build #1)" });
  });

  it("checks every whiteout of the path, not only the lowest", () => {
    const twice = image({
      layers: [layer([entry("gone")]), layer([whiteoutEntry("gone", 0)]), layer([entry("gone")]), layer([whiteoutEntry("gone", 1700000999)])],
    });
    expect(judged(a(1700000000), one(twice)).status).toBe("fails");
  });

  it("fails when a layer holds the file and none deletes it", () => {
    const kept = image({ layers: [layer([entry("gone")]), layer([entry("other")])] });
    expect(judged(a(), one(kept))).toMatchObject({ status: "fails", actual: "no whiteout for it; /gone is still in the image (build #1)" });
  });

  it("is inconclusive when no layer ever held the path: there was nothing to delete", () => {
    const never = image({ layers: [layer([entry("other")])] });
    expect(judged(a(), one(never))).toMatchObject({ status: "inconclusive", actual: "no layer holds /gone, so there is nothing to delete (build #1)" });
    expect(judged(a(), notPushed).status).toBe("inconclusive");
  });
});

describe("config-key", () => {
  const a = (key: string, present: boolean): Assertion => ({ id: "k", kind: "config-key", target: { build: "b" }, key, present });
  const cfg = image({ config: { [INLINE_CACHE_KEY]: "W10=", "moby.buildkit.buildinfo.v1": "e30=" } });

  it("sees every top-level key of the config as pushed, inline cache included", () => {
    expect(judged(a(INLINE_CACHE_KEY, true), one(cfg)).status).toBe("holds");
    expect(judged(a("moby.buildkit.buildinfo.v1", false), one(cfg))).toMatchObject({ status: "fails", actual: "present (build #1)" });
    expect(judged(a("moby.buildkit.buildinfo.v1", true), one(image()))).toMatchObject({ status: "fails", actual: "absent (build #1)" });
    expect(judged(a("moby.buildkit.buildinfo.v1", false), one(image())).status).toBe("holds");
  });

  it("is inconclusive without an image, not evaluated when the build failed", () => {
    expect(judged(a("x", true), notPushed).status).toBe("inconclusive");
    expect(judged(a("x", true), attempt([build("b", { sequence: 1, exitCode: 1 })])).status).toBe("not-evaluated");
  });
});

describe("config-field", () => {
  const a = (field: string, equals: string): Assertion => ({ id: "c", kind: "config-field", target: { build: "b" }, field, equals });
  const cfg = image({
    config: {
      created: "2023-11-14T22:13:20Z",
      history: [{ created: "1970-01-01T00:00:00Z" }, { created: "2023-11-14T22:13:20Z", empty_layer: true }],
      config: { Env: ["PATH=/bin"], Labels: { "org.opencontainers.image.source": "https://example.org/x" } },
    },
  });

  it("reads a dotted field, array indices included", () => {
    expect(judged(a("created", "2023-11-14T22:13:20Z"), one(cfg)).status).toBe("holds");
    expect(judged(a("history.0.created", "1970-01-01T00:00:00Z"), one(cfg)).status).toBe("holds");
    expect(judged(a("history.1.created", "1970-01-01T00:00:00Z"), one(cfg))).toMatchObject({ status: "fails", actual: "2023-11-14T22:13:20Z (build #1)" });
  });

  it("compares a field that is not a string by its JSON", () => {
    expect(judged(a("history.1.empty_layer", "true"), one(cfg)).status).toBe("holds");
    expect(judged(a("config.Env", '["PATH=/bin"]'), one(cfg)).status).toBe("holds");
  });

  it("reads a key that itself contains dots (labels)", () => {
    expect(judged(a("config.Labels.org.opencontainers.image.source", "https://example.org/x"), one(cfg))).toMatchObject({ status: "holds" });
  });

  it("shows an absent field as (absent)", () => {
    expect(judged(a("history.5.created", "x"), one(cfg))).toMatchObject({ status: "fails", actual: "(absent) (build #1)" });
  });
});

describe("layer-from-base", () => {
  const baseManifest: Manifest = {
    schemaVersion: 2,
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: digest("bc"), size: 1 },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: digest("b0"), size: 4096 }],
  };
  const baseImages = { busybox: { reference: "registry:5000/base/busybox@x", manifestDigest: digest("bm"), manifest: baseManifest, origin: "recipe" } };
  const a = (layerIndex = 0, baseLayer = 0): Assertion => ({
    id: "l",
    kind: "layer-from-base",
    target: { build: "b" },
    layer: layerIndex,
    image: "busybox",
    baseLayer,
  });
  const withLayer = (d: Partial<Manifest["layers"][0]>) =>
    attempt([build("b", { sequence: 1, image: image({ manifest: { layers: [{ ...baseManifest.layers[0]!, ...d }] } }) })], { baseImages });

  it("holds when the layer is the base image's blob, unchanged", () => {
    expect(judged(a(), withLayer({}))).toMatchObject({
      status: "holds",
      actual: `b00000000000 4096 B application/vnd.oci.image.layer.v1.tar, as in the base image`,
    });
  });

  it("fails when the blob, its size or its media type differs", () => {
    expect(judged(a(), withLayer({ digest: digest("re") })).status).toBe("fails");
    expect(judged(a(), withLayer({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip" })).status).toBe("fails");
    expect(judged(a(), withLayer({ size: 1 })).actual).toBe(
      "b00000000000 1 B application/vnd.oci.image.layer.v1.tar (the base image's: b00000000000 4096 B application/vnd.oci.image.layer.v1.tar) (build #1)",
    );
  });

  it("is inconclusive when the base image was not pushed, or either side lacks the layer", () => {
    const noBase = attempt([build("b", { sequence: 1, image: image() })]);
    expect(judged(a(), noBase)).toMatchObject({ status: "inconclusive", actual: "base image busybox was not pushed in this run" });
    expect(judged(a(0, 3), withLayer({})).actual).toBe("base image busybox has 1 layer(s); there is no layer 3");
    expect(judged(a(2, 0), withLayer({})).actual).toBe("the image has 1 layer(s); there is no layer 2 (build #1)");
  });
});

describe("annotation", () => {
  const a = (on: "index" | "manifest" | "layer", present: boolean, equals?: string, layerIndex?: number): Assertion => ({
    id: "an",
    kind: "annotation",
    target: { build: "b" },
    on,
    key: "org.opencontainers.image.created",
    present,
    ...(equals !== undefined ? { equals } : {}),
    ...(layerIndex !== undefined ? { layer: layerIndex } : {}),
  });
  const key = "org.opencontainers.image.created";
  const annotated = image({
    indexDigest: digest("i"),
    index: { schemaVersion: 2, manifests: [], annotations: { [key]: "2023-11-14T22:13:20Z" } },
    manifest: {
      annotations: { [key]: "1970-01-01T00:00:00Z" },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: digest("l"), size: 1, annotations: { [key]: "layer" } }],
    },
  });

  it("reads the index, the manifest or a layer descriptor, as told", () => {
    expect(judged(a("index", true, "2023-11-14T22:13:20Z"), one(annotated)).status).toBe("holds");
    expect(judged(a("manifest", true, "1970-01-01T00:00:00Z"), one(annotated)).status).toBe("holds");
    expect(judged(a("layer", true, "layer", 0), one(annotated)).status).toBe("holds");
    expect(judged(a("manifest", true, "2023-11-14T22:13:20Z"), one(annotated))).toMatchObject({
      status: "fails",
      actual: `${key} = 1970-01-01T00:00:00Z (build #1)`,
    });
  });

  it("present without a value holds on any value; absent fails on any", () => {
    expect(judged(a("manifest", true), one(annotated)).status).toBe("holds");
    expect(judged(a("manifest", false), one(annotated)).status).toBe("fails");
    expect(judged(a("manifest", false), one(image())).status).toBe("holds");
    expect(judged(a("manifest", true), one(image()))).toMatchObject({ status: "fails", actual: "absent (build #1)" });
  });

  it("is inconclusive on an image without an index, or without that layer", () => {
    expect(judged(a("index", false), one(image()))).toMatchObject({ status: "inconclusive", actual: "the image has no index (build #1)" });
    expect(judged(a("layer", true, undefined, 4), one(annotated))).toMatchObject({ status: "inconclusive", actual: "the image has no layer 4 (build #1)" });
  });
});

describe("output-readable", () => {
  const a = (output?: number): Assertion => ({ id: "r", kind: "output-readable", target: { build: "b", ...(output !== undefined ? { output } : {}) } });
  const layoutAndTar = (unreadable?: string) =>
    attempt([
      build("b", {
        sequence: 1,
        outputs: [
          { index: 0, type: "oci", ...(unreadable !== undefined ? { unreadable } : { image: image() }) },
          { index: 1, type: "docker", image: image() },
        ],
      }),
    ]);
  const broken = "index.json references sha256:c634 (manifest), which is not in the archive";

  it("holds when the output's image could be read whole", () => {
    expect(judged(a(0), layoutAndTar())).toMatchObject({ status: "holds", actual: expect.stringContaining("config and layers read") });
  });

  it("fails with the reason when the output BuildKit wrote does not hold together", () => {
    expect(judged(a(0), layoutAndTar(broken))).toMatchObject({ status: "fails", actual: `${broken} (build #1)` });
    expect(judged(a(), layoutAndTar(broken)).status).toBe("fails");
    expect(judged(a(1), layoutAndTar(broken)).status).toBe("holds");
  });

  it("is inconclusive on an output that holds no image to read", () => {
    const local = attempt([build("b", { sequence: 1, outputs: [{ index: 0, type: "local", files: [] }] })]);
    expect(judged(a(0), local)).toMatchObject({ status: "inconclusive", actual: expect.stringContaining("is a local export, not an image") });
  });
});
