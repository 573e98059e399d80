/**
 * A scenario after loading: validated, defaults applied, every path checked. Plain data:
 * the runner turns it into builds, assertions read what the builds observed, and the
 * verdict combines outcomes with what is declared here.
 */
export interface Scenario {
  readonly id: string;
  readonly title: string;
  /** Links to the upstream issues this scenario reproduces. */
  readonly upstream: readonly string[];
  readonly tags: readonly string[];
  /** What users expect BuildKit to do, in words. */
  readonly expectation: string;
  /** semver range of BuildKit versions the scenario applies to. */
  readonly applies: string;
  /** The kinds of builder it runs on; on others it is not applicable. */
  readonly builders: readonly BuilderKind[];
  /** Client features the steps use, each with the versions that have it; elsewhere the scenario is not applicable. */
  readonly requires: readonly Requirement[];
  /** Base images shipped in the folder, by the name `{{image:<name>}}` uses. */
  readonly images: readonly ScenarioImage[];
  readonly knownBugs: readonly KnownBug[];
  readonly steps: readonly Step[];
  readonly assertions: readonly Assertion[];
  /** The most builds one attempt can run (repeat's extendTo counted in full). */
  readonly maxBuilds: number;
  /** Absolute path of the scenario folder. */
  readonly dir: string;
  readonly file: string;
}

export type BuilderKind = "buildkitd" | "dockerd";

export interface Requirement {
  readonly feature: string;
  readonly versions: string;
}

export interface ScenarioImage {
  readonly name: string;
  /** Scenario-relative path of the archive or layout. */
  readonly path: string;
}

/** An assertion a known bug makes fail; with `actualContains`, only a failure showing that text counts as the bug. */
export interface Explained {
  readonly assertion: string;
  readonly actualContains?: string;
}

/**
 * What is known about the scenario on a range of versions. "reproduces": the explained
 * assertions are known to fail there, every other assertion must hold (a pass is loud).
 * "fixed": documents the release that fixed it; there every assertion must hold.
 */
export interface KnownBug {
  readonly versions: string;
  /** Only on this kind of builder. */
  readonly builder?: BuilderKind;
  /** Only on dockerd engines whose own version is in this range. */
  readonly engine?: string;
  readonly status: "reproduces" | "fixed";
  readonly fixedIn?: string;
  readonly reference: string;
  readonly explains: readonly Explained[];
  /** A racy bug: the whole scenario runs `of` times and the bug must show in at least `atLeast`. */
  readonly racy?: { readonly atLeast: number; readonly of: number };
  readonly note?: string;
}

export type Step = BuildStep | PruneStep | FreshBuilderStep | ImageStoreStep | WaitStep | RepeatStep | EditStep;

/** Attributes passed to buildctl as written (`key=value`); the harness adds the ones it controls. */
export type Attributes = Readonly<Record<string, string>>;

export type CacheImport =
  | { readonly type: "registry"; readonly ref: string; readonly attrs: Attributes }
  | { readonly type: "local"; readonly name: string; readonly attrs: Attributes };

export type CacheExport =
  | { readonly type: "inline"; readonly attrs: Attributes }
  | { readonly type: "registry"; readonly ref: string; readonly attrs: Attributes }
  | { readonly type: "local"; readonly name: string; readonly attrs: Attributes };

/**
 * An exporter. `image`/`registry` push to the test registry; `oci`/`docker` write an image
 * archive and `local`/`tar` the build's file tree, where the harness decides.
 */
export type Output =
  | { readonly type: "image" | "registry"; readonly name: string; readonly push: boolean; readonly attrs: Attributes }
  | { readonly type: "oci" | "docker"; readonly name?: string; readonly attrs: Attributes }
  | { readonly type: "local" | "tar"; readonly attrs: Attributes };

export const IMAGE_OUTPUT_TYPES: ReadonlySet<Output["type"]> = new Set(["image", "registry", "oci", "docker"]);

