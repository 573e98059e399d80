/**
 * Observing build outputs: BuildKit's recorded oci/docker/tar outputs (test/fixtures/
 * archives/buildkit), checked against what is known independently of the reader: the
 * metadata file BuildKit wrote, the build context's file, the SOURCE_DATE_EPOCH the
 * build was given (1700000000, see record.ts); and file trees made by the test itself.
 */
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { observeImageOutput } from "../../../harness/oci/build-output.ts";
import { listFileTree } from "../../../harness/oci/file-tree.ts";
import { sameLayerBlob } from "../../../harness/oci/image-observation.ts";
import { MediaType } from "../../../harness/oci/types.ts";

const here = dirname(fileURLToPath(import.meta.url));
const FIXTURES = join(here, "../../fixtures/archives/buildkit");
const CONTEXT_FILE = join(here, "../../../scenarios/rewrite-timestamp-padded-base-layer/context/hello.txt");
const EPOCH_ISO = "2023-11-14T22:13:20Z";
const sha256 = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const scratch = mkdtempSync(join(tmpdir(), "build-output-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("observeImageOutput", () => {
  for (const version of ["v0.13.2", "v0.34.0"]) {
    const metadata = (name: string) => JSON.parse(readFileSync(join(FIXTURES, version, `${name}.metadata.json`), "utf8")) as Record<string, unknown>;

    it(`${version} type=oci: digests as the metadata file says, the COPY layer holds the context's file`, async () => {
      const out = await observeImageOutput(join(FIXTURES, version, "oci.tar"), { entries: true });
      expect(out.format).toBe("oci-layout");
      expect(out.images).toHaveLength(1);
      const image = out.images[0]!;
      const md = metadata("oci.tar");
      expect(image.manifestDigest).toBe(md["containerimage.digest"]);
      expect(image.configDigest).toBe(md["containerimage.config.digest"]);
      expect(image.names).toContain("docker.io/library/fixture:latest");
      expect(image.layers).toHaveLength(2);
      expect(image.layers.map((l) => l.diffId)).toEqual(image.config.rootfs.diff_ids);
      const hello = image.layers[1]!.entries!.find((e) => e.name === "hello.txt");
      expect(hello).toMatchObject({ type: "file", contentDigest: sha256(readFileSync(CONTEXT_FILE)) });
    });

    it(`${version} type=docker: the same config and layer blobs as type=oci`, async () => {
      const oci = (await observeImageOutput(join(FIXTURES, version, "oci.tar"))).images[0]!;
      const docker = await observeImageOutput(join(FIXTURES, version, "docker.tar"));
      expect(docker.format).toBe("docker-save-oci");
      const image = docker.images[0]!;
      expect(image.manifestDigest).toBe(metadata("docker.tar")["containerimage.digest"]);
      expect(image.configDigest).toBe(oci.configDigest);
      for (const [i, layer] of image.layers.entries()) expect(sameLayerBlob(layer, oci.layers[i]!, "equivalent")).toBe(true);
    });

    it(`${version} type=tar: a file tree dated by SOURCE_DATE_EPOCH`, async () => {
      const tree = await listFileTree(join(FIXTURES, version, "rootfs.tar"));
      expect(tree.form).toBe("tar");
      expect(tree.entries.map((e) => e.name)).toEqual(["etc", "etc/os-release", "hello.txt", "usr", "usr/share", "usr/share/base.txt"]);
      expect(new Set(tree.entries.map((e) => e.mtime))).toEqual(new Set([EPOCH_ISO]));
      expect(tree.entries.find((e) => e.name === "hello.txt")?.contentDigest).toBe(sha256(readFileSync(CONTEXT_FILE)));
    });
  }

  it("v0.13.2 type=docker writes Docker media types, v0.34.0 OCI ones", async () => {
    const old = (await observeImageOutput(join(FIXTURES, "v0.13.2/docker.tar"))).images[0]!;
    const current = (await observeImageOutput(join(FIXTURES, "v0.34.0/docker.tar"))).images[0]!;
    expect(old.manifestMediaType).toBe(MediaType.dockerManifest);
    expect(current.manifestMediaType).toBe(MediaType.ociManifest);
  });
});

describe("listFileTree on a directory (type=local)", () => {
  it("lists every entry sorted, with modes, mtimes and content digests, and does not follow links", async () => {
    const root = join(scratch, "local");
    mkdirSync(join(root, "etc"), { recursive: true });
    writeFileSync(join(root, "etc/config"), "value\n", { mode: 0o640 });
    writeFileSync(join(root, "b.txt"), "b");
    symlinkSync("/etc/shadow", join(root, "a-link"));
    utimesSync(join(root, "etc/config"), 1_700_000_000, 1_700_000_000);
    utimesSync(join(root, "b.txt"), 4_102_444_800, 4_102_444_800);
    const tree = await listFileTree(root);
    expect(tree.form).toBe("directory");
    expect(tree.entries.map((e) => [e.name, e.type])).toEqual([
      ["a-link", "symlink"],
      ["b.txt", "file"],
      ["etc", "directory"],
      ["etc/config", "file"],
    ]);
    const byName = new Map(tree.entries.map((e) => [e.name, e]));
    expect(byName.get("a-link")).toMatchObject({ linkname: "/etc/shadow", size: 0 });
    expect(byName.get("a-link")?.contentDigest).toBeUndefined();
    expect(byName.get("etc/config")).toMatchObject({ mode: 0o640, mtime: EPOCH_ISO, size: 6, contentDigest: sha256(Buffer.from("value\n")) });
    expect(byName.get("b.txt")).toMatchObject({ mtime: "2100-01-01T00:00:00Z", mtimeEpochSeconds: 4_102_444_800 });
  });

  it("stops at its bounds", async () => {
    const root = join(scratch, "bounded");
    mkdirSync(root);
    for (const n of ["a", "b", "c"]) writeFileSync(join(root, n), "0123456789");
    await expect(listFileTree(root, { maxEntries: 2, maxTotalBytes: 1000 })).rejects.toMatchObject({
      code: "BUILD_OUTPUT_UNREADABLE",
      message: expect.stringMatching(/more than 2 entries/),
    });
    await expect(listFileTree(root, { maxEntries: 10, maxTotalBytes: 15 })).rejects.toThrow(/more than 15 bytes/);
  });
});

describe("sameLayerBlob", () => {
  const oci = { digest: "sha256:a", size: 1, mediaType: MediaType.ociLayerTarGzip };
  it("tells a relabelled layer from a rewritten one", () => {
    const relabelled = { ...oci, mediaType: MediaType.dockerLayerTarGzip };
    expect(sameLayerBlob(oci, relabelled)).toBe(false);
    expect(sameLayerBlob(oci, relabelled, "equivalent")).toBe(true);
    expect(sameLayerBlob(oci, { ...oci, mediaType: MediaType.ociLayerTar }, "equivalent")).toBe(false);
    expect(sameLayerBlob(oci, { ...oci, digest: "sha256:b" }, "equivalent")).toBe(false);
    expect(sameLayerBlob(oci, { ...oci, size: 2 }, "equivalent")).toBe(false);
  });
});
