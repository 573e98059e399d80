/**
 * Shape checks for the JSON documents of an image archive (index.json, manifests,
 * configs, docker's manifest.json), so the typed values the rest of the harness reads
 * tell the truth. Errors name the file and the field, never the content.
 */
import { type Descriptor, IMAGE_MANIFEST_MEDIA_TYPES, INDEX_MEDIA_TYPES, type Index, type Manifest, MediaType, type Platform } from "../types.ts";
import { archiveError, HINT_REPACK } from "./archive-error.ts";

export const CONFIG_MEDIA_TYPES: readonly string[] = [MediaType.ociConfig, MediaType.dockerConfig];

/** Layers BuildKit can unpack. Foreign and non-distributable layers are left out on purpose: they carry `urls` to fetch from. */
export const LAYER_MEDIA_TYPES: readonly string[] = [
  MediaType.ociLayerTar,
  MediaType.ociLayerTarGzip,
  MediaType.ociLayerTarZstd,
  MediaType.dockerLayerTar,
  MediaType.dockerLayerTarGzip,
];

const DIGEST_FORMS: Readonly<Record<string, RegExp>> = { sha256: /^[a-f0-9]{64}$/, sha512: /^[a-f0-9]{128}$/ };
// RFC 6838 type/subtype names (restricted-name: 127 characters from a small set).
const MEDIA_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

export interface Where {
  readonly archive: string;
  readonly file: string;
}

export function refuse(where: Where, problem: string, hint = HINT_REPACK): Error {
  return archiveError(where.archive, where.file, problem, hint);
}

/** JSON.parse without its message, which quotes the text it could not read. */
export function parseJson(bytes: Buffer, where: Where): unknown {
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch {
    throw refuse(where, "is not valid JSON");
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Where a blob of `digest` lives in an OCI layout; refuses algorithms and encodings that are not exactly sha256/sha512 lowercase hex. */
export function blobPath(digest: string, where: Where): string {
  const colon = digest.indexOf(":");
  const algorithm = digest.slice(0, colon);
  const encoded = digest.slice(colon + 1);
  const form = DIGEST_FORMS[algorithm];
  if (colon <= 0 || !form || !form.test(encoded)) {
    throw refuse(where, `names a digest that is not sha256 or sha512 in lowercase hex (found ${describeString(digest)})`);
  }
  return `blobs/${algorithm}/${encoded}`;
}

function describeString(value: string): string {
  return value.length > 80 ? `a string of ${value.length} characters` : JSON.stringify(value);
}

function stringMap(value: unknown, field: string, where: Where): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value) || Object.values(value).some((v) => typeof v !== "string")) throw refuse(where, `${field} must map strings to strings`);
  return value as Record<string, string>;
}

export function checkDescriptor(value: unknown, field: string, where: Where): Descriptor {
  if (!isObject(value)) throw refuse(where, `${field} is not a descriptor object`);
  const { mediaType, digest, size, urls, annotations, platform, data, artifactType } = value;
  if (typeof mediaType !== "string" || !MEDIA_TYPE.test(mediaType)) throw refuse(where, `${field}.mediaType is missing or not a media type`);
  if (typeof digest !== "string") throw refuse(where, `${field}.digest is missing`);
  blobPath(digest, { archive: where.archive, file: where.file });
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) throw refuse(where, `${field}.size is not a non-negative integer`);
  if (urls !== undefined) {
    throw refuse(
      where,
      `${field} has "urls": a foreign layer, which BuildKit would fetch from the network`,
      "Use an image whose layers are all in the archive (no Windows foreign layers).",
    );
  }
  const descriptor: Descriptor = { mediaType, digest, size };
  const checkedAnnotations = stringMap(annotations, `${field}.annotations`, where);
  if (checkedAnnotations) descriptor.annotations = checkedAnnotations;
  if (platform !== undefined) descriptor.platform = checkPlatform(platform, `${field}.platform`, where);
  if (data !== undefined) {
    if (typeof data !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(data)) throw refuse(where, `${field}.data is not base64`);
    descriptor.data = data;
  }
  if (artifactType !== undefined) {
    if (typeof artifactType !== "string" || !MEDIA_TYPE.test(artifactType)) throw refuse(where, `${field}.artifactType is not a media type`);
    descriptor.artifactType = artifactType;
  }
  return descriptor;
}

