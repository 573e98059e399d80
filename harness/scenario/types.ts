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

export interface KnownBug {
  /** semver range where the bug is declared. */
  readonly versions: string;
  readonly status: "reproduces";
  readonly reference: string;
  readonly note?: string;
}

export type Step = BuildStep | PruneStep | FreshBuilderStep | RepeatStep;

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

export type Assertion = DigestStableAssertion | InlineCacheKeepsResultsAssertion;

export interface DigestStableAssertion {
  readonly kind: "digest-stable";
  readonly build: string;
  readonly digest: "image" | "config";
}

/**
 * No inline cache record loses results between consecutive runs of a build: a record
 * (matched by its cache key digest) that listed `layers` or `chains` still lists as many.
 * A single image cannot show this (a record with `layers` and no `chains` is a healthy
 * export of layers in image order); it takes two runs to compare.
 */
export interface InlineCacheKeepsResultsAssertion {
  readonly kind: "inline-cache-keeps-results";
  readonly build: string;
}
