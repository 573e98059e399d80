import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import * as zlib from "node:zlib";
import { decompress as fzstdDecompress } from "fzstd";
import { pack } from "tar-stream";
import { describe, expect, it } from "vitest";
import { HarnessError } from "../../../harness/errors.ts";
import { type TarEntrySpec, writeDeterministicTar } from "../../../harness/oci/deterministic-tar.ts";
import { listLayerEntries, zstdDecompress } from "../../../harness/oci/layer-entries.ts";
import { MediaType } from "../../../harness/oci/types.ts";

const LONG_DIR = `deep/${"d".repeat(90)}/${"e".repeat(40)}`;

// Deliberately not in name order: the writer must sort.
const ENTRIES: TarEntrySpec[] = [
  { type: "file", path: "/etc/hello.txt", mode: 0o640, content: "hello\n" },
  { type: "directory", path: "etc", mode: 0o755 },
  { type: "symlink", path: "bin/sh", target: "busybox" },
  { type: "directory", path: "bin/", mode: 0o755 },
  { type: "file", path: "bin/busybox", mode: 0o4755, content: Buffer.alloc(1000, 7) },
  { type: "directory", path: "tmp", mode: 0o1777 },
  { type: "file", path: "etc/.wh.removed", mode: 0o644, content: "" },
  { type: "directory", path: "var", mode: 0o700 },
  { type: "file", path: "var/.wh..wh..opq", mode: 0o644, content: "" },
  { type: "directory", path: LONG_DIR, mode: 0o755 },
  { type: "file", path: `${LONG_DIR}/file`, mode: 0o600, content: "x" },
];

/**
 * A zstd frame of one raw (stored) block, as RFC 8878 §3.1.1 lays it out: magic, a frame
 * header with Single_Segment set and a 2-byte content size, a last-block header, the bytes.
 */
function rawZstdFrame(content: Uint8Array): Buffer {
  if (content.length < 256 || content.length > 65_791) throw new Error("a 2-byte frame content size holds 256..65791 bytes");
  const header = Buffer.alloc(10);
  header.writeUInt32LE(0xfd2fb528, 0); // magic
  header[4] = 0b0110_0000; // FCS_Field_Size 1 (2 bytes), Single_Segment, no checksum, no dictionary
  header.writeUInt16LE(content.length - 256, 5);
  header.writeUIntLE(1 | (0 << 1) | (content.length << 3), 7, 3); // Last_Block, Raw_Block, Block_Size
  return Buffer.concat([header, content]);
}

/** A skippable frame (RFC 8878 §3.1.2), as zstd:chunked writers add for their table of contents. */
function skippableFrame(payload: string): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32LE(0x184d2a50, 0);
  header.writeUInt32LE(Buffer.byteLength(payload), 4);
  return Buffer.concat([header, Buffer.from(payload)]);
}

const sha256 = (b: Uint8Array | string) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

describe("writeDeterministicTar", () => {
  it("gives the same bytes every time, whatever the input order", () => {
    const a = writeDeterministicTar(ENTRIES, { mtime: 1_700_000_000 });
    const b = writeDeterministicTar([...ENTRIES].reverse(), { mtime: 1_700_000_000 });
    expect(sha256(a)).toBe(sha256(b));
    expect(a.equals(writeDeterministicTar(ENTRIES, { mtime: 1_700_000_000 }))).toBe(true);
    expect(a.length % 512).toBe(0);
    expect(writeDeterministicTar(ENTRIES).equals(a)).toBe(false);
  });

  it("pins the bytes of a small archive", () => {
    // A change here changes every base image digest; update deliberately.
    const tar = writeDeterministicTar([
      { type: "directory", path: "a", mode: 0o755 },
      { type: "file", path: "a/b", mode: 0o644, content: "b\n" },
    ]);
    expect(tar.length).toBe(512 * 5);
    expect(sha256(tar)).toMatchInlineSnapshot(`"sha256:fab5ef5c927edcd29b7ad9562b6eb9df46c486e814706ddacd3f7e6b81705ffe"`);
  });

  it("rejects duplicates and paths that escape", () => {
    expect(() => writeDeterministicTar([ENTRIES[1]!, { type: "directory", path: "/etc/", mode: 0o755 }])).toThrow(/listed twice/);
    expect(() => writeDeterministicTar([{ type: "file", path: "../x", mode: 0o644, content: "" }])).toThrow(/invalid tar entry path/);
    expect(() => writeDeterministicTar([], { mtime: 1.5 })).toThrow(/whole seconds/);
  });
});

