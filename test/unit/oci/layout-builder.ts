/**
 * Builds OCI layouts for tests, with a hook at every level so a test can break exactly
 * one thing (a size, a media type, a diff_id...) while everything else stays consistent.
 */
import { gzipSync } from "node:zlib";
import { type TarEntrySpec, writeDeterministicTar } from "../../../harness/oci/deterministic-tar.ts";
import { digestOf } from "../../../harness/oci/digest.ts";
import { MediaType } from "../../../harness/oci/types.ts";

type Json = Record<string, unknown>;

export interface BuiltImage {
  readonly manifestDigest: string;
  readonly manifestBytes: Buffer;
  readonly configDigest: string;
  readonly layerDigests: string[];
  readonly descriptor: Json;
  /** Blobs by hex digest. */
  readonly blobs: Map<string, Buffer>;
}

export interface ImageHooks {
  config?: (config: Json) => Json;
  manifest?: (manifest: Json) => Json;
  /** Layer tars (uncompressed); gzip when `gzip` is set. */
  layers?: Buffer[];
  gzip?: boolean;
  platform?: { os: string; architecture: string };
}

export const LAYER_A = writeDeterministicTar([{ type: "file", path: "a.txt", mode: 0o644, content: "a\n" }]);
const LAYER_B = writeDeterministicTar([{ type: "file", path: "etc/b.txt", mode: 0o600, content: "b\n" }], { mtime: 1_700_000_000 });

export function buildImage(hooks: ImageHooks = {}): BuiltImage {
  const tars = hooks.layers ?? [LAYER_A, LAYER_B];
  const blobs = new Map<string, Buffer>();
  const put = (bytes: Buffer) => {
    const digest = digestOf(bytes);
    blobs.set(digest.slice(7), bytes);
    return digest;
  };
  const layerBlobs = tars.map((t) => (hooks.gzip ? gzipSync(t) : t));
  const layers = layerBlobs.map((b) => ({ mediaType: hooks.gzip ? MediaType.ociLayerTarGzip : MediaType.ociLayerTar, digest: put(b), size: b.length }));
  const platform = hooks.platform ?? { os: "linux", architecture: "amd64" };
  const config = (hooks.config ?? ((c) => c))({ ...platform, rootfs: { type: "layers", diff_ids: tars.map((t) => digestOf(t)) }, config: {} });
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDigest = put(configBytes);
  const manifest = (hooks.manifest ?? ((m) => m))({
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: configDigest, size: configBytes.length },
    layers,
  });
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const manifestDigest = put(manifestBytes);
  return {
    manifestDigest,
    manifestBytes,
    configDigest,
    layerDigests: layers.map((l) => l.digest),
    descriptor: { mediaType: MediaType.ociManifest, digest: manifestDigest, size: manifestBytes.length, platform },
    blobs,
  };
}

export interface LayoutHooks {
  images?: BuiltImage[];
  /** index.json's manifests, from the images' descriptors. */
  index?: (manifests: Json[]) => Json;
  /** Blobs to leave out, by digest. */
  drop?: string[];
  /** Replaces a blob's bytes (without renaming it). */
  replace?: Record<string, Buffer>;
  extra?: TarEntrySpec[];
  layoutFile?: string;
}

export function layoutEntries(hooks: LayoutHooks = {}): TarEntrySpec[] {
  const images = hooks.images ?? [buildImage()];
  const blobs = new Map<string, Buffer>();
  for (const image of images) for (const [hex, bytes] of image.blobs) blobs.set(hex, bytes);
  const manifests = images.map((i) => ({ ...i.descriptor, annotations: { "org.opencontainers.image.ref.name": "latest" } }));
  const index = (hooks.index ?? ((m) => ({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: m })))(manifests);
  const entries: TarEntrySpec[] = [
    { type: "file", path: "oci-layout", mode: 0o644, content: hooks.layoutFile ?? '{"imageLayoutVersion":"1.0.0"}' },
    { type: "file", path: "index.json", mode: 0o644, content: JSON.stringify(index) },
  ];
  for (const [hex, bytes] of blobs) {
    if (hooks.drop?.includes(`sha256:${hex}`)) continue;
    entries.push({ type: "file", path: `blobs/sha256/${hex}`, mode: 0o644, content: hooks.replace?.[`sha256:${hex}`] ?? bytes });
  }
  return [...entries, ...(hooks.extra ?? [])];
}

export function layoutTar(hooks: LayoutHooks = {}): Buffer {
  return writeDeterministicTar(layoutEntries(hooks));
}

/** An index blob over several images, and the image descriptor that names it. */
export function buildIndex(images: BuiltImage[], extra: Json = {}): { bytes: Buffer; digest: string; descriptor: Json; blobs: Map<string, Buffer> } {
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: images.map((i) => i.descriptor), ...extra }));
  const digest = digestOf(bytes);
  const blobs = new Map<string, Buffer>([[digest.slice(7), bytes]]);
  for (const image of images) for (const [hex, b] of image.blobs) blobs.set(hex, b);
  return { bytes, digest, descriptor: { mediaType: MediaType.ociIndex, digest, size: bytes.length }, blobs };
}