function checkPlatform(value: unknown, field: string, where: Where): Platform {
  if (!isObject(value) || typeof value.os !== "string" || typeof value.architecture !== "string") {
    throw refuse(where, `${field} needs string "os" and "architecture"`);
  }
  for (const key of ["variant", "os.version"] as const) {
    if (value[key] !== undefined && typeof value[key] !== "string") throw refuse(where, `${field}.${key} must be a string`);
  }
  return value as unknown as Platform;
}

/** The document's own `mediaType`, when present, must agree with the descriptor that led to it. */
function checkOwnMediaType(doc: Record<string, unknown>, expected: string, where: Where): void {
  if (doc.mediaType !== undefined && doc.mediaType !== expected) {
    throw refuse(where, `says its mediaType is ${describeString(String(doc.mediaType))}, but it is referenced as ${expected}`);
  }
}

export function checkIndex(value: unknown, mediaType: string, where: Where, maxEntries: number): Index {
  if (!isObject(value) || value.schemaVersion !== 2 || !Array.isArray(value.manifests)) {
    throw refuse(where, 'is not an image index (schemaVersion 2 with a "manifests" array)');
  }
  checkOwnMediaType(value, mediaType, where);
  if (value.manifests.length > maxEntries) throw refuse(where, `lists more than ${maxEntries} manifests`, "Put fewer images in one archive.");
  const manifests = value.manifests.map((m, i) => checkDescriptor(m, `manifests[${i}]`, where));
  for (const [i, m] of manifests.entries()) {
    if (!INDEX_MEDIA_TYPES.includes(m.mediaType) && !IMAGE_MANIFEST_MEDIA_TYPES.includes(m.mediaType)) {
      throw refuse(where, `manifests[${i}] has media type ${m.mediaType}, which is neither an image manifest nor an index`);
    }
  }
  const annotations = stringMap(value.annotations, "annotations", where);
  return { ...(value as unknown as Index), manifests, ...(annotations ? { annotations } : {}) };
}

export function checkManifest(value: unknown, mediaType: string, where: Where, maxEntries: number): Manifest {
  if (!isObject(value) || value.schemaVersion !== 2 || !Array.isArray(value.layers) || value.config === undefined) {
    throw refuse(where, 'is not an image manifest (schemaVersion 2 with "config" and "layers")');
  }
  checkOwnMediaType(value, mediaType, where);
  if (value.layers.length > maxEntries) throw refuse(where, `lists more than ${maxEntries} layers`, "Use an image with fewer layers.");
  const config = checkDescriptor(value.config, "config", where);
  const layers = value.layers.map((l, i) => checkDescriptor(l, `layers[${i}]`, where));
  const annotations = stringMap(value.annotations, "annotations", where);
  return { ...(value as unknown as Manifest), config, layers, ...(annotations ? { annotations } : {}) };
}

/** The fields of an image config the harness relies on: os, architecture and rootfs.diff_ids. */
export function checkImageConfig(value: unknown, where: Where): { diffIds: string[] } {
  if (!isObject(value)) throw refuse(where, "is not a JSON object");
  if (typeof value.os !== "string" || typeof value.architecture !== "string") throw refuse(where, 'needs string "os" and "architecture"');
  const rootfs = value.rootfs;
  if (!isObject(rootfs) || rootfs.type !== "layers" || !Array.isArray(rootfs.diff_ids) || rootfs.diff_ids.some((d) => typeof d !== "string")) {
    throw refuse(where, 'has no rootfs of type "layers" with a diff_ids array');
  }
  const diffIds = rootfs.diff_ids as string[];
  for (const id of diffIds) blobPath(id, where);
  return { diffIds };
}

export function isObjectValue(value: unknown): value is Record<string, unknown> {
  return isObject(value);
}
