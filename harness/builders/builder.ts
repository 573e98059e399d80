/**
 * A builder is what a result is about: a standalone buildkitd of some release, or a
 * dockerd engine with the BuildKit embedded in it. A scenario attempt talks to one through
 * this interface; each kind translates a build step into its own request (buildctl argv,
 * or the engine's build API) and reports back in the same shape.
 */
import type { StepResult } from "../buildkit/progress/step.ts";
import type { StartedRegistry } from "../environment/registry-container.ts";
import type { HarnessError } from "../errors.ts";
import type { Platform } from "../oci/types.ts";
import type { BuilderKind, BuildStep } from "../scenario/model.ts";
import type { DaemonExit, DaemonRecord } from "../scenario/observation.ts";
import type { BuildPaths, PlannedOutput } from "../scenario/run/request.ts";
import type { TemplateContext } from "../scenario/template.ts";

/** How run ids name an engine: "dockerd:<build id>"; any other id is a BuildKit version. */
export const DOCKERD_PREFIX = "dockerd:";

export interface BuilderIdentity {
  readonly kind: BuilderKind;
  /** How runs name it: "v0.34.0" for a buildkitd, "dockerd:debian-bookworm" for an engine. */
  readonly id: string;
  /** The BuildKit that builds: the daemon's, or the one embedded in the engine. */
  readonly buildkitVersion: string;
  /** For a commit of master: the release whose version ranges it is judged by (versions.ts, masterJudgedAs). */
  readonly judgedAs?: string;
  /** The engine's own version (dockerd only), as its binary reports it. */
  readonly engineVersion?: string;
  /** One line for reports: where the daemon or engine came from (never "official" for a local build). */
  readonly origin: string;
}

/** A build as either kind reports it. */
export interface BuilderBuild {
  readonly exitCode: number;
  readonly error?: string;
  readonly steps: readonly StepResult[];
  /** buildctl's --metadata-file ({} for engine builds, which have none). */
  readonly metadata: Readonly<Record<string, unknown>>;
  /** The digest the build or its push reported for its pushed image, when it did. */
  readonly pushedDigest?: string;
  /** The command line a person would type to do the same by hand. */
  readonly command: readonly string[];
  readonly wallMs: number;
  readonly warnings: readonly string[];
  /** Where each output went, to read it back. */
  readonly outputs: readonly PlannedOutput[];
}

/** Why a failed build failed, when it was the machine: a crash is BuildKit's, a fault is not. */
export type MachineDiagnosis = { readonly crash: DaemonExit } | { readonly fault: HarnessError } | undefined;

export interface ScenarioBuilder {
  readonly identity: BuilderIdentity;
  /** The test registry of the current attempt (replaced by freshRegistry). */
  readonly registry: StartedRegistry;
  /** The platform images are built and read for. */
  readonly platform: Platform;
  /** A fresh registry (holding only the base images) under the same name. */
  freshRegistry(): Promise<void>;
  /** A daemon or engine with empty state: a new CI runner. */
  freshBuilder(): Promise<void>;
  /** The logs and fates of the daemons or engines used since the last call. */
  takeDaemonRecords(): Promise<DaemonRecord[]>;
  /** After a failure: was it the machine (a fault), or did BuildKit die (a crash)? */
  diagnose(evidence: string | undefined): Promise<MachineDiagnosis>;
  build(step: BuildStep, sequence: number, ctx: TemplateContext, paths: BuildPaths, signal: AbortSignal): Promise<BuilderBuild>;
  /** Drops the build cache (buildctl prune / docker builder prune). */
  prune(all: boolean): Promise<void>;
  /** Removes an image from the engine's local store; says what happened, for the report. */
  removeImage(reference: string): Promise<string>;
  /** Pulls an image into the engine's local store; says what happened, for the report. */
  pull(reference: string): Promise<string>;
  stop(): Promise<void>;
}
