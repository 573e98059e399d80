/**
 * openImageArchive on real archives (docker save from Docker 20.10 and 26.1, BuildKit's
 * oci and docker outputs, recorded in test/fixtures/archives) checked against what the
 * producing tool itself says (its metadata file, its manifest.json, GNU tar's view of the
 * files), and on hostile layouts that each break one thing.
 */
import { createHash } from "node:crypto";
import { linkSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { HarnessError } from "../../../harness/errors.ts";
import type { ImageArchive } from "../../../harness/oci/archive/image-archive.ts";
import { type ArchiveLimits, archiveLimits } from "../../../harness/oci/archive/limits.ts";
import { openImageArchive, readImageArchive } from "../../../harness/oci/archive/open.ts";
import { TarFiles } from "../../../harness/oci/archive/tar-files.ts";
import { type TarEntrySpec, writeDeterministicTar } from "../../../harness/oci/deterministic-tar.ts";
import { digestOf } from "../../../harness/oci/digest.ts";
import { MediaType } from "../../../harness/oci/types.ts";
import { buildImage, buildIndex, LAYER_A, layoutEntries, layoutTar } from "./layout-builder.ts";

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "../../fixtures/archives");
const scratch = mkdtempSync(join(tmpdir(), "image-archive-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function fromBuffer(tar: Buffer, overrides: Partial<ArchiveLimits> = {}): Promise<ImageArchive> {
  const limits = archiveLimits(overrides);
  return readImageArchive(TarFiles.fromBuffer(tar, "t.tar", limits), limits);
}

async function refusal(open: Promise<unknown>): Promise<HarnessError> {
  const err = await open.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err === undefined) throw new Error("the archive was accepted");
  expect(err).toBeInstanceOf(HarnessError);
  expect((err as HarnessError).code).toBe("IMAGE_ARCHIVE_INVALID");
  return err as HarnessError;
}

/** A file inside a tar, as GNU tar extracts it: an independent reader of the fixtures. */
async function memberOf(tar: string, name: string): Promise<string> {
  return (await execa("tar", ["-xOf", tar, name])).stdout;
}

const sha256 = (b: Buffer | string) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