export interface BuildStep {
  readonly kind: "build";
  readonly name: string;
  /** Scenario-relative folder of the build context. */
  readonly context: string;
  /** Scenario-relative path of the Dockerfile (templated before the build). */
  readonly dockerfile: string;
  readonly buildArgs: Attributes;
  readonly frontendOpts: Attributes;
  readonly importCache: readonly CacheImport[];
  readonly exportCache: readonly CacheExport[];
  readonly outputs: readonly Output[];
  /** Scenario-relative source policy JSON (templated), passed as --source-policy-file. */
  readonly sourcePolicy?: string;
  readonly noCache: boolean;
}

export interface PruneStep {
  readonly kind: "prune";
  readonly all: boolean;
}

export interface FreshBuilderStep {
  readonly kind: "fresh-builder";
}

/** docker rmi / docker pull on a dockerd engine's local image store (nothing on a standalone buildkitd). */
export interface ImageStoreStep {
  readonly kind: "remove-image" | "pull";
  /** Templated; in the test registry. */
  readonly ref: string;
}

export interface WaitStep {
  readonly kind: "wait";
  readonly seconds: number;
}

export interface RepeatStep {
  readonly kind: "repeat";
  readonly times: number;
  /**
   * For racy bugs: when no assertion fails after `times` iterations, keep going until one
   * fails or this many iterations ran.
   */
  readonly extendTo: number;
  readonly steps: readonly Step[];
}

/** A change to the scenario's files between builds, applied to a working copy, never the repository. */
export type EditStep =
  | { readonly kind: "edit"; readonly op: "write" | "append"; readonly path: string; readonly content: string }
  | { readonly kind: "edit"; readonly op: "touch"; readonly path: string; readonly time: number }
  | { readonly kind: "edit"; readonly op: "chmod"; readonly path: string; readonly mode: number }
  | { readonly kind: "edit"; readonly op: "delete"; readonly path: string }
  | { readonly kind: "edit"; readonly op: "copy"; readonly from: string; readonly path: string };

/** A build, or one output of it; assertions on images default to the build's first image output. */
export interface Target {
  readonly build: string;
  readonly output?: number;
}

/** Which layers an assertion reads: the top one, those the build added on top of its base image, or all. */
export type LayerSelection = "last" | "new" | "all";

/** Which digest of a build an assertion compares; "layers" is the list of layer diff_ids. */
export type DigestKind = "image" | "manifest" | "config" | "layers";

interface AssertionBase {
  /** Named by knownBugs[].explains. */
  readonly id: string;
  /** Evaluate only on these versions (semver range); elsewhere it is not evaluated. */
  readonly versions?: string;
}

export type Assertion = AssertionBase &
  (
    | { readonly kind: "build-succeeds"; readonly build: string }
    | { readonly kind: "digest-stable"; readonly target: Target; readonly digest: DigestKind }
    | { readonly kind: "digest-equal" | "digest-differs"; readonly targets: readonly [Target, Target]; readonly digest: DigestKind }
    | { readonly kind: "step-cached"; readonly build: string; readonly step: string; readonly cached: boolean }
    | { readonly kind: "file-equal" | "file-differs"; readonly targets: readonly [Target, Target]; readonly path: string }
    | { readonly kind: "inline-cache-keeps-results"; readonly build: string }
    | { readonly kind: "layer-mtimes"; readonly target: Target; readonly notAfter: number; readonly layers: LayerSelection }
    | { readonly kind: "whiteout"; readonly target: Target; readonly path: string; readonly mtimeNotAfter?: number }
    | { readonly kind: "config-key"; readonly target: Target; readonly key: string; readonly present: boolean }
    | { readonly kind: "config-field"; readonly target: Target; readonly field: string; readonly equals: string }
    | { readonly kind: "metadata-key"; readonly build: string; readonly key: string; readonly present: boolean }
    | { readonly kind: "layer-from-base"; readonly target: Target; readonly layer: number; readonly image: string; readonly baseLayer: number }
    | { readonly kind: "output-readable"; readonly target: Target }
    | {
        readonly kind: "annotation";
        readonly target: Target;
        readonly on: "index" | "manifest" | "layer";
        readonly layer?: number;
        readonly key: string;
        readonly equals?: string;
        readonly present: boolean;
      }
  );

export type AssertionKind = Assertion["kind"];
