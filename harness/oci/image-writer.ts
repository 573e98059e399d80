import { canonicalJson } from "./canonical-json.ts";
import { digestOf } from "./digest.ts";
import type { RegistryClient } from "./registry-client.ts";
import { MediaType, type ContainerConfig, type Descriptor, type HistoryEntry, type ImageConfig, type Manifest } from "./types.ts";

export interface ImageSpec {
  /** Uncompressed tars, bottom layer first; pushed as-is, so diff_id = blob digest. */
  layers: Buffer[];
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
  const layers: Descriptor[] = spec.layers.map((tar) => ({ mediaType: MediaType.ociLayerTar, digest: digestOf(tar), size: tar.length }));
  const config: ImageConfig = {
    created: spec.config.created,
    architecture: spec.config.architecture,
    os: spec.config.os,
    ...(spec.config.variant ? { variant: spec.config.variant } : {}),
    ...(spec.config.config ? { config: spec.config.config } : {}),
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) },
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
  return { configBytes, manifestBytes, manifestDigest: digestOf(manifestBytes), configDigest };
}

/** Pushes layers and config, then the manifest under `tag`. */
export async function pushImage(client: RegistryClient, repo: string, tag: string, spec: ImageSpec): Promise<PushedImage> {
  const docs = buildImageDocuments(spec);
  for (const layer of spec.layers) await client.putBlob(repo, layer);
  await client.putBlob(repo, docs.configBytes);
  const manifestDigest = await client.putManifest(repo, tag, MediaType.ociManifest, docs.manifestBytes);
  return { manifestDigest, configDigest: docs.configDigest, reference: `${repo}@${manifestDigest}` };
}
