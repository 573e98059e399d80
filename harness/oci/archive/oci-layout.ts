import { MediaType } from "../types.ts";
import type { ArchiveFiles } from "./archive-files.ts";
import { type BlobSource, type ContentGraph, verifyContentGraph } from "./content-graph.ts";
import { blobPath, checkIndex, isObjectValue, parseJson, refuse, type Where } from "./documents.ts";
import { type ArchiveImage, NAME_ANNOTATIONS } from "./image-archive.ts";
import type { ArchiveLimits } from "./limits.ts";

const OCI_LAYOUT_FILE = "oci-layout";
const INDEX_FILE = "index.json";

export interface OciLayoutContent {
  readonly graph: ContentGraph;
  readonly images: ArchiveImage[];
}

export async function isOciLayout(files: ArchiveFiles): Promise<boolean> {
  return (await files.has(OCI_LAYOUT_FILE)) && (await files.has(INDEX_FILE));
}

/** An OCI image layout: `oci-layout`, `index.json`, `blobs/<alg>/<hex>` (image-spec, image-layout.md). */
export async function readOciLayout(files: ArchiveFiles, limits: ArchiveLimits): Promise<OciLayoutContent> {
  const archive = files.description;
  const layoutWhere: Where = { archive, file: OCI_LAYOUT_FILE };
  const layout = parseJson(await readRequired(files, OCI_LAYOUT_FILE, limits.maxJsonBytes), layoutWhere);
  if (!isObjectValue(layout) || layout.imageLayoutVersion !== "1.0.0") {
    throw refuse(layoutWhere, 'is not {"imageLayoutVersion": "1.0.0"}, the only OCI layout version there is');
  }
  const indexWhere: Where = { archive, file: INDEX_FILE };
  const index = checkIndex(
    parseJson(await readRequired(files, INDEX_FILE, limits.maxJsonBytes), indexWhere),
    MediaType.ociIndex,
    indexWhere,
    limits.maxEntries,
  );
  const graph = await verifyContentGraph(
    layoutBlobs(files),
    index.manifests.map((descriptor) => ({ descriptor, listedIn: INDEX_FILE })),
    limits,
  );
  const images = index.manifests.map(
    (descriptor): ArchiveImage => ({
      names: [...new Set(NAME_ANNOTATIONS.map((key) => descriptor.annotations?.[key]).filter((n): n is string => !!n))],
      descriptor,
      manifestOrigin: "archive",
    }),
  );
  return { graph, images };
}

function layoutBlobs(files: ArchiveFiles): BlobSource {
  const where = (digest: string): Where => ({ archive: files.description, file: `blobs/ (${digest})` });
  return {
    description: files.description,
    read: (digest, maxBytes) => files.read(blobPath(digest, where(digest)), maxBytes),
    fileOf: (digest) => blobPath(digest, where(digest)),
  };
}

async function readRequired(files: ArchiveFiles, path: string, maxBytes: number): Promise<Buffer> {
  const bytes = await files.read(path, maxBytes);
  if (bytes === undefined) throw refuse({ archive: files.description, file: path }, "is missing");
  return bytes;
}
