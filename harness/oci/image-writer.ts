import { gzipSync } from "node:zlib";
import { canonicalJson } from "./canonical-json.ts";
import { digestOf } from "./digest.ts";
import type { RegistryClient } from "./registry-client.ts";
import { type ContainerConfig, type Descriptor, type HistoryEntry, type ImageConfig, type Manifest, MediaType } from "./types.ts";

export interface ImageSpec {
  /** Uncompressed tars, bottom layer first. */
  layers: Buffer[];
  /**
   * How layer blobs are stored. "none" (default): the tar itself, so diff_id = blob
   * digest. "gzip": as public images are; deterministic for one zlib version (the
   * compressed bytes may differ between Node releases, the diff_ids never do).
   */
  compression?: "none" | "gzip";
  config: {
    architecture: string;
    os: string;
    variant?: string;
    config?: ContainerConfig;
    /**
     * A fixed creation time (RFC 3339) stamped on the config and on every history entry.
     * Real base images carry one; without it BuildKit dates the base's history entry with
     * the wall clock of each build, and no two builds on it share a config digest.
     */
    created: string;
    /** One entry per layer (plus any empty_layer entries); omitted when not given. Their `created` is set from `created`. */
    history?: HistoryEntry[];
  };
}

export interface PushedImage {
  manifestDigest: string;
  configDigest: string;
  /** `<repo>@<manifest digest>`, relative to the registry. */
  reference: string;
}

export interface ImageDocuments {
  /** The layer blobs as pushed (compressed or not), bottom first. */
  blobs: Buffer[];
  configBytes: Buffer;
  manifestBytes: Buffer;
  manifestDigest: string;
  configDigest: string;
}

/**
 * The config and manifest of an OCI image with uncompressed layers, as canonical JSON
 * with only the spec's fixed timestamp: the same spec always gives the same bytes.
 */
export function buildImageDocuments(spec: ImageSpec): ImageDocuments {
  const history = spec.config.history?.map((h) => ({ ...h, created: spec.config.created }));
  if (history && history.filter((h) => !h.empty_layer).length !== spec.layers.length) {
    throw new Error(`image history has ${history.filter((h) => !h.empty_layer).length} non-empty entries for ${spec.layers.length} layers`);
  }
  const gzip = spec.compression === "gzip";
  // Level 9 and no file name or time in the gzip header: the same tar gives the same blob.
  const blobs = spec.layers.map((tar) => (gzip ? gzipSync(tar, { level: 9 }) : tar));
  const layers: Descriptor[] = blobs.map((blob) => ({
    mediaType: gzip ? MediaType.ociLayerTarGzip : MediaType.ociLayerTar,
    digest: digestOf(blob),
    size: blob.length,
  }));
  const config: ImageConfig = {
    created: spec.config.created,
    architecture: spec.config.architecture,
    os: spec.config.os,
    ...(spec.config.variant ? { variant: spec.config.variant } : {}),
    ...(spec.config.config ? { config: spec.config.config } : {}),
    rootfs: { type: "layers", diff_ids: spec.layers.map((tar) => digestOf(tar)) },
    ...(history ? { history } : {}),
  };
  const configBytes = Buffer.from(canonicalJson(config));
  const configDigest = digestOf(configBytes);
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: configDigest, size: configBytes.length },
    layers,
  };
  const manifestBytes = Buffer.from(canonicalJson(manifest));
  return { blobs, configBytes, manifestBytes, manifestDigest: digestOf(manifestBytes), configDigest };
}

/** Pushes layers and config, then the manifest under `tag`. */
export function pushImage(client: RegistryClient, repo: string, tag: string, spec: ImageSpec): Promise<PushedImage> {
  return pushImageDocuments(client, repo, tag, buildImageDocuments(spec));
}

/** Pushes documents already built (the same bytes to many registries). */
export async function pushImageDocuments(client: RegistryClient, repo: string, tag: string, docs: ImageDocuments): Promise<PushedImage> {
  for (const blob of docs.blobs) await client.putBlob(repo, blob);
  await client.putBlob(repo, docs.configBytes);
  const manifestDigest = await client.putManifest(repo, tag, MediaType.ociManifest, docs.manifestBytes);
  return { manifestDigest, configDigest: docs.configDigest, reference: `${repo}@${manifestDigest}` };
}
