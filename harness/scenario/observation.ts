import type { InlineCacheConfig } from "../oci/inline-cache.ts";

/**
 * What a scenario run saw, as plain data: results first, rendering later. Nothing here
 * judges; assertions and verdicts read it.
 */
export interface StepObservation {
  /** The step as the Dockerfile shows it, e.g. "RUN echo hi" (or the vertex name for internal ones). */
  readonly step: string;
  readonly cached: boolean;
  readonly error?: string;
  readonly durationMs?: number;
}

export interface InlineCacheObservation {
  readonly records: number;
  /** Records whose results are listed under `layers` (layers in image order). */
  readonly recordsWithLayers: number;
  /** Records whose results are listed under `chains`. */
  readonly recordsWithChains: number;
  /**
   * Records (by cache key digest) that have fewer `layers` or `chains` results than in
   * the previous run of the same build: how moby/buildkit#3009 shows.
   */
  readonly lostSincePreviousRun: readonly { readonly digest: string; readonly lost: readonly ("layers" | "chains")[] }[];
  /** The decoded `moby.buildkit.cache.v0`, kept for drill-down and diffs. */
  readonly decoded: InlineCacheConfig;
}

export interface BuildObservation {
  readonly build: string;
  /** 1-based attempt, where a racy bug makes the scenario run several times. */
  readonly attempt?: number;
  /** 1-based iteration of the enclosing repeat, if any. */
  readonly iteration?: number;
  /** Order of this build among all builds of the run, from 1. */
  readonly sequence: number;
  readonly exitCode: number;
  readonly error?: string;
  readonly wallMs: number;
  /** `containerimage.digest`: the pushed manifest or index. */
  readonly imageDigest?: string;
  readonly configDigest?: string;
  /** The linux/amd64 image manifest (differs from imageDigest when an index was pushed). */
  readonly manifestDigest?: string;
  /** rootfs.diff_ids of the image config, bottom first. */
  readonly diffIds?: readonly string[];
  /** The parsed --metadata-file. */
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly steps: readonly StepObservation[];
  readonly inlineCache?: InlineCacheObservation;
  /** The pushed image's config without its inline cache value (that is in `inlineCache.decoded`). */
  readonly config?: Readonly<Record<string, unknown>>;
  /** The exact buildctl command line, for reproducing by hand. */
  readonly command: readonly string[];
}

export interface EventObservation {
  readonly kind: "prune" | "fresh-builder" | "edit";
  /** For edits: what changed, e.g. "write context/app.txt". */
  readonly detail?: string;
  readonly afterSequence: number;
  readonly iteration?: number;
  readonly wallMs: number;
}
