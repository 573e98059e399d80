/**
 * `docker save` archives. Their entry point is manifest.json: one entry per image with
 * the config's path, the layer tars' paths and the RepoTags. From Docker 25 on (and in
 * BuildKit's `type=docker` output) the same tar is also an OCI layout, whose manifests are
 * then used as they are; before, there is no manifest at all and one is constructed.
 */
import { basename } from "node:path";
import { canonicalJson } from "../canonical-json.ts";
import { digestOf } from "../digest.ts";
import { compressionOfBytes } from "../layer-entries.ts";
import { type Descriptor, type Manifest, MediaType } from "../types.ts";
import { quoteName } from "./archive-error.ts";
import type { ArchiveFiles } from "./archive-files.ts";
import { type BlobSource, type ContentGraph, verifyContentGraph } from "./content-graph.ts";
import { checkDescriptor, checkImageConfig, isObjectValue, parseJson, refuse, type Where } from "./documents.ts";
import type { ArchiveImage } from "./image-archive.ts";
import type { ArchiveLimits } from "./limits.ts";
import type { OciLayoutContent } from "./oci-layout.ts";

export const DOCKER_MANIFEST_FILE = "manifest.json";

export interface DockerSaveEntry {
  readonly Config: string;
  readonly RepoTags: readonly string[];
  readonly Layers: readonly string[];
}

export async function readDockerManifestJson(files: ArchiveFiles, limits: ArchiveLimits): Promise<DockerSaveEntry[]> {
  const where: Where = { archive: files.description, file: DOCKER_MANIFEST_FILE };
  const bytes = await files.read(DOCKER_MANIFEST_FILE, limits.maxJsonBytes);
  if (bytes === undefined) throw refuse(where, "is missing");
  const value = parseJson(bytes, where);
  if (!Array.isArray(value)) throw refuse(where, "is not a JSON array of images");
  if (value.length > limits.maxEntries) throw refuse(where, `lists more than ${limits.maxEntries} images`, "Put fewer images in one archive.");
  return value.map((entry, i): DockerSaveEntry => {
    const field = `[${i}]`;
    if (!isObjectValue(entry) || typeof entry.Config !== "string" || !Array.isArray(entry.Layers) || entry.Layers.some((l) => typeof l !== "string")) {
      throw refuse(where, `${field} needs a string "Config" and a "Layers" array of strings`);
    }
    if (entry.Layers.length > limits.maxEntries) throw refuse(where, `${field} lists more than ${limits.maxEntries} layers`);
    const tags = entry.RepoTags ?? [];
    if (!Array.isArray(tags) || tags.some((t) => typeof t !== "string")) throw refuse(where, `${field}.RepoTags must be an array of strings`);
    if (entry.LayerSources !== undefined) {
      if (!isObjectValue(entry.LayerSources)) throw refuse(where, `${field}.LayerSources must be an object`);
      // Refuses foreign layers (descriptors with "urls"), which would be fetched from the network.
      for (const [key, d] of Object.entries(entry.LayerSources)) checkDescriptor(d, `${field}.LayerSources[${key}]`, where);
    }
    return { Config: entry.Config, RepoTags: tags as string[], Layers: entry.Layers as string[] };
  });
}

/**
 * Docker 25+: the layout is the content; manifest.json must agree with it (each entry's
 * config and layers are those of a manifest in the layout) and adds its RepoTags as names.
 */
export function mergeDockerNames(layout: OciLayoutContent, entries: readonly DockerSaveEntry[], archive: string): ArchiveImage[] {
  const images = layout.images.map((image) => ({ ...image, names: [...image.names] }));
  for (const [i, entry] of entries.entries()) {
    const owner = images.find((image) => manifestsUnder(layout.graph, image.descriptor.digest).some((m) => matchesEntry(m, entry)));
    if (!owner) {
      throw refuse(
        { archive, file: DOCKER_MANIFEST_FILE },
        `entry [${i}] names a config and layers that no manifest of index.json has`,
        "The two halves of the archive disagree; recreate it with `docker save`.",
      );
    }
    for (const tag of entry.RepoTags) if (!owner.names.includes(tag)) owner.names.push(tag);
  }
  return images;
}

