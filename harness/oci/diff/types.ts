/**
 * What the difference explainer says about two images: plain JSON-serialisable data with
 * stable field names (it is stored in results.json and read by the report writers).
 * Renderers only read it.
 */

/** Bumped when a field changes meaning or disappears; adding optional fields does not bump it. */
export const EXPLANATION_SCHEMA_VERSION = 1;

/** As diffoci and regctl use it for exit status: 0 same, 1 different, 2 error. */
export type ExplanationResult = "same" | "different" | "error";

export function exitStatusOf(result: ExplanationResult): 0 | 1 | 2 {
  return result === "same" ? 0 : result === "different" ? 1 : 2;
}

export const CAUSES = [
  "timestamp",
  "cache-metadata",
  "build-info",
  "content",
  "permission",
  "ownership",
  "ordering",
  "history-text",
  "media-type/compression",
  "annotation",
  "platform",
  "other",
] as const;

/** Why two images differ at one place, where that can be told from the place and the values. */
export type Cause = (typeof CAUSES)[number];

/** Where a difference was found. Tar entries belong to the level "layer". */
export type Level = "index" | "manifest" | "config" | "layer";

export type Change = "added" | "removed" | "changed" | "reordered";

/** The fields of a tar entry that are compared, as listLayerEntries reports them. */
export type EntryField = "type" | "mode" | "uid" | "gid" | "mtime" | "content" | "size" | "linkname";

/** One root cause of the digests differing. Digests that differ only because something below them does are not differences. */
export interface Difference {
  level: Level;
  cause: Cause;
  change: Change;
  /** Where, for a reader: "history[2].created", "moby.buildkit.cache.v0 records[0a1b2c3d4e5f].chains", "layers[1]", a tar entry name. */
  subject: string;
  /** The JSON path inside the document of that level (index, manifest, config), where there is one. */
  path?: (string | number)[];
  /** Index of the layer (bottom first), for level "layer". */
  layer?: number;
  /** The tar entry's name, for differences inside a layer. */
  entry?: string;
  field?: EntryField;
  /** Present when the entry is a whiteout, on either side. */
  whiteout?: { kind: "file"; target: string } | { kind: "opaque"; dir: string };
  /** The cache key digest of an inline cache record. */
  record?: string;
  /** JSON values; strings and documents over a size limit are cut and say so. */
  before?: unknown;
  after?: unknown;
  note?: string;
}

export interface DescriptorSummary {
  digest: string;
  mediaType: string;
  size: number;
}

export interface ImageSide {
  /** The content store's description, e.g. "http://127.0.0.1:5000/some/repo". */
  store: string;
  reference: string;
  /** The document the reference names when it is an index (or a Docker manifest list). */
  index?: DescriptorSummary;
  /** The image manifest for the platform. */
  manifest?: DescriptorSummary;
  config?: DescriptorSummary;
}

/**
 * "same": equal digests, nothing below was read. "different": compared, see the
 * differences. "absent": neither side has this level (no index). "not-compared": the
 * explanation stopped above (equal) or failed before it.
 */
export type LevelStatus = "same" | "different" | "absent" | "not-compared";

export interface IndexEntryComparison {
  /** "linux/amd64", "attestation of linux/amd64", "entry 3" for an entry with neither. */
  key: string;
  kind: "platform" | "attestation" | "other";
  a?: string;
  b?: string;
  /** The platform manifest the explanation followed. */
  followed: boolean;
}

export interface LayerSide {
  digest: string;
  mediaType: string;
  size: number;
  /** From the config's rootfs.diff_ids. */
  diffId?: string;
  /** Set when the layer was listed. */
  entries?: number;
}

export type LayerStatus = "same" | "compression-only" | "different" | "added" | "removed" | "too-large";

export interface LayerComparison {
  index: number;
  status: LayerStatus;
  a?: LayerSide;
  b?: LayerSide;
  /** Differences found inside this layer, and how many of them are not in `differences` (the listing limit). */
  differences?: number;
  omitted?: number;
}

/** Per cause, where its differences are, so a summary line can say "12 entries in layer 2, config created". */
export interface CauseTally {
  cause: Cause;
  differences: number;
  places: PlaceTally[];
}

export interface PlaceTally {
  level: Level;
  layer?: number;
  differences: number;
  /** Distinct tar entries involved (layer level). */
  entries?: number;
  /** The first few differences here (not tar entries, which are counted), as short phrases for summaries: "created", "layers[1] removed". */
  examples: string[];
}

export interface ExplainLimits {
  /** Layers whose compressed size is above this are compared by digest only. */
  maxLayerBytes: number;
  /** Entry differences kept per layer; the rest are counted, not listed. */
  maxEntryDifferences: number;
  /** Differences kept for the index, manifest and config levels together. */
  maxDocumentDifferences: number;
  /** Strings and JSON values longer than this are cut in before/after. */
  maxValueChars: number;
}

export interface ExplanationError {
  code?: string;
  message: string;
  hint?: string;
}

export interface Explanation {
  schemaVersion: typeof EXPLANATION_SCHEMA_VERSION;
  result: ExplanationResult;
  /** One line, readable at a glance: "only timestamps differ (12 entries in layer 2, config created)". */
  summary: string;
  /** The platform followed through indexes, e.g. "linux/amd64". */
  platform: string;
  a: ImageSide;
  b: ImageSide;
  levels: {
    index: LevelStatus;
    manifest: LevelStatus;
    config: LevelStatus;
    layers: LevelStatus;
  };
  indexEntries?: IndexEntryComparison[];
  layers: LayerComparison[];
  causes: CauseTally[];
  /** Root causes, index first, then manifest, config, layers bottom first. */
  differences: Difference[];
  /** Differences counted in `causes` but not listed (limits). */
  omittedDifferences: number;
  limits: ExplainLimits;
  error?: ExplanationError;
}
