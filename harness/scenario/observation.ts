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
  readonly recordsWithLayers: number;
  /** Digests of records that have layer results but no `chains`. */
  readonly recordsMissingChains: readonly string[];
  /** The decoded `moby.buildkit.cache.v0`, kept for drill-down and diffs. */
  readonly decoded: unknown;
}

export interface BuildObservation {
  readonly build: string;
  /** 1-based iteration of the enclosing repeat, if any. */
  readonly iteration?: number;
  /** Order of this build among all builds of the run, from 1. */
  readonly sequence: number;
  readonly exitCode: number;
  readonly error?: string;
  readonly wallMs: number;
  readonly imageDigest?: string;
  readonly configDigest?: string;
  readonly steps: readonly StepObservation[];
  readonly inlineCache?: InlineCacheObservation;
  /** The exact buildctl command line, for reproducing by hand. */
  readonly command: readonly string[];
}

export interface EventObservation {
  readonly kind: "prune" | "fresh-builder";
  readonly afterSequence: number;
  readonly iteration?: number;
  readonly wallMs: number;
}