describe("real archives", () => {
  it("docker save from Docker 26 (manifest.json plus an OCI layout): the layout's manifest, names from both halves", async () => {
    const path = join(FIXTURES, "docker/docker-26.1.5-save.tar");
    const archive = await openImageArchive(path);
    expect(archive.format).toBe("docker-save-oci");
    const index = JSON.parse(await memberOf(path, "index.json")) as { manifests: Array<{ digest: string }> };
    const dockerManifest = JSON.parse(await memberOf(path, "manifest.json")) as Array<{ Config: string; RepoTags: string[]; Layers: string[] }>;
    expect(archive.images).toHaveLength(1);
    const image = archive.image("buildkit-repro-fixture/two-layers:v1");
    expect(image.descriptor.digest).toBe(index.manifests[0]!.digest);
    expect(image.manifestOrigin).toBe("archive");
    expect(image.names).toEqual(expect.arrayContaining(["v1", "docker.io/buildkit-repro-fixture/two-layers:v1", "buildkit-repro-fixture/two-layers:v1"]));
    const { manifest } = await archive.manifest(image.descriptor.digest);
    expect("config" in manifest && `blobs/${manifest.config.digest.replace(":", "/")}`).toBe(dockerManifest[0]!.Config);
    expect(archive.warnings).toEqual([]);
  });

  it("docker save from Docker 20.10 (no manifest): one constructed schema2 manifest over the stored config and layer tars", async () => {
    const path = join(FIXTURES, "docker/docker-20.10.24-save.tar");
    const archive = await openImageArchive(path);
    expect(archive.format).toBe("docker-save-legacy");
    const dockerManifest = JSON.parse(await memberOf(path, "manifest.json")) as Array<{ Config: string; RepoTags: string[]; Layers: string[] }>;
    const configText = await memberOf(path, dockerManifest[0]!.Config);
    const config = JSON.parse(configText) as { rootfs: { diff_ids: string[] } };
    const image = archive.image();
    expect(image.names).toEqual(dockerManifest[0]!.RepoTags);
    expect(image.manifestOrigin).toBe("constructed");
    expect(image.descriptor.mediaType).toBe(MediaType.dockerManifest);
    const { manifest, bytes } = await archive.manifest("buildkit-repro-fixture/two-layers:v1");
    if (!("config" in manifest)) throw new Error("expected an image manifest");
    // Docker names the config after its own digest, and the layer tars are the diff_ids.
    expect(manifest.config).toEqual({
      mediaType: MediaType.dockerConfig,
      digest: `sha256:${dockerManifest[0]!.Config.replace(".json", "")}`,
      size: Buffer.byteLength(configText),
    });
    expect(manifest.layers.map((l) => l.digest)).toEqual(config.rootfs.diff_ids);
    expect(manifest.layers.every((l) => l.mediaType === MediaType.dockerLayerTar)).toBe(true);
    // Deterministic: the same archive gives the same manifest bytes.
    expect((await (await openImageArchive(path)).manifest(image.descriptor.digest)).bytes.equals(bytes)).toBe(true);
  });

  it("a gzipped docker save reads like the plain one", async () => {
    const plain = await openImageArchive(join(FIXTURES, "docker/docker-20.10.24-save.tar"));
    const gz = join(scratch, "docker-save.tar.gz");
    writeFileSync(gz, gzipSync(readFileSync(join(FIXTURES, "docker/docker-20.10.24-save.tar"))));
    const zipped = await openImageArchive(gz);
    expect(zipped.images).toEqual(plain.images);
  });

  for (const version of ["v0.13.2", "v0.34.0"]) {
    const dir = join(FIXTURES, "buildkit", version);
    const metadata = (name: string) => JSON.parse(readFileSync(join(dir, `${name}.metadata.json`), "utf8")) as Record<string, string>;

    it(`BuildKit ${version} type=oci (tar and directory): the manifest and config digests its metadata file reports`, async () => {
      for (const [name, path] of [
        ["oci.tar", join(dir, "oci.tar")],
        ["oci-dir", join(dir, "oci-dir")],
      ] as const) {
        const archive = await openImageArchive(path);
        expect(archive.format).toBe("oci-layout");
        const image = archive.image();
        expect(image.descriptor.digest).toBe(metadata(name)["containerimage.digest"]);
        const { manifest } = await archive.manifest(image.descriptor.digest);
        expect("config" in manifest && manifest.config.digest).toBe(metadata(name)["containerimage.config.digest"]);
      }
      expect((await openImageArchive(join(dir, "oci.tar"))).image().names).toEqual(["latest", "docker.io/library/fixture:latest"]);
    });

    it(`BuildKit ${version} type=docker: manifest.json and the layout agree, digests as its metadata file reports`, async () => {
      const archive = await openImageArchive(join(dir, "docker.tar"));
      expect(archive.format).toBe("docker-save-oci");
      const image = archive.image("fixture:latest");
      expect(image.descriptor.digest).toBe(metadata("docker.tar")["containerimage.digest"]);
    });
  }
});

