/**
 * What a scenario run saw, complete and untouched: configs whole, the inline cache
 * decoded once, every step and warning, each output read back, the daemons' fate. The
 * runner records this and judges nothing; assertions read it, reports render it.
 */
import type { InlineCacheConfig } from "../oci/inline-cache.ts";
import type { LayerEntry } from "../oci/layer-entries.ts";
import type { ImageConfig, Index, Manifest } from "../oci/types.ts";
import type { Output } from "./model.ts";

export interface StepObservation {
  /** The step as the Dockerfile shows it, e.g. "RUN echo hi" (a COPY --link's vertices as one step). */
  readonly step: string;
  readonly cached: boolean;
  /** Vertices BuildKit reported for this step (2 for a COPY --link); `cached` is true only if all were. */
  readonly vertices: number;
  readonly cachedVertices: number;
  readonly error?: string;
  readonly durationMs?: number;
  /** What the step printed, its end (bounded). */
  readonly log?: string;
}

/** A layer of an image, listed, bottom first. */
export interface ListedLayer {
  readonly digest: string;
  readonly diffId?: string;
  readonly entries: readonly LayerEntry[];
  /** The layer is one of a base image's layers (the harness's or the scenario's), not made by the build. */
  readonly fromBaseImage: boolean;
}

export interface ImageObservation {
  /** Where it was read: a repository of the test registry, or the archive an exporter wrote. */
  readonly source: "registry" | "oci-archive" | "docker-archive";
  /** For messages: repository@digest, or the archive's name. */
  readonly location: string;
  /** The repository of the test registry it was pushed to (registry images). */
  readonly repository?: string;
  readonly indexDigest?: string;
  readonly index?: Index;
  readonly manifestDigest: string;
  readonly manifest: Manifest;
  readonly configDigest: string;
  readonly config: ImageConfig;
  /** `moby.buildkit.cache.v0`, decoded; an undecodable value is an observation too. */
  readonly inlineCache?: { readonly decoded: InlineCacheConfig } | { readonly error: string };
  readonly layers: readonly ListedLayer[];
}

export interface OutputObservation {
  readonly index: number;
  readonly type: Output["type"];
  readonly image?: ImageObservation;
  /** A local or tar export's files, in the shape of layer entries. */
  readonly files?: readonly LayerEntry[];
  /** Why the output could not be read back (the exporter reported success but nothing is there, …). */
  readonly unreadable?: string;
}

/** How a daemon ended when it was not the harness that stopped it. */
export interface DaemonExit {
  readonly exitCode: number;
  readonly oomKilled: boolean;
  /** The first lines of a Go panic or fatal error in its log, when it crashed. */
  readonly panic?: readonly string[];
}

export interface BuildObservation {
  readonly build: string;
  /** 1-based attempt, where a racy bug makes the scenario run several times. */
  readonly attempt?: number;
  /** 1-based iteration of the enclosing repeat, if any. */
  readonly iteration?: number;
  /** Order of this build among all builds of the attempt, from 1. */
  readonly sequence: number;
  /** The exact buildctl command line, for reproducing by hand. */
  readonly command: readonly string[];
  readonly exitCode: number;
  /** The build's error, when it failed. */
  readonly error?: string;
  /** The daemon crashed during this build (a Go panic or an exit of its own). */
  readonly crash?: DaemonExit;
  readonly wallMs: number;
  /** The parsed --metadata-file. */
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly steps: readonly StepObservation[];
  /** Warnings the frontend reported (Dockerfile checks). */
  readonly warnings: readonly string[];
  readonly outputs: readonly OutputObservation[];
}

export interface EventObservation {
  readonly kind: "prune" | "fresh-builder" | "remove-image" | "pull" | "edit" | "wait";
  /** For edits: what changed, e.g. "write context/app.txt". */
  readonly detail?: string;
  readonly afterSequence: number;
  readonly iteration?: number;
  readonly wallMs: number;
}

/** One daemon container a scenario used (a fresh builder makes another). */
export interface DaemonRecord {
  readonly container: string;
  /** Which buildkitd process of the container, from 1; absent for a dockerd engine. */
  readonly generation?: number;
  /** The tail of its log, bounded. */
  readonly log: string;
  readonly logTruncated: boolean;
  readonly exit?: DaemonExit;
}

/** A base image as the run pushed it into the test registry. */
export interface BaseImageObservation {
  readonly reference: string;
  readonly manifestDigest: string;
  readonly manifest: Manifest;
  /** How it was made: the harness's recipe, or the scenario's archive. */
  readonly origin: string;
}

export interface AttemptObservation {
  readonly attempt?: number;
  /** By the name `{{image:<name>}}` uses. */
  readonly baseImages: Readonly<Record<string, BaseImageObservation>>;
  readonly builds: readonly BuildObservation[];
  readonly events: readonly EventObservation[];
  readonly daemons: readonly DaemonRecord[];
  /** Set when the steps stopped before the end (BuildKit crashed), with why. */
  readonly stoppedEarly?: string;
  readonly wallMs: number;
  readonly buildctlWallMs: number;
}
