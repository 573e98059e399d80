import { describe, expect, it } from "vitest";
import { explainImages } from "../../../../harness/oci/diff/index.ts";
import { MediaType } from "../../../../harness/oci/types.ts";
import { EPOCH, MemoryStore, putImage, type TarEntrySpec, tar } from "./synthetic-image.ts";

const BASE: TarEntrySpec[] = [
  { name: "bin", type: "directory" },
  { name: "bin/busybox", content: "busybox", mode: 0o755 },
  { name: "bin/sh", type: "symlink", linkname: "busybox" },
  { name: "etc", type: "directory" },
  { name: "etc/passwd", content: "root:x:0:0::/root:/bin/sh\n" },
];

/** Two single-layer images on top of a shared base layer, the second layer given per side. */
async function pair(top: { a: TarEntrySpec[]; b: TarEntrySpec[] }, options: Parameters<typeof explainImages>[2] = {}) {
  const store = new MemoryStore();
  const base = await tar(BASE);
  const a = putImage(store, { layers: [{ tar: base }, { tar: await tar(top.a) }] });
  const b = putImage(store, { layers: [{ tar: base }, { tar: await tar(top.b) }] });
  const explanation = await explainImages({ store, reference: a.digest }, { store, reference: b.digest }, options);
  return { store, explanation, a, b };
}

const fields = (e: Awaited<ReturnType<typeof explainImages>>) => e.differences.map((d) => [d.layer, d.entry ?? d.subject, d.field ?? d.change, d.cause]);

describe("tar entry differences", () => {
  it("names entries whose mtime alone differs, and reads no blob of the equal base layer", async () => {
    const { explanation, store, a } = await pair({
      a: [{ name: "hello", content: "hello\n", mtime: EPOCH }, { name: "dev" }, { name: "tmp" }],
      b: [{ name: "hello", content: "hello\n", mtime: EPOCH + 7 }, { name: "dev", mtime: EPOCH + 7 }, { name: "tmp" }],
    });
    expect(explanation.result).toBe("different");
    expect(explanation.summary).toBe("only timestamps differ (2 entries in layer 1)");
    expect(fields(explanation)).toEqual([
      [1, "hello", "mtime", "timestamp"],
      [1, "dev", "mtime", "timestamp"],
    ]);
    expect(explanation.differences[0]).toMatchObject({ before: "2023-11-14T22:13:20Z", after: "2023-11-14T22:13:27Z" });
    expect(explanation.layers.map((l) => l.status)).toEqual(["same", "different"]);
    // The config differs only in diff_ids, which the layer level explains: no config finding.
    expect(explanation.levels.config).toBe("different");
    const manifest = JSON.parse((await store.blob(a.digest)).toString()) as { layers: { digest: string }[] };
    expect(store.reads).not.toContain(manifest.layers[0]!.digest);
  });

  it("tells permission, ownership, content, size and link target apart", async () => {
    const { explanation } = await pair({
      a: [
        { name: "run.sh", content: "echo a\n", mode: 0o644 },
        { name: "data", content: "x", uid: 0, gid: 0 },
        { name: "config", content: "one" },
        { name: "link", type: "symlink", linkname: "run.sh" },
      ],
      b: [
        { name: "run.sh", content: "echo a\n", mode: 0o755 },
        { name: "data", content: "x", uid: 1000, gid: 1000 },
        { name: "config", content: "two!" },
        { name: "link", type: "symlink", linkname: "data" },
      ],
    });
    expect(fields(explanation)).toEqual([
      [1, "run.sh", "mode", "permission"],
      [1, "data", "uid", "ownership"],
      [1, "data", "gid", "ownership"],
      [1, "config", "content", "content"],
      [1, "link", "linkname", "content"],
    ]);
    const [mode, , , content, link] = explanation.differences;
    expect(mode).toMatchObject({ before: "0644", after: "0755" });
    expect(content!.before).toMatchObject({ size: 3 });
    expect(content!.after).toMatchObject({ size: 4 });
    expect(link).toMatchObject({ before: "run.sh", after: "data", note: "symlink target" });
    expect(explanation.summary).toBe(
      "content, permissions and ownership differ: content (2 entries in layer 1); permissions (1 entry in layer 1); ownership (1 entry in layer 1)",
    );
  });

  it("calls out plain and opaque whiteouts among added and removed entries", async () => {
    const { explanation } = await pair({
      a: [{ name: "old", content: "gone soon" }],
      b: [{ name: ".wh.old", content: "" }, { name: "var/cache" }, { name: "var/cache/.wh..wh..opq", content: "" }],
    });
    const byEntry = Object.fromEntries(explanation.differences.map((d) => [d.entry, d]));
    expect(byEntry.old).toMatchObject({ change: "removed", cause: "content" });
    expect(byEntry[".wh.old"]).toMatchObject({ change: "added", whiteout: { kind: "file", target: "old" }, note: "whiteout: deletes old" });
    expect(byEntry["var/cache/.wh..wh..opq"]).toMatchObject({
      change: "added",
      whiteout: { kind: "opaque", dir: "var/cache" },
      note: "opaque whiteout: hides everything below in var/cache",
    });
    expect(byEntry["var/cache"]).toMatchObject({ change: "added" });
    expect(byEntry["var/cache"]!.whiteout).toBeUndefined();
  });

  it("keeps whiteouts named when only their mtime differs", async () => {
    const { explanation } = await pair({ a: [{ name: ".wh.old", content: "", mtime: 0 }], b: [{ name: ".wh.old", content: "", mtime: EPOCH }] });
    expect(explanation.summary).toBe("only timestamps differ (1 entry in layer 1)");
    expect(explanation.differences[0]).toMatchObject({ field: "mtime", before: "1970-01-01T00:00:00Z", whiteout: { kind: "file", target: "old" } });
  });

  it("reports entries written in another order once, as ordering", async () => {
    const entries: TarEntrySpec[] = [
      { name: "a", content: "1" },
      { name: "b", content: "2" },
      { name: "c", content: "3" },
    ];
    const { explanation } = await pair({ a: entries, b: [entries[2]!, entries[0]!, entries[1]!] });
    expect(explanation.summary).toBe("only order differs (layer 1 entries reordered)");
    expect(explanation.differences).toHaveLength(1);
    expect(explanation.differences[0]).toMatchObject({ cause: "ordering", change: "reordered", layer: 1, before: ["a", "b", "c"], after: ["c", "a", "b"] });
  });

  it("says so when the tars differ in nothing the listing compares", async () => {
    const store = new MemoryStore();
    const entries: TarEntrySpec[] = [{ name: "f", content: "x" }];
    const plain = await tar(entries);
    // The same entry, then a second end-of-archive block: another diff_id, the same entries.
    const padded = Buffer.concat([plain, Buffer.alloc(512)]);
    const a = putImage(store, { layers: [{ tar: plain }] });
    const b = putImage(store, { layers: [{ tar: padded }] });
    const e = await explainImages({ store, reference: a.digest }, { store, reference: b.digest });
    expect(e.differences).toEqual([
      expect.objectContaining({
        level: "layer",
        layer: 0,
        cause: "other",
        subject: "layers[0] tar headers",
        note: expect.stringContaining("no compared entry field"),
      }),
    ]);
    expect(e.summary).toBe("only other fields differ (layer 0 tar headers)");
  });
});