describe("layouts built for the test", () => {
  it("an index of two platforms: content children first, each blob once, manifests per platform", async () => {
    const amd = buildImage();
    const arm = buildImage({ platform: { os: "linux", architecture: "arm64" }, layers: [LAYER_A] });
    const index = buildIndex([amd, arm]);
    const entries = layoutEntries({
      images: [amd, arm],
      index: () => ({ schemaVersion: 2, manifests: [{ ...index.descriptor, annotations: { "org.opencontainers.image.ref.name": "multi" } }] }),
    });
    entries.push({ type: "file", path: `blobs/sha256/${index.digest.slice(7)}`, mode: 0o644, content: index.bytes });
    const archive = await fromBuffer(writeDeterministicTar(entries));
    const image = archive.image("multi");
    expect(image.descriptor.digest).toBe(index.digest);
    const content = archive.contentOf(image);
    const order = content.map((c) => c.descriptor.digest);
    expect(new Set(order).size).toBe(order.length);
    expect(order.at(-1)).toBe(index.digest);
    expect(order.indexOf(amd.configDigest)).toBeLessThan(order.indexOf(amd.manifestDigest));
    expect(order.indexOf(amd.layerDigests[0]!)).toBeLessThan(order.indexOf(amd.manifestDigest));
    expect(order.indexOf(amd.layerDigests[0]!)).toBeLessThan(order.indexOf(arm.manifestDigest)); // shared layer, listed once
    expect(archive.manifestsOf(image).map((m) => m.digest)).toEqual([amd.manifestDigest, arm.manifestDigest]);
    expect(() => archive.image("nope\u001b[2J")).toThrow(/no image named "nope\\u001b\[2J"/);
  });

  it("an attestation manifest (in-toto layers) next to the image, as BuildKit writes provenance", async () => {
    const amd = buildImage();
    const statement = Buffer.from('{"_type":"https://in-toto.io/Statement/v0.1"}');
    const attestation = buildImage({
      layers: [statement],
      config: (c) => ({ ...c, architecture: "unknown", os: "unknown" }),
      manifest: (m) => ({ ...m, layers: [{ mediaType: MediaType.inTotoStatement, digest: digestOf(statement), size: statement.length }] }),
    });
    const attestationDescriptor = {
      mediaType: MediaType.ociManifest,
      digest: attestation.manifestDigest,
      size: attestation.manifestBytes.length,
      annotations: { "vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": amd.manifestDigest },
    };
    const index = buildIndex([amd], { manifests: [amd.descriptor, attestationDescriptor] });
    const entries = layoutEntries({ images: [amd, attestation], index: () => ({ schemaVersion: 2, manifests: [index.descriptor] }) });
    entries.push({ type: "file", path: `blobs/sha256/${index.digest.slice(7)}`, mode: 0o644, content: index.bytes });
    const archive = await fromBuffer(writeDeterministicTar(entries));
    expect(archive.manifestsOf(archive.image()).map((m) => m.digest)).toEqual([amd.manifestDigest, attestation.manifestDigest]);
    expect(archive.contentOf(archive.image()).map((c) => c.descriptor.digest)).toContain(digestOf(statement));
  });

  it("a directory layout reads like the tar, and never follows links", async () => {
    const dir = join(scratch, "layout-dir");
    writeLayoutDir(dir, layoutEntries());
    const fromDir = await openImageArchive(dir);
    const fromTar = await fromBuffer(layoutTar());
    expect(fromDir.images).toEqual(fromTar.images);

    const linked = join(scratch, "layout-linked");
    symlinkSync(dir, linked);
    expect((await refusal(openImageArchive(linked))).message).toMatch(/is a symbolic link/);
  });

  it("gzip layers: diff_ids verified by decompressing, nothing left unverified", async () => {
    const archive = await fromBuffer(layoutTar({ images: [buildImage({ gzip: true })] }));
    expect(archive.warnings).toEqual([]);
  });
});

