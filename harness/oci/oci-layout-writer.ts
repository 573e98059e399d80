/**
 * Writes images as an OCI image layout packed in a tar, deterministically (the tar
 * writer's fixed order and times, canonical JSON): what scenario-local base images and
 * test fixtures are generated as, and what `openImageArchive` reads back.
 */
import { canonicalJson } from "./canonical-json.ts";
import { type TarEntrySpec, writeDeterministicTar } from "./deterministic-tar.ts";
import { digestOf } from "./digest.ts";
import type { ImageDocuments } from "./image-writer.ts";
import { type Descriptor, type Index, MediaType } from "./types.ts";

export interface LayoutImage {
  readonly documents: ImageDocuments;
  /** `org.opencontainers.image.ref.name` of its index.json entry, e.g. "quirky". */
  readonly refName?: string;
}

function ociLayoutEntries(images: readonly LayoutImage[]): TarEntrySpec[] {
  const blobs = new Map<string, Buffer>();
  const manifests: Descriptor[] = [];
  for (const { documents, refName } of images) {
    for (const blob of [...documents.blobs, documents.configBytes, documents.manifestBytes]) blobs.set(digestOf(blob).slice("sha256:".length), blob);
    manifests.push({
      mediaType: MediaType.ociManifest,
      digest: documents.manifestDigest,
      size: documents.manifestBytes.length,
      ...(refName ? { annotations: { "org.opencontainers.image.ref.name": refName } } : {}),
    });
  }
  const index: Index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests };
  return [
    { type: "file", path: "oci-layout", mode: 0o644, content: canonicalJson({ imageLayoutVersion: "1.0.0" }) },
    { type: "file", path: "index.json", mode: 0o644, content: canonicalJson(index) },
    { type: "directory", path: "blobs", mode: 0o755 },
    { type: "directory", path: "blobs/sha256", mode: 0o755 },
    ...[...blobs].map(([hex, content]): TarEntrySpec => ({ type: "file", path: `blobs/sha256/${hex}`, mode: 0o644, content })),
  ];
}

export function writeOciLayoutTar(images: readonly LayoutImage[]): Buffer {
  return writeDeterministicTar(ociLayoutEntries(images));
}
