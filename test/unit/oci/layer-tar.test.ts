import { createHash } from "node:crypto";
import * as zlib from "node:zlib";
import { pack } from "tar-stream";
import { describe, expect, it } from "vitest";
import { HarnessError } from "../../../harness/errors.ts";
import { type TarEntrySpec, writeDeterministicTar } from "../../../harness/oci/deterministic-tar.ts";
import { listLayerEntries } from "../../../harness/oci/layer-entries.ts";
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
    await expect(listLayerEntries(tar, MediaType.ociLayerTarGzip)).rejects.toMatchObject({ code: "LAYER_FORMAT_UNSUPPORTED" });
    await expect(listLayerEntries(zlib.gzipSync(tar), MediaType.ociLayerTar)).rejects.toBeInstanceOf(HarnessError);
  });

  it("reads zstd where node:zlib has it, else says which Node to use", async () => {
    const zstd = (zlib as { zstdCompressSync?: (b: Buffer) => Buffer }).zstdCompressSync;
    if (zstd) {
      await checkRoundTrip(zstd(tar), MediaType.ociLayerTarZstd);
      return;
    }
    const frame = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]);
    const err = await listLayerEntries(frame, MediaType.ociLayerTarZstd).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HarnessError);
    expect((err as HarnessError).code).toBe("LAYER_FORMAT_UNSUPPORTED");
    expect((err as HarnessError).hint).toMatch(/Node >= 22\.15/);
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
