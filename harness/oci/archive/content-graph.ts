/**
 * Everything reachable from an archive's top-level descriptors, read once and verified:
 * every blob present, its size and digest as its descriptor says, every manifest and
 * index well formed with media types the harness knows, every image config's diff_ids
 * matching its layers. Pushing and observing then only ever read verified bytes.
 */
import { createHash } from "node:crypto";
import * as zlib from "node:zlib";
import { digestMismatch } from "../digest.ts";
import { compressionOfBytes, compressionOfMediaType } from "../layer-entries.ts";
import {
  ATTESTATION_MANIFEST,
  type Descriptor,
  IMAGE_MANIFEST_MEDIA_TYPES,
  INDEX_MEDIA_TYPES,
  type Index,
  type Manifest,
  MediaType,
  REFERENCE_TYPE_ANNOTATION,
} from "../types.ts";
import { blobPath, CONFIG_MEDIA_TYPES, checkImageConfig, checkIndex, checkManifest, LAYER_MEDIA_TYPES, parseJson, refuse, type Where } from "./documents.ts";
import { type ArchiveLimits, formatBytes } from "./limits.ts";

/** Where the graph's blobs come from: a layout's blobs/ folder, or a docker save archive's files. */
export interface BlobSource {
  readonly description: string;
  /** Undefined when the archive has no such blob. */
  read(digest: string, maxBytes: number): Promise<Buffer | undefined>;
  /** The file a blob lives in, for messages. */
  fileOf(digest: string): string;
}

export type NodeRole = "index" | "manifest" | "config" | "layer";

export interface GraphNode {
  readonly descriptor: Descriptor;
  readonly role: NodeRole;
  readonly bytes: Buffer;
  /** Set for indexes and manifests. */
  readonly document?: Index | Manifest;
  /** Digests this node references (an index's manifests; a manifest's config then layers). */
  readonly children: readonly string[];
}

export interface ContentGraph {
  readonly nodes: ReadonlyMap<string, GraphNode>;
  /** Problems that do not make the archive unusable (e.g. a zstd layer whose diff_id Node cannot check). */
  readonly warnings: readonly string[];
}

export interface GraphRoot {
  readonly descriptor: Descriptor;
  /** The document that lists it, for messages: "index.json" or "manifest.json". */
  readonly listedIn: string;
}

export async function verifyContentGraph(source: BlobSource, roots: readonly GraphRoot[], limits: ArchiveLimits): Promise<ContentGraph> {
  const nodes = new Map<string, GraphNode>();
  const warnings: string[] = [];
  // Layers shared by several platforms' manifests are decompressed once.
  const checkedDiffIds = new Map<string, string>();
  const archive = source.description;

  const visit = async (descriptor: Descriptor, role: NodeRole, listedIn: string, depth: number, attestation: boolean): Promise<void> => {
    const known = nodes.get(descriptor.digest);
    if (known) {
      if (known.descriptor.size !== descriptor.size || known.role !== role) {
        throw refuse(
          { archive, file: listedIn },
          `references ${descriptor.digest} as a ${role} of ${descriptor.size} bytes, but elsewhere as a ${known.role} of ${known.descriptor.size}`,
        );
      }
      return;
    }
    if (nodes.size >= limits.maxEntries)
      throw refuse({ archive, file: listedIn }, `references more than ${limits.maxEntries} blobs`, "Put fewer images in one archive.");
    const file = source.fileOf(descriptor.digest);
    const where: Where = { archive, file };
    const isDocument = role !== "layer";
    const max = isDocument ? limits.maxJsonBytes : limits.maxBlobBytes;
    if (descriptor.size > max) {
      throw refuse(where, `is declared as ${formatBytes(descriptor.size)}, more than the ${formatBytes(max)} allowed for a ${role}`, "Use a smaller image.");
    }
    const bytes = await source.read(descriptor.digest, max);
    if (bytes === undefined) {
      throw refuse(
        { archive, file: listedIn },
        `references ${descriptor.digest} (${role}), which is not in the archive`,
        "The archive is incomplete (e.g. a multi-platform image saved with only one platform's layers); save it with every platform, or only the one needed.",
      );
    }
    if (bytes.length !== descriptor.size) throw refuse(where, `is ${bytes.length} bytes, but ${listedIn} declares ${descriptor.size}`);
    const actual = digestMismatch(bytes, descriptor.digest);
    if (actual !== undefined) throw refuse(where, `has digest ${actual}, not the ${descriptor.digest} that ${listedIn} names`);
    if (descriptor.data !== undefined && !Buffer.from(descriptor.data, "base64").equals(bytes)) {
      throw refuse({ archive, file: listedIn }, `embeds data for ${descriptor.digest} that differs from the blob`);
    }

    if (role === "index") {
      if (depth >= limits.maxIndexDepth) throw refuse(where, `nests indexes deeper than ${limits.maxIndexDepth}`);
      const index = checkIndex(parseJson(bytes, where), descriptor.mediaType, where, limits.maxEntries);
      nodes.set(descriptor.digest, { descriptor, role, bytes, document: index, children: index.manifests.map((m) => m.digest) });
      for (const child of index.manifests) {
        const childIsAttestation = child.annotations?.[REFERENCE_TYPE_ANNOTATION] === ATTESTATION_MANIFEST;
        await visit(child, roleOfManifest(child.mediaType), file, depth + 1, childIsAttestation);
      }
      return;
    }
    if (role === "manifest") {
      const manifest = checkManifest(parseJson(bytes, where), descriptor.mediaType, where, limits.maxEntries);
      nodes.set(descriptor.digest, {
        descriptor,
        role,
        bytes,
        document: manifest,
        children: [manifest.config.digest, ...manifest.layers.map((l) => l.digest)],
      });
      if (!CONFIG_MEDIA_TYPES.includes(manifest.config.mediaType)) {
        throw refuse(where, `has a config of media type ${manifest.config.mediaType}; only image configs (${CONFIG_MEDIA_TYPES.join(", ")}) are accepted`);
      }
      const allowedLayers = attestation ? [MediaType.inTotoStatement] : LAYER_MEDIA_TYPES;
      for (const [i, layer] of manifest.layers.entries()) {
        if (!allowedLayers.includes(layer.mediaType)) {
          throw refuse(
            where,
            `layers[${i}] has media type ${layer.mediaType}; ${attestation ? "an attestation manifest holds in-toto statements only" : `accepted: ${LAYER_MEDIA_TYPES.join(", ")}`}`,
          );
        }
      }
      await visit(manifest.config, "config", file, depth + 1, attestation);
      for (const layer of manifest.layers) await visit(layer, "layer", file, depth + 1, attestation);
      if (!attestation) {
        const configWhere = { archive, file: source.fileOf(manifest.config.digest) };
        const { diffIds } = checkImageConfig(parseJson(nodes.get(manifest.config.digest)!.bytes, configWhere), configWhere);
        if (diffIds.length !== manifest.layers.length) {
          throw refuse(configWhere, `lists ${diffIds.length} diff_ids, but the manifest ${descriptor.digest} has ${manifest.layers.length} layers`);
        }
        for (const [i, layer] of manifest.layers.entries()) {
          const diffId = diffIds[i]!;
          if (checkedDiffIds.get(layer.digest) === diffId) continue;
          const warning = await checkDiffId(nodes.get(layer.digest)!.bytes, layer, diffId, { archive, file: source.fileOf(layer.digest) }, limits);
          if (warning) warnings.push(warning);
          else checkedDiffIds.set(layer.digest, diffId);
        }
      }
      return;
    }
    if (role === "config") parseJson(bytes, where);
    nodes.set(descriptor.digest, { descriptor, role, bytes, children: [] });
  };

  for (const root of roots) {
    if (!INDEX_MEDIA_TYPES.includes(root.descriptor.mediaType) && !IMAGE_MANIFEST_MEDIA_TYPES.includes(root.descriptor.mediaType)) {
      throw refuse(
        { archive, file: root.listedIn },
        `lists ${root.descriptor.digest} with media type ${root.descriptor.mediaType}, which is neither an image manifest nor an index`,
      );
    }
    blobPath(root.descriptor.digest, { archive, file: root.listedIn });
    await visit(root.descriptor, roleOfManifest(root.descriptor.mediaType), root.listedIn, 0, false);
  }
  return { nodes, warnings: [...new Set(warnings)] };
}

