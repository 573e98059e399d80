/**
 * RegistryClient, pushImage and the base images against a real registry: Debian's
 * docker-registry (distribution 2.x) on 127.0.0.1, filesystem storage in a temp dir.
 */
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HarnessError } from "../../../harness/errors.ts";
import { writeDeterministicTar } from "../../../harness/oci/deterministic-tar.ts";
import { digestOf } from "../../../harness/oci/digest.ts";
import { pushImage } from "../../../harness/oci/image-writer.ts";
import { type LayerEntry, listLayerEntries } from "../../../harness/oci/layer-entries.ts";
import { RegistryClient } from "../../../harness/oci/registry-client.ts";
import { type Index, MediaType } from "../../../harness/oci/types.ts";
import { BASE_IMAGE_CREATED, BASE_IMAGES, payloadBytes, pushBaseImages } from "../../../harness/provision/base-images.ts";
import { freePort, type LocalRegistry, startLocalRegistry } from "./local-registry.ts";

let local: LocalRegistry | undefined;
let client: RegistryClient | undefined;
let startError: Error | undefined;

/** Fails the calling test, with the reason, when the registry could not be started. */
function registry(): RegistryClient {
  if (startError) throw startError;
  if (!client) throw new Error("registry not started");
  return client;
}

beforeAll(async () => {
  try {
    local = await startLocalRegistry();
    client = local.client;
  } catch (err) {
    startError = err as Error;
  }
}, 30_000);

afterAll(async () => {
  await local?.stop();
});

async function entriesOf(repo: string, reference: string): Promise<Map<string, LayerEntry>> {
  const c = registry();
  const image = await c.resolveImageManifest(repo, reference);
  expect(image.manifest.layers).toHaveLength(1);
  const layer = image.manifest.layers[0]!;
  const entries = await listLayerEntries(await c.getBlob(repo, layer.digest), layer.mediaType);
  return new Map(entries.map((e) => [e.name, e]));
}

describe("base images in a real registry", () => {
  it("pushes every base image twice with identical digests", async () => {
    const first = await pushBaseImages(registry(), BASE_IMAGES, "registry:5000");
    const second = await pushBaseImages(registry(), BASE_IMAGES, "registry:5000");
    expect([...first.keys()]).toEqual(["busybox", "busybox-mountpoints", "payload"]);
    expect([...second]).toEqual([...first]);
    const busybox = first.get("busybox")!;
    expect(busybox.repo).toBe("base/busybox");
    expect(busybox.reference).toBe(`registry:5000/base/busybox@${busybox.digest}`);
    expect(busybox.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await registry().listTags("base/busybox")).toEqual(["latest"]);
  });

  it("reads busybox back: manifest, config, layer", async () => {
    const c = registry();
    const image = await c.resolveImageManifest("base/busybox", "latest");
    expect(image.indexDigest).toBeUndefined();
    expect(image.manifestMediaType).toBe(MediaType.ociManifest);
    const { config, digest } = await c.getConfig("base/busybox", image.manifest);
    expect(digest).toBe(image.manifest.config.digest);
    expect(config).toMatchObject({ architecture: "amd64", os: "linux", config: { Cmd: ["sh"] } });
    expect(config.created).toBe(BASE_IMAGE_CREATED);
    expect(config.rootfs.diff_ids).toEqual([image.manifest.layers[0]!.digest]);
    expect(image.manifest.layers[0]!.mediaType).toBe(MediaType.ociLayerTar);

    const entries = await entriesOf("base/busybox", "latest");
    expect(entries.get("bin/busybox")).toMatchObject({ type: "file", mode: 0o755, uid: 0, gid: 0, mtimeEpochSeconds: 0 });
    expect(entries.get("bin/sh")).toMatchObject({ type: "symlink", linkname: "busybox" });
    expect(entries.get("bin/ls")).toMatchObject({ type: "symlink", linkname: "busybox" });
    expect(entries.get("tmp")).toMatchObject({ type: "directory", mode: 0o1777 });
    expect(entries.get("root")).toMatchObject({ type: "directory", mode: 0o700 });
    expect(entries.get("etc/passwd")?.contentDigest).toBe(digestOf("root:x:0:0:root:/root:/bin/sh\n"));
    for (const mountpoint of ["dev", "proc", "sys"]) expect(entries.has(mountpoint)).toBe(false);

    const withMounts = await entriesOf("base/busybox-mountpoints", "latest");
    for (const mountpoint of ["dev", "proc", "sys"]) expect(withMounts.get(mountpoint)).toMatchObject({ type: "directory", mode: 0o755 });
  });

  it("reads the payload back", async () => {
    const entries = await entriesOf("base/payload", "latest");
    expect([...entries.keys()]).toEqual(["bin", "bin/payload", "etc", "etc/payload-release"]);
    expect(entries.get("bin/payload")).toMatchObject({ mode: 0o755, size: 65536, contentDigest: digestOf(payloadBytes()) });
  });
});

