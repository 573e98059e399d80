/**
 * Bounds on what an image archive may make the harness read. Archives come with
 * scenarios, that is with anyone's pull request, so each bound is checked before the
 * bytes are read or decompressed, never after.
 */
export interface ArchiveLimits {
  /** The archive file (a tar, after gunzip if gzipped) or the sum of the files read from a layout directory. */
  readonly maxTotalBytes: number;
  /** One blob or file: a layer, a config, a manifest. */
  readonly maxBlobBytes: number;
  /** One layer once decompressed, while its diff_id is verified. */
  readonly maxUncompressedLayerBytes: number;
  /** Entries of a tar, or descriptors reachable from index.json / manifest.json. */
  readonly maxEntries: number;
  /** index.json, manifest.json, oci-layout, every manifest and every image config. */
  readonly maxJsonBytes: number;
  /** Index blobs in a chain below index.json; a multi-platform image has one, BuildKit's attestations do not add any. */
  readonly maxIndexDepth: number;
}

const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = {
  maxTotalBytes: 256 * 1024 * 1024,
  maxBlobBytes: 128 * 1024 * 1024,
  maxUncompressedLayerBytes: 512 * 1024 * 1024,
  maxEntries: 10_000,
  // The limit distribution (the registry) puts on a manifest; configs with inline cache fit too.
  maxJsonBytes: 4 * 1024 * 1024,
  maxIndexDepth: 4,
};

export function archiveLimits(overrides: Partial<ArchiveLimits> = {}): ArchiveLimits {
  const limits = { ...DEFAULT_ARCHIVE_LIMITS, ...overrides };
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`archive limit ${key} must be a non-negative integer, got ${value}`);
  }
  return limits;
}

/** Exact below 1 MiB (limits are often set in bytes in tests and messages must match them). */
export function formatBytes(n: number): string {
  const mib = 1024 * 1024;
  if (n < mib) return `${n} bytes`;
  return `${(n / mib).toFixed(n % mib === 0 ? 0 : 1)} MiB`;
}
