/**
 * BuildKit's cache metadata as it travels inside an image config: `moby.buildkit.cache.v0`
 * (inline cache) and `moby.buildkit.buildinfo.v1`. Types follow the JSON tags of
 * moby/buildkit cache/remotecache/v1/spec.go.
 *
 * The inline value is NOT a CacheConfig object: the inline exporter writes
 * `json.Marshal(cfg.Records)` (a bare array of records) and the importer reads it back into
 * `config.Records`; the layers are the image's own, so `layer` indexes rootfs.diff_ids.
 * Both shapes are accepted here.
 */
import type { ImageConfig } from "./types.ts";

export const INLINE_CACHE_KEY = "moby.buildkit.cache.v0";
export const BUILD_INFO_KEY = "moby.buildkit.buildinfo.v1";

/**
 * A full cache config (the `application/vnd.buildkit.cacheconfig.v0` blob of registry/local cache).
 * @public BuildKit's own type (cache/remotecache/v1/spec.go), kept as what the inline value is compared with above.
 */
export interface CacheConfig {
  layers?: CacheLayer[];
  records?: CacheRecord[];
}

export interface CacheLayer {
  blob?: string;
  /** Index of the parent layer, -1 for none. Go's omitempty drops 0, so absent means 0. */
  parent?: number;
  annotations?: CacheLayerAnnotations;
}

export interface CacheLayerAnnotations {
  mediaType?: string;
  diffID?: string;
  size?: number;
  createdAt?: string;
  additional?: Record<string, string>;
}

export interface CacheRecord {
  /** Results whose layers are a prefix of the image's layers, by the index of the top one (`Results` in Go). */
  layers?: CacheResult[];
  /** Results whose layers are not in image order, each layer listed (`ChainedResults` in Go, v0.10+). */
  chains?: ChainedResult[];
  digest: string;
  /** One list per input of the operation; each link indexes the records array. */
  inputs?: CacheInput[][];
}

export interface CacheResult {
  layer: number;
  createdAt?: string;
}

export interface ChainedResult {
  layers: number[];
  /** Go writes its zero time, "0001-01-01T00:00:00Z", when unset. */
  createdAt?: string;
}

export interface CacheInput {
  selector?: string;
  link: number;
}

export interface InlineCacheConfig {
  records: CacheRecord[];
  /** Present only when the value was a full CacheConfig object rather than a records array. */
  layers?: CacheLayer[];
}

export interface InlineCacheSummary {
  records: number;
  recordsWithLayers: number;
  recordsWithChains: number;
  /** Records with layer results and no chains (see recordsMissingChains). */
  recordsMissingChains: number;
  /** Records with neither: the inputs of other records (sources, intermediate steps). */
  recordsWithoutResults: number;
  links: number;
}

/** The value of a BuildKit key in an image config is malformed (a finding, not a harness failure). */
export class InlineCacheFormatError extends Error {
  override name = "InlineCacheFormatError";
}

export function decodeInlineCache(config: ImageConfig): InlineCacheConfig | undefined {
  const json = decodeBase64Json(config, INLINE_CACHE_KEY);
  if (json === undefined) return undefined;
  const records = Array.isArray(json) ? json : isObject(json) ? (json.records ?? []) : undefined;
  if (!Array.isArray(records)) throw new InlineCacheFormatError(`${INLINE_CACHE_KEY} holds neither a records array nor a cache config object`);
  for (const [i, r] of records.entries()) checkRecord(r, i);
  const layers = !Array.isArray(json) && isObject(json) && Array.isArray(json.layers) ? (json.layers as CacheLayer[]) : undefined;
  return { records: records as CacheRecord[], ...(layers ? { layers } : {}) };
}

export function recordsWithLayers(cache: InlineCacheConfig): CacheRecord[] {
  return cache.records.filter((r) => (r.layers?.length ?? 0) > 0);
}

export function recordsWithChains(cache: InlineCacheConfig): CacheRecord[] {
  return cache.records.filter((r) => (r.chains?.length ?? 0) > 0);
}