describe("RegistryClient", () => {
  it("follows an index to the platform's manifest, past attestation manifests", async () => {
    const c = registry();
    const layer = writeDeterministicTar([{ type: "file", path: "which", mode: 0o644, content: "amd64" }]);
    const amd64 = await pushImage(c, "multi", "amd64", { layers: [layer], config: { architecture: "amd64", os: "linux", created: "2020-01-01T00:00:00Z" } });
    const arm64 = await pushImage(c, "multi", "arm64", { layers: [layer], config: { architecture: "arm64", os: "linux", created: "2020-01-01T00:00:00Z" } });
    const attestation = await pushImage(c, "multi", "att", {
      layers: [writeDeterministicTar([])],
      config: { architecture: "amd64", os: "linux", created: "2020-01-01T00:00:00Z" },
    });
    const size = async (tag: string) => (await c.getManifest("multi", tag)).bytes.length;
    const index: Index = {
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [
        // Platform set on purpose: only the annotation may keep it from being chosen.
        {
          mediaType: MediaType.ociManifest,
          digest: attestation.manifestDigest,
          size: await size("att"),
          platform: { os: "linux", architecture: "amd64" },
          annotations: { "vnd.docker.reference.type": "attestation-manifest" },
        },
        { mediaType: MediaType.ociManifest, digest: arm64.manifestDigest, size: await size("arm64"), platform: { os: "linux", architecture: "arm64" } },
        { mediaType: MediaType.ociManifest, digest: amd64.manifestDigest, size: await size("amd64"), platform: { os: "linux", architecture: "amd64" } },
      ],
    };
    const bytes = Buffer.from(JSON.stringify(index));
    const indexDigest = await c.putManifest("multi", "latest", MediaType.ociIndex, bytes);
    expect(indexDigest).toBe(digestOf(bytes));

    const fetched = await c.getManifest("multi", "latest");
    expect(fetched).toMatchObject({ digest: indexDigest, mediaType: MediaType.ociIndex });
    const resolved = await c.resolveImageManifest("multi", "latest");
    expect(resolved).toMatchObject({ indexDigest, manifestDigest: amd64.manifestDigest });
    const arm = await c.resolveImageManifest("multi", indexDigest, { os: "linux", architecture: "arm64" });
    expect(arm.manifestDigest).toBe(arm64.manifestDigest);
    await expect(c.resolveImageManifest("multi", "latest", { os: "windows", architecture: "amd64" })).rejects.toThrow(
      /no manifest for windows\/amd64 \(it offers linux\/arm64, linux\/amd64\)/,
    );
  });

  it("uploads a blob once and knows whether it exists", async () => {
    const c = registry();
    const blob = Buffer.from("a blob");
    expect(await c.hasBlob("blobs", digestOf(blob))).toBe(false);
    expect(await c.putBlob("blobs", blob)).toBe(digestOf(blob));
    expect(await c.hasBlob("blobs", digestOf(blob))).toBe(true);
    expect(await c.putBlob("blobs", blob)).toBe(digestOf(blob));
    expect((await c.getBlob("blobs", digestOf(blob))).equals(blob)).toBe(true);
  });

  it("reports the method, URL, status and the registry's error body", async () => {
    const c = registry();
    const err = await c.getManifest("base/busybox", "no-such-tag").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HarnessError);
    const e = err as HarnessError;
    expect(e.code).toBe("REGISTRY_ERROR");
    expect(e.message).toContain(`GET ${c.baseUrl}/v2/base/busybox/manifests/no-such-tag answered 404`);
    expect(e.message).toContain("MANIFEST_UNKNOWN");
    expect(e.hint).toBeTruthy();
  });
});

describe("RegistryClient against a misbehaving server", () => {
  let server: Server | undefined;
  let url = "";
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: "sha256:00", size: 2 },
      layers: [],
    }),
  );

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url?.includes("/manifests/")) {
        res.writeHead(200, { "Content-Type": MediaType.ociManifest, "Docker-Content-Digest": digestOf("something else") });
        res.end(manifest);
      } else if (req.url?.includes("/blobs/")) {
        res.writeHead(200);
        res.end("tampered");
      } else {
        res.writeHead(500);
        res.end();
      }
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  });
  afterAll(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it("checks Docker-Content-Digest and blob digests", async () => {
    const c = new RegistryClient(url);
    await expect(c.getManifest("r", "latest")).rejects.toThrow(/Docker-Content-Digest says/);
    await expect(c.getBlob("r", digestOf("original"))).rejects.toThrow(/blob's bytes have digest/);
  });

  it("turns a refused connection into a REGISTRY_ERROR naming the URL", async () => {
    const port = await freePort();
    const err = await new RegistryClient(`http://127.0.0.1:${port}/`).listTags("r").catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "REGISTRY_ERROR" });
    expect((err as HarnessError).message).toContain(`GET http://127.0.0.1:${port}/v2/r/tags/list failed`);
  });
});
