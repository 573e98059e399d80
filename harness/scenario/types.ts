/**
 * A scenario as written in scenario.yaml, after validation. Plain data: the runner
 * turns it into builds, and the verdict reads what the builds observed.
 */
export interface Scenario {
  readonly id: string;
  readonly title: string;
  /** Links to the upstream issues this scenario reproduces. */
  readonly upstream: readonly string[];
  readonly tags: readonly string[];
  /** What users expect BuildKit to do, in words. */
  readonly expectation: string;
  /** semver range of BuildKit versions the scenario applies to (features it needs). */
  readonly applies: string;
  readonly knownBugs: readonly KnownBug[];
  readonly steps: readonly Step[];
  readonly assertions: readonly Assertion[];
  /** Absolute path of the scenario folder. */
  readonly dir: string;
  readonly file: string;
}

/**
 * What is known about the expectation on a range of versions. "reproduces": it is known
 * to fail there (a failure is the expected outcome, a pass is loud). "fixed": documents
 * the release that fixed it; there the expectation must hold, as where nothing is declared.
 */
export type KnownBug =
  | {
      readonly versions: string;
      readonly status: "reproduces";
      readonly reference: string;
      readonly note?: string;
      /** A racy bug: the whole scenario runs `of` times and the bug must show in at least `atLeast`. */
      readonly racy?: { readonly atLeast: number; readonly of: number };
    }
  | { readonly versions: string; readonly status: "fixed"; readonly fixedIn: string; readonly reference: string; readonly note?: string };

export type Step = BuildStep | PruneStep | FreshBuilderStep | RepeatStep | EditStep;

/** `type=...,key=value,...` as buildctl takes for --import-cache, --export-cache and --output. */
export interface TypedAttrs {
  readonly type: string;
  readonly attrs: Readonly<Record<string, string>>;
}

export interface BuildStep {
  readonly kind: "build";
  /** Assertions refer to a build by this name; a build inside `repeat` has one run per iteration. */
  readonly name: string;
  /** Scenario-relative directory of the build context. */
  readonly context: string;
  /** Scenario-relative path of the Dockerfile (templated before the build). */
  readonly dockerfile: string;
  readonly buildArgs: Readonly<Record<string, string>>;
  readonly frontendOpts: Readonly<Record<string, string>>;
  readonly importCache: readonly TypedAttrs[];
  readonly exportCache: readonly TypedAttrs[];
  readonly output: TypedAttrs;
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

export interface RepeatStep {
  readonly kind: "repeat";
  readonly times: number;
  /**
   * For racy bugs: when every assertion still holds after `times` iterations, keep going
   * until one fails or this many iterations ran. A bug that shows between iteration 3 and
   * 10 in most runs then gives the same verdict every run.
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

export const EDIT_OPS = ["write", "append", "touch", "chmod", "delete", "copy"] as const;

/** Which layers an assertion reads: the top one, those the build added on top of its base image, or all. */
export type LayerSelection = "last" | "new" | "all";
export const LAYER_SELECTIONS: readonly LayerSelection[] = ["last", "new", "all"];

/** Which digest of a build an assertion compares; "layers" is the list of layer diff_ids. */
export type DigestKind = "image" | "config" | "layers";

interface AssertionBase {
  /** Evaluate only on these versions (semver range); elsewhere the assertion is skipped. */
  readonly versions?: string;
  /**
   * A control: it must hold even where a bug is declared (e.g. "the layers are equal"
   * beside "the configs differ"). A failing control is a failure, never the known bug.
   */
  readonly control?: boolean;
}

export type Assertion = AssertionBase &
  (
    | { readonly kind: "digest-stable"; readonly build: string; readonly digest: DigestKind }
    | { readonly kind: "digest-equal" | "digest-differs"; readonly builds: readonly [string, string]; readonly digest: DigestKind }
    | { readonly kind: "step-cached"; readonly build: string; readonly step: string; readonly cached: boolean }
    | { readonly kind: "file-equal" | "file-differs"; readonly builds: readonly [string, string]; readonly path: string }
    /**
     * No inline cache record loses results between consecutive runs of a build: a record
     * (matched by its cache key digest) that listed `layers` or `chains` still lists as many.
     * A single image cannot show this (a record with `layers` and no `chains` is a healthy
     * export of layers in image order); it takes two runs to compare.
     */
    | { readonly kind: "inline-cache-keeps-results"; readonly build: string }
    | { readonly kind: "layer-mtimes"; readonly build: string; readonly notAfter: number; readonly layers: LayerSelection }
    | { readonly kind: "whiteout"; readonly build: string; readonly path: string; readonly mtimeNotAfter?: number }
    | { readonly kind: "config-key"; readonly build: string; readonly key: string; readonly present: boolean }
    | { readonly kind: "config-field"; readonly build: string; readonly field: string; readonly equals: string }
    | { readonly kind: "metadata-key"; readonly build: string; readonly key: string; readonly present: boolean }
  );

export type AssertionKind = Assertion["kind"];

export const ASSERTION_KINDS: readonly AssertionKind[] = [
  "digest-stable",
  "digest-equal",
  "digest-differs",
  "step-cached",
  "file-equal",
  "file-differs",
  "inline-cache-keeps-results",
  "layer-mtimes",
  "whiteout",
  "config-key",
  "config-field",
  "metadata-key",
];

/** Assertions that need the image's layers downloaded and listed. */
export const LAYER_ASSERTIONS: ReadonlySet<AssertionKind> = new Set(["file-equal", "file-differs", "layer-mtimes", "whiteout"]);
