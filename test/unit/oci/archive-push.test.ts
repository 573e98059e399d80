/**
 * pushArchiveImage against a real registry (Debian's docker-registry): what comes back
 * from the registry is, byte for byte, what the archive holds, under the digests the
 * archive's own index.json names.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { archiveLimits } from "../../../harness/oci/archive/limits.ts";
import { openImageArchive, readImageArchive } from "../../../harness/oci/archive/open.ts";
import { pushArchiveImage } from "../../../harness/oci/archive/push.ts";
import { TarFiles } from "../../../harness/oci/archive/tar-files.ts";
import { RegistryRepository } from "../../../harness/oci/content-store.ts";
import { writeDeterministicTar } from "../../../harness/oci/deterministic-tar.ts";
import { observeImage } from "../../../harness/oci/image-observation.ts";
import type { RegistryClient } from "../../../harness/oci/registry-client.ts";
import { MediaType } from "../../../harness/oci/types.ts";
import { buildImage, buildIndex, LAYER_A, layoutEntries } from "./layout-builder.ts";
import { type LocalRegistry, startLocalRegistry } from "./local-registry.ts";

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "../../fixtures/archives");
let local: LocalRegistry | undefined;
let startError: Error | undefined;

beforeAll(async () => {
  try {
    local = await startLocalRegistry();
  } catch (err) {
    startError = err as Error;
  }
}, 30_000);
afterAll(async () => {
  await local?.stop();
});

function registry(): RegistryClient {
  if (startError) throw startError;
  return local!.client;
}

describe("pushArchiveImage", () => {
  it("pushes Docker 26's docker save under the digest its index.json names; every blob reads back identical", async () => {
    const path = join(FIXTURES, "docker/docker-26.1.5-save.tar");
    const archive = await openImageArchive(path, { description: "docker-26.tar" });
    const index = JSON.parse((await execa("tar", ["-xOf", path, "index.json"])).stdout) as { manifests: Array<{ digest: string }> };
    const pushed = await pushArchiveImage(registry(), archive, { repo: "scenario/docker26", image: "buildkit-repro-fixture/two-layers:v1" });
    expect(pushed.digest).toBe(index.manifests[0]!.digest);
    expect(pushed.manifestDigest).toBe(pushed.digest);
    expect(pushed.indexDigest).toBeUndefined();
    expect(pushed.manifestOrigin).toBe("archive");
    expect(pushed.description).toMatch(/^docker-26.tar \(docker-save-oci\), image v1: every manifest and blob pushed byte for byte$/);

    const stored = await registry().getManifest("scenario/docker26", "latest");
    expect(stored.digest).toBe(pushed.digest);
    expect(stored.bytes.equals((await archive.manifest(pushed.digest)).bytes)).toBe(true);
    for (const layer of pushed.layers)
      expect((await registry().getBlob("scenario/docker26", layer.digest)).equals(await archive.blob(layer.digest))).toBe(true);
  });

  it("pushes a legacy docker save with the constructed schema2 manifest, and says so", async () => {
    const archive = await openImageArchive(join(FIXTURES, "docker/docker-20.10.24-save.tar"), { description: "docker-20.tar" });
    const pushed = await pushArchiveImage(registry(), archive, { repo: "scenario/docker20", tag: "v1" });
    expect(pushed.manifestOrigin).toBe("constructed");
    expect(pushed.mediaType).toBe(MediaType.dockerManifest);
    expect(pushed.description).toMatch(/a Docker schema2 manifest was constructed by the harness from manifest.json/);
    const image = await registry().resolveImageManifest("scenario/docker20", "v1");
    expect(image.manifestDigest).toBe(pushed.digest);
    expect(image.manifest.layers).toEqual(pushed.layers);
    // The layer tars went in as they are: blob digest = diff_id.
    const { config } = await registry().getConfig("scenario/docker20", image.manifest);
    expect(pushed.layers.map((l) => l.digest)).toEqual(config.rootfs.diff_ids);
  });

  it("pushes a multi-platform index with its children by digest; layers are the asked platform's", async () => {
    const amd = buildImage();
    const arm = buildImage({ platform: { os: "linux", architecture: "arm64" }, layers: [LAYER_A] });
    const index = buildIndex([amd, arm]);
    const entries = layoutEntries({ images: [amd, arm], index: () => ({ schemaVersion: 2, manifests: [index.descriptor] }) });
    entries.push({ type: "file", path: `blobs/sha256/${index.digest.slice(7)}`, mode: 0o644, content: index.bytes });
    const limits = archiveLimits();
    const archive = await readImageArchive(TarFiles.fromBuffer(writeDeterministicTar(entries), "multi.tar", limits), limits);

    const pushed = await pushArchiveImage(registry(), archive, { repo: "scenario/multi", platform: { os: "linux", architecture: "arm64" } });
    expect(pushed.digest).toBe(index.digest);
    expect(pushed.indexDigest).toBe(index.digest);
    expect(pushed.manifestDigest).toBe(arm.manifestDigest);
    expect(pushed.layers.map((l) => l.digest)).toEqual(arm.layerDigests);
    expect((await registry().getManifest("scenario/multi", amd.manifestDigest)).bytes.equals(amd.manifestBytes)).toBe(true);
    expect((await registry().getManifest("scenario/multi", index.digest)).bytes.equals(index.bytes)).toBe(true);
  });

  it("gives the same observation from the registry as from the archive", async () => {
    const archive = await openImageArchive(join(FIXTURES, "buildkit/v0.34.0/oci.tar"));
    const pushed = await pushArchiveImage(registry(), archive, { repo: "scenario/observed" });
    const fromArchive = await observeImage(archive, pushed.digest, { entries: true });
    const fromRegistry = await observeImage(new RegistryRepository(registry(), "scenario/observed"), pushed.digest, { entries: true });
    expect({ ...fromRegistry, source: "" }).toEqual({ ...fromArchive, source: "" });
    expect(fromRegistry.source).toMatch(/\/scenario\/observed$/);
  });
});
