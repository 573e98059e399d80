/**
 * What an image is, read from any ContentStore (a registry repository, an OCI layout, a
 * `docker save` archive): the digests at each level, the manifest's layer descriptors as
 * written (digest, size, media type, annotations), the config, and optionally each layer's
 * tar entries. A pushed image and a `type=oci`/`type=docker` output get the same record,
 * so one assertion can compare them.
 */
import { type ContentStore, readConfig, resolveImage } from "./content-store.ts";
import { type LayerEntry, listLayerEntries } from "./layer-entries.ts";
import { type Descriptor, type ImageConfig, type Index, type Manifest, MediaType, type Platform } from "./types.ts";

export interface LayerObservation {
  /** 0 is the bottom layer. */
  readonly index: number;
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
  /** e.g. `buildkit/rewritten-timestamp`, `containerd.io/uncompressed`. */
  readonly annotations?: Readonly<Record<string, string>>;
  /** The config's rootfs.diff_ids entry for this layer. */
  readonly diffId?: string;
  /** Set when entries were asked for this layer. */
  readonly entries?: readonly LayerEntry[];
}

export interface ImageObservation {
  /** The store it was read from. */
  readonly source: string;
  /** The digest the reference resolved to at the top: the index, or the manifest itself. */
  readonly digest: string;
  readonly indexDigest?: string;
  readonly index?: Index;
  readonly manifestDigest: string;
  readonly manifest: Manifest;
  readonly manifestMediaType: string;
  readonly manifestAnnotations?: Readonly<Record<string, string>>;
  readonly configDigest: string;
  readonly config: ImageConfig;
  readonly layers: readonly LayerObservation[];
}

export interface ObserveImageOptions {
  /** Default linux/amd64. */
  readonly platform?: Platform;
  /** List tar entries of every layer (true), none (false, default), or those the function picks. */
  readonly entries?: boolean | ((layer: Descriptor, index: number) => boolean);
  /** Bound on a layer's decompressed size while listing entries (default 512 MiB). */
  readonly maxUncompressedLayerBytes?: number;
  /** Listings by layer digest, shared across calls: a base layer under thirty builds is listed once. */
  readonly entryCache?: Map<string, Promise<LayerEntry[]>>;
}

const DEFAULT_MAX_UNCOMPRESSED = 512 * 1024 * 1024;

function listEntries(store: ContentStore, layer: Descriptor, options: ObserveImageOptions): Promise<LayerEntry[]> {
  const cached = options.entryCache?.get(layer.digest);
  if (cached !== undefined) return cached;
  const listing = store
    .blob(layer.digest)
    .then((bytes) => listLayerEntries(bytes, layer.mediaType, { maxUncompressedBytes: options.maxUncompressedLayerBytes ?? DEFAULT_MAX_UNCOMPRESSED }));
  // A failed listing is not kept: the next reader tries again and sees the error itself.
  options.entryCache?.set(layer.digest, listing);
  listing.catch(() => options.entryCache?.delete(layer.digest));
  return listing;
}

export async function observeImage(store: ContentStore, reference: string, options: ObserveImageOptions = {}): Promise<ImageObservation> {
  const resolved = await resolveImage(store, reference, options.platform ?? { os: "linux", architecture: "amd64" });
  const { config } = await readConfig(store, resolved.manifest.config);
  const diffIds = config.rootfs?.diff_ids ?? [];
  const wantEntries = options.entries ?? false;
  const layers: LayerObservation[] = [];
  for (const [index, layer] of resolved.manifest.layers.entries()) {
    const listed = typeof wantEntries === "function" ? wantEntries(layer, index) : wantEntries;
    const entries = listed ? await listEntries(store, layer, options) : undefined;
    layers.push({
      index,
      digest: layer.digest,
      size: layer.size,
      mediaType: layer.mediaType,
      ...(layer.annotations ? { annotations: layer.annotations } : {}),
      ...(diffIds[index] ? { diffId: diffIds[index] } : {}),
      ...(entries ? { entries } : {}),
    });
  }
  return {
    source: store.description,
    digest: resolved.indexDigest ?? resolved.manifestDigest,
    ...(resolved.indexDigest ? { indexDigest: resolved.indexDigest } : {}),
    ...(resolved.index ? { index: resolved.index } : {}),
    manifestDigest: resolved.manifestDigest,
    manifest: resolved.manifest,
    manifestMediaType: resolved.manifestMediaType,
    ...(resolved.manifest.annotations ? { manifestAnnotations: resolved.manifest.annotations } : {}),
    configDigest: resolved.manifest.config.digest,
    config,
    layers,
  };
}

/** Docker schema2 layer media types and the OCI ones that name the same bytes. */
const OCI_EQUIVALENT: Readonly<Record<string, string>> = {
  [MediaType.dockerLayerTar]: MediaType.ociLayerTar,
  [MediaType.dockerLayerTarGzip]: MediaType.ociLayerTarGzip,
};

/**
 * Whether two layer descriptors name the same blob: what moby/buildkit#4805 is about.
 * "exact" also requires the same media type; "equivalent" accepts the Docker and OCI names
 * of the same format, because the image exporter relabels a base layer it carries
 * unchanged (`oci-mediatypes=false`, the default before v0.31.0: measured on v0.13.1, an
 * OCI gzip base layer came out as application/vnd.docker.image.rootfs.diff.tar.gzip with
 * the same digest and size).
 */
export function sameLayerBlob(
  a: Pick<Descriptor, "digest" | "size" | "mediaType">,
  b: Pick<Descriptor, "digest" | "size" | "mediaType">,
  mediaTypes: "exact" | "equivalent" = "exact",
): boolean {
  if (a.digest !== b.digest || a.size !== b.size) return false;
  if (mediaTypes === "exact") return a.mediaType === b.mediaType;
  return (OCI_EQUIVALENT[a.mediaType] ?? a.mediaType) === (OCI_EQUIVALENT[b.mediaType] ?? b.mediaType);
}