describe("layer-level differences", () => {
  it("calls the same tar compressed differently compression only, without reading either blob", async () => {
    const store = new MemoryStore();
    const layer = await tar([{ name: "f", content: "x".repeat(5000) }]);
    const a = putImage(store, { layers: [{ tar: layer, gzip: 1 }] });
    const b = putImage(store, { layers: [{ tar: layer, gzip: 9 }] });
    const e = await explainImages({ store, reference: a.digest }, { store, reference: b.digest });
    expect(e.levels).toEqual({ index: "absent", manifest: "different", config: "same", layers: "different" });
    expect(e.layers[0]!.status).toBe("compression-only");
    expect(e.summary).toBe("only media types or compression differ (layer 0)");
    expect(store.reads).toEqual([a.digest, b.digest]);
  });

  it("reports a layer media type change at the manifest level and the compression at the layer level", async () => {
    const store = new MemoryStore();
    const layer = await tar([{ name: "f", content: "x" }]);
    const a = putImage(store, { layers: [{ tar: layer, gzip: 6, mediaType: MediaType.dockerLayerTarGzip }] });
    const b = putImage(store, { layers: [{ tar: layer }] });
    const e = await explainImages({ store, reference: a.digest }, { store, reference: b.digest });
    expect(e.differences.map((d) => [d.level, d.subject, d.cause])).toEqual([
      ["manifest", "layers[0].mediaType", "media-type/compression"],
      ["layer", "layers[0]", "media-type/compression"],
    ]);
  });

  it("names layers present on one side only", async () => {
    const store = new MemoryStore();
    const one = await tar([{ name: "f", content: "x" }]);
    const two = await tar([{ name: "g", content: "y" }]);
    const a = putImage(store, { layers: [{ tar: one }] });
    const b = putImage(store, { layers: [{ tar: one }, { tar: two }] });
    const e = await explainImages({ store, reference: a.digest }, { store, reference: b.digest });
    expect(e.layers.map((l) => l.status)).toEqual(["same", "added"]);
    expect(e.summary).toBe("content and history text differ: content (layer 1 added); history text (config history[1] added)");
  });

  it("compares layers above the size limit by digest only, and says so", async () => {
    const { explanation, store } = await pair(
      { a: [{ name: "big", content: "a".repeat(3000) }], b: [{ name: "big", content: "b".repeat(3000) }] },
      { limits: { maxLayerBytes: 2048 } },
    );
    expect(explanation.layers[1]!.status).toBe("too-large");
    expect(explanation.differences[0]!.note).toMatch(/^not listed: \d+ bytes is above the limit of 2048; compared by digest only$/);
    expect(explanation.summary).toBe("only other fields differ (layer 1 too large to list)");
    expect(store.reads).toHaveLength(4); // two manifests, two configs
  });

  it("counts every entry difference but lists only up to the limit", async () => {
    const names = ["a", "b", "c", "d", "e"];
    const { explanation } = await pair(
      { a: names.map((name) => ({ name, content: name })), b: names.map((name) => ({ name, content: name, mtime: EPOCH + 1 })) },
      { limits: { maxEntryDifferences: 2 } },
    );
    expect(explanation.differences.map((d) => d.entry)).toEqual(["a", "b"]);
    expect(explanation.omittedDifferences).toBe(3);
    expect(explanation.layers[1]).toMatchObject({ differences: 5, omitted: 3 });
    expect(explanation.summary).toBe("only timestamps differ (5 entries in layer 1)");
  });
});