describe("refusals", () => {
  const image = buildImage();
  const [layerA] = image.layerDigests as [string, string];
  const secret = "SECRET-CONTENT-4711";

  const cases: Array<[string, () => Buffer, RegExp, Partial<ArchiveLimits>?]> = [
    [
      "a blob whose bytes do not match its digest",
      () => layoutTar({ replace: { [layerA]: Buffer.alloc(LAYER_A.length, 1) } }),
      /has digest sha256:[0-9a-f]{64}, not the sha256:/,
    ],
    [
      "a descriptor whose size is wrong",
      () =>
        layoutTar({
          images: [
            buildImage({
              manifest: (m) => ({ ...m, layers: (m.layers as Array<{ size: number }>).map((l, i) => (i === 0 ? { ...l, size: l.size + 1 } : l)) }),
            }),
          ],
        }),
      /is 2048 bytes, but blobs\/sha256\/[0-9a-f]{64} declares 2049/,
    ],
    ["a missing blob", () => layoutTar({ drop: [image.configDigest] }), /references sha256:[0-9a-f]{64} \(config\), which is not in the archive/],
    [
      "index.json listing a layer",
      () => layoutTar({ index: (m) => ({ schemaVersion: 2, manifests: m.map((d) => ({ ...d, mediaType: MediaType.ociLayerTar })) }) }),
      /"index.json": manifests\[0\] has media type application\/vnd.oci.image.layer.v1.tar, which is neither/,
    ],
    [
      "an unknown layer media type",
      () =>
        layoutTar({
          images: [buildImage({ manifest: (m) => ({ ...m, layers: (m.layers as object[]).map((l) => ({ ...l, mediaType: "application/x-evil" })) }) })],
        }),
      /layers\[0\] has media type application\/x-evil; accepted: /,
    ],
    [
      "a foreign layer (urls)",
      () =>
        layoutTar({
          images: [buildImage({ manifest: (m) => ({ ...m, layers: (m.layers as object[]).map((l) => ({ ...l, urls: ["http://172.17.0.1/x"] })) }) })],
        }),
      /layers\[0\] has "urls": a foreign layer, which BuildKit would fetch from the network/,
    ],
    [
      "a config whose diff_id is not the uncompressed layer",
      () => layoutTar({ images: [buildImage({ config: (c) => ({ ...c, rootfs: { type: "layers", diff_ids: [digestOf("x"), digestOf("y")] } }) })] }),
      /is an uncompressed layer, so its diff_id should be its digest sha256:[0-9a-f]{64}, but the config says/,
    ],
    [
      "a gzip layer whose diff_id is wrong",
      () =>
        layoutTar({ images: [buildImage({ gzip: true, config: (c) => ({ ...c, rootfs: { type: "layers", diff_ids: [digestOf("x"), digestOf("y")] } }) })] }),
      /decompresses to sha256:[0-9a-f]{64}, but the config's diff_id for it is/,
    ],
    [
      "a gzip bomb",
      () => layoutTar({ images: [buildImage({ gzip: true, layers: [Buffer.alloc(4 * 1024 * 1024)] })] }),
      /decompresses to more than 1 MiB/,
      { maxUncompressedLayerBytes: 1024 * 1024 },
    ],
    [
      "a config with fewer diff_ids than layers",
      () => layoutTar({ images: [buildImage({ config: (c) => ({ ...c, rootfs: { type: "layers", diff_ids: [] } }) })] }),
      /lists 0 diff_ids, but the manifest sha256:[0-9a-f]{64} has 2 layers/,
    ],
    [
      "a manifest that calls itself something else",
      () => layoutTar({ images: [buildImage({ manifest: (m) => ({ ...m, mediaType: MediaType.dockerManifest }) })] }),
      /says its mediaType is "application\/vnd.docker.distribution.manifest.v2\+json", but it is referenced as application\/vnd.oci.image.manifest.v1\+json/,
    ],
    ["index.json that is not JSON", () => writeDeterministicTar(replaceFile(layoutEntries(), "index.json", `{${secret}`)), /"index.json": is not valid JSON/],
    ["an unknown layout version", () => layoutTar({ layoutFile: '{"imageLayoutVersion":"2.0.0"}' }), /"oci-layout": is not \{"imageLayoutVersion": "1.0.0"\}/],
    [
      "a digest that walks out of blobs/",
      () => layoutTar({ index: (m) => ({ schemaVersion: 2, manifests: m.map((d) => ({ ...d, digest: "sha256:../../../../etc/passwd" })) }) }),
      /names a digest that is not sha256 or sha512 in lowercase hex/,
    ],
    [
      "an uppercase digest",
      () =>
        layoutTar({
          index: (m) => ({ schemaVersion: 2, manifests: m.map((d) => ({ ...d, digest: String(d.digest).toUpperCase().replace("SHA256", "sha256") })) }),
        }),
      /not sha256 or sha512 in lowercase hex/,
    ],
    [
      "a layer larger than allowed",
      () => layoutTar(),
      /"blobs\/sha256\/[0-9a-f]{64}": is 2048 bytes, more than the 1000 bytes allowed for one file/,
      { maxBlobBytes: 1000 },
    ],
    [
      "a descriptor announcing a huge layer, refused before reading",
      () => layoutTar({ images: [buildImage({ manifest: (m) => ({ ...m, layers: (m.layers as object[]).map((l) => ({ ...l, size: 2 ** 40 })) }) })] }),
      /is declared as 1048576 MiB, more than the 128 MiB allowed for a layer/,
    ],
    [
      "a manifest larger than allowed",
      () => layoutTar({ images: [buildImage({ manifest: (m) => ({ ...m, annotations: { padding: "p".repeat(2000) } }) })] }),
      /"blobs\/sha256\/[0-9a-f]{64}": is declared as 2[0-9]{3} bytes, more than the 1500 bytes allowed for a manifest/,
      { maxJsonBytes: 1500 },
    ],
    [
      "embedded data that differs from the blob",
      () => layoutTar({ index: (m) => ({ schemaVersion: 2, manifests: m.map((d) => ({ ...d, data: Buffer.from("other").toString("base64") })) }) }),
      /embeds data for sha256:[0-9a-f]{64} that differs from the blob/,
    ],
    [
      "an in-toto layer outside an attestation manifest",
      () =>
        layoutTar({
          images: [buildImage({ manifest: (m) => ({ ...m, layers: (m.layers as object[]).map((l) => ({ ...l, mediaType: MediaType.inTotoStatement })) }) })],
        }),
      /layers\[0\] has media type application\/vnd.in-toto\+json/,
    ],
    [
      "neither a layout nor a docker save",
      () => writeDeterministicTar([{ type: "file", path: "README", mode: 0o644, content: "x" }]),
      /is neither an OCI image layout/,
    ],
  ];

  it.each(cases)("%s", async (_what, tar, message, overrides) => {
    const err = await refusal(fromBuffer(tar(), overrides));
    expect(err.message).toMatch(message);
    expect(err.message.startsWith("t.tar")).toBe(true);
    expect(err.describe()).not.toContain(secret);
  });

  it("more blobs than allowed (a layout directory has no member count to stop it first)", async () => {
    const dir = join(scratch, "many-blobs");
    writeLayoutDir(dir, layoutEntries());
    expect((await openImageArchive(dir)).images).toHaveLength(1);
    expect((await refusal(openImageArchive(dir, { limits: { maxEntries: 3 } }))).message).toMatch(/: references more than 3 blobs/);
  });

  it("nested indexes deeper than allowed", async () => {
    const inner = buildIndex([image]);
    const outer = buildIndex([], { manifests: [inner.descriptor] });
    const entries = layoutEntries({ images: [image], index: () => ({ schemaVersion: 2, manifests: [outer.descriptor] }) });
    for (const x of [inner, outer]) entries.push({ type: "file", path: `blobs/sha256/${x.digest.slice(7)}`, mode: 0o644, content: x.bytes });
    expect((await fromBuffer(writeDeterministicTar(entries))).images).toHaveLength(1);
    expect((await refusal(fromBuffer(writeDeterministicTar(entries), { maxIndexDepth: 1 }))).message).toMatch(/nests indexes deeper than 1/);
  });

  it("a layout directory with a linked blob, a linked folder, a FIFO or a hard link", async () => {
    const base = join(scratch, "hostile-dirs");
    const make = (name: string) => {
      const dir = join(base, name);
      writeLayoutDir(dir, layoutEntries());
      return dir;
    };
    const blob = (dir: string, digest: string) => join(dir, "blobs/sha256", digest.slice(7));

    const linkedBlob = make("linked-blob");
    const target = join(base, "outside");
    writeFileSync(target, readFileSync(blob(linkedBlob, image.configDigest)));
    rmSync(blob(linkedBlob, image.configDigest));
    symlinkSync(target, blob(linkedBlob, image.configDigest));
    expect((await refusal(openImageArchive(linkedBlob))).message).toMatch(/"blobs\/sha256\/[0-9a-f]{64}": is a symbolic link; links are never followed/);

    const linkedFolder = make("linked-folder");
    const real = join(base, "real-blobs");
    renameSync(join(linkedFolder, "blobs"), real);
    symlinkSync(real, join(linkedFolder, "blobs"));
    expect((await refusal(openImageArchive(linkedFolder))).message).toMatch(/"blobs": is a symbolic link/);

    const fifo = make("fifo");
    rmSync(join(fifo, "index.json"));
    await execa("mkfifo", [join(fifo, "index.json")]);
    const started = Date.now();
    // Refused from its type, never opened: opening a FIFO for reading would block.
    expect((await refusal(openImageArchive(fifo))).message).toMatch(/"index.json": is not a regular file/);
    expect(Date.now() - started).toBeLessThan(2000);

    const hard = make("hard-link");
    linkSync(blob(hard, image.configDigest), join(base, "second-name"));
    expect((await refusal(openImageArchive(hard))).message).toMatch(/has 2 hard links/);
  });

  it("the total bound: a tar file, a gzipped tar that inflates, and the files read from a directory", async () => {
    const tar = layoutTar();
    const path = join(scratch, "total.tar");
    writeFileSync(path, tar);
    expect((await refusal(openImageArchive(path, { limits: { maxTotalBytes: 4096 } }))).message).toMatch(/is \d+ bytes, more than the 4096 bytes allowed/);
    const gz = join(scratch, "total.tar.gz");
    writeFileSync(gz, gzipSync(tar));
    expect(readFileSync(gz).length).toBeLessThan(4096);
    expect((await refusal(openImageArchive(gz, { limits: { maxTotalBytes: 4096 } }))).message).toMatch(/decompresses to more than 4096 bytes/);
    const dir = join(scratch, "total-dir");
    writeLayoutDir(dir, layoutEntries());
    expect((await refusal(openImageArchive(dir, { limits: { maxTotalBytes: 2500 } }))).message).toMatch(
      /would bring the files read to \d+ bytes, more than the 2500 bytes allowed/,
    );
  });

  it("an archive path that is a link, or that does not exist", async () => {
    const tar = join(scratch, "real.tar");
    writeFileSync(tar, layoutTar());
    symlinkSync(tar, join(scratch, "link.tar"));
    expect((await refusal(openImageArchive(join(scratch, "link.tar")))).message).toMatch(/is a symbolic link/);
    expect((await refusal(openImageArchive(join(scratch, "absent.tar")))).message).toMatch(/does not exist/);
    await execa("mkfifo", [join(scratch, "fifo.tar")]);
    expect((await refusal(openImageArchive(join(scratch, "fifo.tar")))).message).toMatch(/is not a regular file/);
    expect((await openImageArchive(tar)).images).toHaveLength(1);
  });
});