describe("listLayerEntries", () => {
  const tar = writeDeterministicTar(ENTRIES, { mtime: 1_700_000_000 });

  async function checkRoundTrip(bytes: Buffer, mediaType: string): Promise<void> {
    const entries = await listLayerEntries(bytes, mediaType);
    expect(entries.map((e) => e.name)).toEqual([
      "bin",
      "bin/busybox",
      "bin/sh",
      LONG_DIR,
      `${LONG_DIR}/file`,
      "etc",
      "etc/.wh.removed",
      "etc/hello.txt",
      "tmp",
      "var",
      "var/.wh..wh..opq",
    ]);
    const byName = new Map(entries.map((e) => [e.name, e]));
    expect(byName.get("bin/busybox")).toMatchObject({ type: "file", mode: 0o4755, size: 1000, uid: 0, gid: 0, contentDigest: sha256(Buffer.alloc(1000, 7)) });
    expect(byName.get("bin/sh")).toMatchObject({ type: "symlink", linkname: "busybox", mode: 0o777 });
    expect(byName.get("bin/sh")?.contentDigest).toBeUndefined();
    expect(byName.get("tmp")).toMatchObject({ type: "directory", mode: 0o1777 });
    expect(byName.get("etc/hello.txt")).toMatchObject({
      mode: 0o640,
      contentDigest: sha256("hello\n"),
      mtime: "2023-11-14T22:13:20Z",
      mtimeEpochSeconds: 1_700_000_000,
    });
    expect(byName.get("etc/.wh.removed")?.whiteout).toEqual({ kind: "file", target: "etc/removed" });
    expect(byName.get("var/.wh..wh..opq")?.whiteout).toEqual({ kind: "opaque", dir: "var" });
    expect(byName.get("etc/hello.txt")?.whiteout).toBeUndefined();
    expect(byName.get(`${LONG_DIR}/file`)).toMatchObject({ type: "file", mode: 0o600, size: 1 });
  }

  it("reads back an uncompressed deterministic tar", async () => {
    await checkRoundTrip(tar, MediaType.ociLayerTar);
  });

  it("reads back a gzip layer, by media type and by magic bytes", async () => {
    await checkRoundTrip(zlib.gzipSync(tar), MediaType.ociLayerTarGzip);
    await checkRoundTrip(zlib.gzipSync(tar), MediaType.dockerLayerTarGzip);
    await checkRoundTrip(zlib.gzipSync(tar), "application/octet-stream");
  });

  it("refuses a layer whose bytes contradict its media type", async () => {
    await expect(listLayerEntries(Buffer.alloc(1024, 1), MediaType.ociLayerTarGzip)).rejects.toMatchObject({ code: "LAYER_FORMAT_UNSUPPORTED" });
    await expect(listLayerEntries(zlib.gzipSync(tar), MediaType.ociLayerTar)).rejects.toBeInstanceOf(HarnessError);
  });

  it("reads an uncompressed tar labelled gzip, as docker push describes a base layer it did not upload", async () => {
    await checkRoundTrip(tar, MediaType.dockerLayerTarGzip);
  });

  it("reads a zstd layer BuildKit wrote, on every supported Node", async () => {
    const layer = readFileSync(resolve(import.meta.dirname, "../../fixtures/oci/buildkit-v0.34.0-copy-layer.tar.zst"));
    // The layer's digest and diff_id from the manifest and config BuildKit wrote with it.
    expect(sha256(layer)).toBe("sha256:9e98ecc83c8396f3745640adf406f6b6f106bef9a5baa49113a7e04723e690d6");
    expect(sha256(zstdDecompress(layer))).toBe("sha256:807f8dffbf399b4a0e0da098f592628fa9f658646145df7a87b4cb82b2c5ca65");
    const entries = await listLayerEntries(layer, MediaType.ociLayerTarZstd);
    const seq = Array.from({ length: 4000 }, (_, i) => `${i + 1}\n`).join("");
    expect(entries.map((e) => [e.name, e.type])).toEqual([
      ["bin", "directory"],
      ["bin/hello", "symlink"],
      ["bin/hi", "file"],
      ["etc", "directory"],
      ["etc/greeting", "file"],
      ["etc/text", "file"],
    ]);
    expect(entries.find((e) => e.name === "bin/hello")?.linkname).toBe("hi");
    expect(entries.find((e) => e.name === "bin/hi")).toMatchObject({ mode: 0o755, contentDigest: sha256("#!/bin/sh\necho hi\n") });
    expect(entries.find((e) => e.name === "etc/greeting")?.contentDigest).toBe(sha256("hello from a zstd layer\n"));
    expect(entries.find((e) => e.name === "etc/text")).toMatchObject({ size: seq.length, contentDigest: sha256(seq) });
  });

  it("decodes zstd the same with fzstd as with node:zlib, where node:zlib has zstd", () => {
    const layer = readFileSync(resolve(import.meta.dirname, "../../fixtures/oci/buildkit-v0.34.0-copy-layer.tar.zst"));
    const fromFzstd = Buffer.from(fzstdDecompress(layer));
    expect(sha256(fromFzstd)).toBe("sha256:807f8dffbf399b4a0e0da098f592628fa9f658646145df7a87b4cb82b2c5ca65");
    const nodeZstd = (zlib as { zstdDecompressSync?: (b: Buffer) => Buffer }).zstdDecompressSync;
    if (nodeZstd) expect(nodeZstd(layer).equals(fromFzstd)).toBe(true);
  });

  it("reads a layer of several frames whole, skipping skippable frames", async () => {
    const layer = readFileSync(resolve(import.meta.dirname, "../../fixtures/oci/buildkit-v0.34.0-copy-layer.tar.zst"));
    const whole = zstdDecompress(layer);
    const cut = 512 * 10;
    const frames = Buffer.concat([rawZstdFrame(whole.subarray(0, cut)), skippableFrame("a table of contents"), rawZstdFrame(whole.subarray(cut))]);
    expect(zstdDecompress(frames).equals(whole)).toBe(true);
    expect(zstdDecompress(Buffer.concat([layer, skippableFrame("toc")])).equals(whole)).toBe(true);
    expect((await listLayerEntries(frames, MediaType.ociLayerTarZstd)).map((e) => e.name)).toContain("etc/text");
  });

  it("fails on a truncated zstd layer instead of returning part of it", async () => {
    const layer = readFileSync(resolve(import.meta.dirname, "../../fixtures/oci/buildkit-v0.34.0-copy-layer.tar.zst"));
    await expect(listLayerEntries(layer.subarray(0, 4000), MediaType.ociLayerTarZstd)).rejects.toThrow();
  });

  it("keeps sub-second mtimes, PAX ids and hard links from tars other tools write", async () => {
    const p = pack();
    p.entry(
      { name: "./a.txt", mode: 0o644, mtime: new Date(1_700_000_000_000), pax: { mtime: "1700000000.123456789", uid: "100000" } } as Parameters<
        typeof p.entry
      >[0],
      "a",
    );
    p.entry({ name: "./b.txt", type: "link", linkname: "./a.txt", mode: 0o644, mtime: new Date(0) });
    p.entry({ name: "./dev/null", type: "character-device", mode: 0o666, devmajor: 1, devminor: 3, mtime: new Date(0) });
    p.entry({ name: "./fifo", type: "fifo", mode: 0o600, mtime: new Date(0) });
    p.finalize();
    const chunks: Buffer[] = [];
    for await (const chunk of p) chunks.push(chunk as Buffer);
    const entries = await listLayerEntries(Buffer.concat(chunks), MediaType.ociLayerTar);
    expect(entries[0]).toMatchObject({ name: "a.txt", uid: 100000, mtime: "2023-11-14T22:13:20.123456789Z", contentDigest: sha256("a") });
    expect(entries[0]!.mtimeEpochSeconds).toBeCloseTo(1_700_000_000.123457, 5);
    expect(entries[1]).toMatchObject({ name: "b.txt", type: "hardlink", linkname: "a.txt", mtime: "1970-01-01T00:00:00Z", mtimeEpochSeconds: 0 });
    expect(entries[2]).toMatchObject({ name: "dev/null", type: "char" });
    expect(entries[3]).toMatchObject({ name: "fifo", type: "fifo" });
  });
});