function manifestsUnder(graph: ContentGraph, digest: string): Manifest[] {
  const node = graph.nodes.get(digest);
  if (!node?.document) return [];
  if (node.role === "index") return node.children.flatMap((child) => manifestsUnder(graph, child));
  return [node.document as Manifest];
}

function matchesEntry(manifest: Manifest, entry: DockerSaveEntry): boolean {
  const path = (d: Descriptor) => `blobs/${d.digest.replace(":", "/")}`;
  return (
    path(manifest.config) === entry.Config && manifest.layers.length === entry.Layers.length && manifest.layers.every((l, i) => path(l) === entry.Layers[i])
  );
}

/**
 * Before Docker 25: no manifest in the archive. Each entry becomes a Docker schema2
 * manifest whose config is the config file and whose layers are the layer tars, each
 * blob exactly as stored (so the layers' blob digests are their diff_ids unless a tool
 * gzipped them). The manifest is canonical JSON: the same archive always gives the same
 * manifest digest.
 */
export async function readLegacyDockerSave(
  files: ArchiveFiles,
  entries: readonly DockerSaveEntry[],
  limits: ArchiveLimits,
): Promise<{ graph: ContentGraph; images: ArchiveImage[] }> {
  const archive = files.description;
  const blobs = new Map<string, { bytes: Buffer; file: string }>();
  const roots: { descriptor: Descriptor; listedIn: string }[] = [];
  const images: ArchiveImage[] = [];
  for (const [i, entry] of entries.entries()) {
    const config = await readListed(files, entry.Config, limits.maxJsonBytes, i);
    const configDigest = digestOf(config);
    const namedDigest = /^([a-f0-9]{64})\.json$/.exec(basename(entry.Config))?.[1];
    if (namedDigest !== undefined && `sha256:${namedDigest}` !== configDigest) {
      throw refuse({ archive, file: entry.Config }, `is named after sha256:${namedDigest} but its content has digest ${configDigest}`);
    }
    const { diffIds } = checkImageConfig(parseJson(config, { archive, file: entry.Config }), { archive, file: entry.Config });
    if (diffIds.length !== entry.Layers.length) {
      throw refuse({ archive, file: DOCKER_MANIFEST_FILE }, `entry [${i}] lists ${entry.Layers.length} layers, but its config has ${diffIds.length} diff_ids`);
    }
    blobs.set(configDigest, { bytes: config, file: entry.Config });
    const layers: Descriptor[] = [];
    for (const path of entry.Layers) {
      const bytes = await readListed(files, path, limits.maxBlobBytes, i);
      const compression = compressionOfBytes(bytes);
      if (compression === "zstd")
        throw refuse(
          { archive, file: path },
          "is zstd-compressed, which a Docker schema2 manifest cannot name",
          "Save the image from Docker 25 or later, or as an OCI layout.",
        );
      const digest = digestOf(bytes);
      blobs.set(digest, { bytes, file: path });
      layers.push({ mediaType: compression === "gzip" ? MediaType.dockerLayerTarGzip : MediaType.dockerLayerTar, digest, size: bytes.length });
    }
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MediaType.dockerManifest,
      config: { mediaType: MediaType.dockerConfig, digest: configDigest, size: config.length },
      layers,
    };
    const bytes = Buffer.from(canonicalJson(manifest));
    const descriptor: Descriptor = { mediaType: MediaType.dockerManifest, digest: digestOf(bytes), size: bytes.length };
    blobs.set(descriptor.digest, { bytes, file: `(the manifest constructed for ${DOCKER_MANIFEST_FILE} entry [${i}])` });
    roots.push({ descriptor, listedIn: DOCKER_MANIFEST_FILE });
    images.push({ names: [...entry.RepoTags], descriptor, manifestOrigin: "constructed" });
  }
  const source: BlobSource = {
    description: archive,
    read: async (digest) => blobs.get(digest)?.bytes,
    fileOf: (digest) => blobs.get(digest)?.file ?? digest,
  };
  return { graph: await verifyContentGraph(source, roots, limits), images };
}

async function readListed(files: ArchiveFiles, path: string, maxBytes: number, entry: number): Promise<Buffer> {
  const bytes = await files.read(path, maxBytes);
  if (bytes === undefined)
    throw refuse({ archive: files.description, file: DOCKER_MANIFEST_FILE }, `entry [${entry}] names ${quoteName(path)}, which is not in the archive`);
  return bytes;
}