function roleOfManifest(mediaType: string): NodeRole {
  return INDEX_MEDIA_TYPES.includes(mediaType) ? "index" : "manifest";
}

/**
 * The layer's uncompressed digest must be the config's diff_id, or BuildKit fails later
 * with a message about something else. Decompression is streamed and bounded.
 */
async function checkDiffId(bytes: Buffer, layer: Descriptor, diffId: string, where: Where, limits: ArchiveLimits): Promise<string | undefined> {
  const claimed = compressionOfMediaType(layer.mediaType);
  const actual = compressionOfBytes(bytes);
  if (claimed !== undefined && claimed !== actual) {
    throw refuse(where, `is labelled ${layer.mediaType} but its bytes are ${actual === "none" ? "not compressed" : actual}`);
  }
  if (actual === "none") {
    if (layer.digest !== diffId)
      throw refuse(where, `is an uncompressed layer, so its diff_id should be its digest ${layer.digest}, but the config says ${diffId}`);
    return undefined;
  }
  if (actual === "zstd") {
    const hasZstd = typeof (zlib as { createZstdDecompress?: unknown }).createZstdDecompress === "function";
    if (!hasZstd) return `the diff_id of zstd layer ${layer.digest} was not verified: Node ${process.versions.node} has no zstd in node:zlib`;
  }
  const computed = await uncompressedDigest(bytes, actual, diffId.split(":")[0]!, limits.maxUncompressedLayerBytes, where);
  if (computed !== diffId) throw refuse(where, `decompresses to ${computed}, but the config's diff_id for it is ${diffId}`);
  return undefined;
}

function uncompressedDigest(bytes: Buffer, compression: "gzip" | "zstd", algorithm: string, maxBytes: number, where: Where): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash(algorithm);
    let total = 0;
    // zstd arrived in node:zlib with Node 22.15; checked by the caller.
    const stream =
      compression === "gzip" ? zlib.createGunzip() : (zlib as unknown as { createZstdDecompress: () => NodeJS.ReadWriteStream }).createZstdDecompress();
    stream.on("data", (chunk: Buffer) => {
      total += chunk.length;
      if (total > maxBytes) {
        (stream as unknown as { destroy(): void }).destroy();
        reject(refuse(where, `decompresses to more than ${formatBytes(maxBytes)}`, "Use a smaller base image."));
        return;
      }
      hash.update(chunk);
    });
    stream.on("error", () => reject(refuse(where, `is not a valid ${compression} stream`)));
    stream.on("end", () => resolve(`${algorithm}:${hash.digest("hex")}`));
    stream.end(bytes);
  });
}
