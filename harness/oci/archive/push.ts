import { resolveImage } from "../content-store.ts";
import type { RegistryClient } from "../registry-client.ts";
import type { Descriptor, Platform } from "../types.ts";
import { archiveError } from "./archive-error.ts";
import type { ImageArchive } from "./image-archive.ts";

export interface PushArchiveOptions {
  /** Repository in the test registry, e.g. "scenario/rewrite-timestamp-base/quirky". */
  readonly repo: string;
  /** Tag the top-level manifest or index is also stored under (default "latest"). */
  readonly tag?: string;
  /** Which image of the archive: a name it lists or its digest (default: the only one). */
  readonly image?: string;
  /** The platform whose manifest `layers` describes (default linux/amd64). */
  readonly platform?: Platform;
}

export interface PushedArchiveImage {
  readonly repo: string;
  readonly tag: string;
  /** What the tag points at: the index when the image is one, else the manifest. Pin `{{image:…}}` to this. */
  readonly digest: string;
  readonly mediaType: string;
  readonly indexDigest?: string;
  /** The image manifest for the platform asked for. */
  readonly manifestDigest: string;
  readonly configDigest: string;
  /** That manifest's layers, bottom first, as the archive's manifest gives them (digest, size, mediaType, annotations). */
  readonly layers: readonly Descriptor[];
  readonly manifestOrigin: "archive" | "constructed";
  /** One line for reports: where the image came from and how it was pushed. */
  readonly description: string;
}

/**
 * Uploads one image of a verified archive into a registry repository exactly as stored:
 * each blob, then each manifest by its digest, children before the index that names
 * them, then the top document under `tag`. The registry must give back the same digests.
 */
export async function pushArchiveImage(client: RegistryClient, archive: ImageArchive, options: PushArchiveOptions): Promise<PushedArchiveImage> {
  const image = archive.image(options.image);
  const tag = options.tag ?? "latest";
  const top = image.descriptor;
  for (const item of archive.contentOf(image)) {
    if (item.role === "index" || item.role === "manifest") {
      const reference = item.descriptor.digest === top.digest ? tag : item.descriptor.digest;
      await client.putManifest(options.repo, reference, item.descriptor.mediaType, item.bytes);
    } else {
      await client.putBlob(options.repo, item.bytes);
    }
  }
  // The top document also by digest, so it can be pinned without depending on the tag.
  const stored = await client.getManifest(options.repo, top.digest);
  if (stored.digest !== top.digest) {
    throw archiveError(archive.description, undefined, `was pushed as ${top.digest} but the registry returns ${stored.digest}`, "Recreate the test registry.");
  }
  const resolved = await resolveImage(archive, top.digest, options.platform ?? { os: "linux", architecture: "amd64" });
  const name = image.names[0] ?? top.digest;
  const how =
    image.manifestOrigin === "constructed"
      ? "no manifest in the archive: a Docker schema2 manifest was constructed by the harness from manifest.json, config and layer tars pushed as stored"
      : "every manifest and blob pushed byte for byte";
  return {
    repo: options.repo,
    tag,
    digest: top.digest,
    mediaType: top.mediaType,
    ...(resolved.indexDigest ? { indexDigest: resolved.indexDigest } : {}),
    manifestDigest: resolved.manifestDigest,
    configDigest: resolved.manifest.config.digest,
    layers: resolved.manifest.layers,
    manifestOrigin: image.manifestOrigin,
    description: `${archive.description} (${archive.format}), image ${name}: ${how}`,
  };
}