/**
 * Records that have layer results but no chains. Note: BuildKit's inline exporter writes a
 * result under `layers` when its layers are in image order and under `chains` otherwise,
 * so a record with `layers` and no `chains` is also what a healthy export of an in-order
 * result (e.g. the base image's record) looks like.
 */
export function recordsMissingChains(cache: InlineCacheConfig): CacheRecord[] {
  return cache.records.filter((r) => (r.layers?.length ?? 0) > 0 && (r.chains?.length ?? 0) === 0);
}

/**
 * Records (by digest) whose layer or chain results in `before` are fewer in `after`: the
 * symptom of moby/buildkit#3009, seen by comparing two exports of the same build.
 */
export function recordsLosingResults(before: InlineCacheConfig, after: InlineCacheConfig): Array<{ digest: string; lost: Array<"layers" | "chains"> }> {
  const count = (cache: InlineCacheConfig) => {
    const byDigest = new Map<string, { layers: number; chains: number }>();
    for (const r of cache.records) {
      const c = byDigest.get(r.digest) ?? { layers: 0, chains: 0 };
      c.layers += r.layers?.length ?? 0;
      c.chains += r.chains?.length ?? 0;
      byDigest.set(r.digest, c);
    }
    return byDigest;
  };
  const later = count(after);
  const losses: Array<{ digest: string; lost: Array<"layers" | "chains"> }> = [];
  for (const [digest, was] of count(before)) {
    const now = later.get(digest) ?? { layers: 0, chains: 0 };
    const lost = (["layers", "chains"] as const).filter((k) => now[k] < was[k]);
    if (lost.length > 0) losses.push({ digest, lost });
  }
  return losses;
}

export function summarizeInlineCache(cache: InlineCacheConfig): InlineCacheSummary {
  return {
    records: cache.records.length,
    recordsWithLayers: recordsWithLayers(cache).length,
    recordsWithChains: recordsWithChains(cache).length,
    recordsMissingChains: recordsMissingChains(cache).length,
    recordsWithoutResults: cache.records.filter((r) => !r.layers?.length && !r.chains?.length).length,
    links: cache.records.reduce((n, r) => n + (r.inputs ?? []).reduce((m, input) => m + input.length, 0), 0),
  };
}

export interface BuildSource {
  type: string;
  ref: string;
  alias?: string;
  pin?: string;
}

export interface BuildInfo {
  frontend?: string;
  attrs?: Record<string, string | null>;
  sources?: BuildSource[];
  deps?: Record<string, BuildInfo>;
}

export function decodeBuildInfo(config: ImageConfig): BuildInfo | undefined {
  const json = decodeBase64Json(config, BUILD_INFO_KEY);
  if (json === undefined) return undefined;
  if (!isObject(json)) throw new InlineCacheFormatError(`${BUILD_INFO_KEY} does not hold a JSON object`);
  return json as BuildInfo;
}

/** Go marshals a []byte field as a base64 string, so these keys hold base64-encoded JSON. */
function decodeBase64Json(config: ImageConfig, key: string): unknown {
  const value = config[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new InlineCacheFormatError(`${key} is a ${typeof value}, not a base64 string`);
  const compact = value.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) throw new InlineCacheFormatError(`${key} is not valid base64`);
  const text = Buffer.from(compact, "base64").toString("utf8");
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new InlineCacheFormatError(`${key} does not decode to JSON: ${(err as Error).message}`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function checkRecord(r: unknown, i: number): void {
  const where = `${INLINE_CACHE_KEY} record ${i}`;
  if (!isObject(r)) throw new InlineCacheFormatError(`${where} is not an object`);
  if (typeof r.digest !== "string") throw new InlineCacheFormatError(`${where} has no digest`);
  for (const field of ["layers", "chains", "inputs"] as const) {
    if (r[field] !== undefined && r[field] !== null && !Array.isArray(r[field])) throw new InlineCacheFormatError(`${where}: ${field} is not an array`);
  }
}