describe("docker save refusals", () => {
  const legacy = (manifestJson: unknown, files: TarEntrySpec[]) =>
    writeDeterministicTar([{ type: "file", path: "manifest.json", mode: 0o644, content: JSON.stringify(manifestJson) }, ...files]);
  const config = JSON.stringify({ os: "linux", architecture: "amd64", rootfs: { type: "layers", diff_ids: [sha256(LAYER_A)] } });
  const configFile = `${sha256(config).slice(7)}.json`;
  const good: TarEntrySpec[] = [
    { type: "file", path: configFile, mode: 0o644, content: config },
    { type: "file", path: "l1/layer.tar", mode: 0o644, content: LAYER_A },
  ];

  it("accepts the well-formed legacy archive these cases break", async () => {
    const archive = await fromBuffer(legacy([{ Config: configFile, RepoTags: ["x:1"], Layers: ["l1/layer.tar"] }], good));
    expect(archive.image("x:1").manifestOrigin).toBe("constructed");
  });

  const cases: Array<[string, () => Buffer, RegExp]> = [
    [
      "a layer path that walks out",
      () => legacy([{ Config: configFile, RepoTags: [], Layers: ["../../etc/passwd"] }], good),
      /"..\/..\/etc\/passwd": contains a ".." component/,
    ],
    ["an absolute config path", () => legacy([{ Config: "/etc/shadow", RepoTags: [], Layers: [] }], good), /"\/etc\/shadow": is an absolute name/],
    [
      "a config named after another digest",
      () =>
        legacy(
          [{ Config: `${"0".repeat(64)}.json`, RepoTags: [], Layers: ["l1/layer.tar"] }],
          [...good, { type: "file", path: `${"0".repeat(64)}.json`, mode: 0o644, content: config }],
        ),
      /is named after sha256:0{64} but its content has digest/,
    ],
    [
      "a layer that is not in the archive",
      () => legacy([{ Config: configFile, RepoTags: [], Layers: ["l2/layer.tar"] }], good),
      /entry \[0\] names "l2\/layer.tar", which is not in the archive/,
    ],
    [
      "more layers than diff_ids",
      () => legacy([{ Config: configFile, RepoTags: [], Layers: ["l1/layer.tar", "l1/layer.tar"] }], good),
      /entry \[0\] lists 2 layers, but its config has 1 diff_ids/,
    ],
    [
      "a foreign layer source",
      () =>
        legacy(
          [
            {
              Config: configFile,
              RepoTags: [],
              Layers: ["l1/layer.tar"],
              LayerSources: {
                [sha256(LAYER_A)]: {
                  mediaType: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
                  digest: sha256(LAYER_A),
                  size: 1,
                  urls: ["https://example.com/x"],
                },
              },
            },
          ],
          good,
        ),
      /LayerSources\[sha256:[0-9a-f]{64}\] has "urls"/,
    ],
    ["manifest.json that is not an array", () => legacy({ Config: configFile }, good), /"manifest.json": is not a JSON array of images/],
    [
      "a tampered layer (diff_id mismatch)",
      () =>
        legacy(
          [{ Config: configFile, RepoTags: [], Layers: ["l1/layer.tar"] }],
          [good[0]!, { type: "file", path: "l1/layer.tar", mode: 0o644, content: Buffer.concat([LAYER_A, Buffer.alloc(512)]) }],
        ),
      /so its diff_id should be its digest/,
    ],
  ];
  it.each(cases)("%s", async (_what, tar, message) => {
    expect((await refusal(fromBuffer(tar()))).message).toMatch(message);
  });

  it("Docker 25+ archives whose manifest.json disagrees with the layout", async () => {
    const entries = layoutEntries();
    entries.push({
      type: "file",
      path: "manifest.json",
      mode: 0o644,
      content: JSON.stringify([{ Config: `blobs/sha256/${"1".repeat(64)}`, RepoTags: ["x:1"], Layers: [] }]),
    });
    expect((await refusal(fromBuffer(writeDeterministicTar(entries)))).message).toMatch(
      /entry \[0\] names a config and layers that no manifest of index.json has/,
    );
  });
});

function writeLayoutDir(dir: string, entries: TarEntrySpec[]): void {
  for (const entry of entries) {
    if (entry.type !== "file") continue;
    mkdirSync(dirname(join(dir, entry.path)), { recursive: true });
    writeFileSync(join(dir, entry.path), entry.content);
  }
}

function replaceFile(entries: TarEntrySpec[], path: string, content: string): TarEntrySpec[] {
  return entries.map((e) => (e.path === path && e.type === "file" ? { ...e, content } : e));
}
