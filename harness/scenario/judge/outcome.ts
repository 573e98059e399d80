import type { Explanation } from "../../oci/diff/index.ts";
import type { AssertionKind } from "../model.ts";

/**
 * holds / fails: what the harness observed says so. inconclusive: it could not observe what
 * the assertion needs (nothing matched, an image that should be there is not): never read
 * as a pass or as a bug. not-evaluated: the assertion does not apply here (gated out on
 * this version, or its build failed or never ran, which another outcome judges).
 */
export type OutcomeStatus = "holds" | "fails" | "inconclusive" | "not-evaluated";

/** Which image of which build run, for explaining a difference between two. */
export interface ImageRef {
  readonly sequence: number;
  readonly output: number;
}

export interface AssertionOutcome {
  readonly id: string;
  readonly kind: AssertionKind | "every-build-succeeds";
  /** The assertion in words, e.g. `config digest of build "rebuild" is the same in every run`. */
  readonly description: string;
  readonly status: OutcomeStatus;
  readonly expected: string;
  /** What was observed (or, when not holds/fails, what was missing). */
  readonly actual: string;
  /** Where it first stopped holding. */
  readonly firstViolation?: { readonly sequence: number; readonly iteration?: number };
  /** For a digest that differs: the two images, so their difference can be explained. */
  readonly differing?: readonly [ImageRef, ImageRef];
  /** Why the two images differ, level by level (added while the registry still holds them). */
  readonly explanation?: Explanation;
}

/** The implicit assertion that covers builds no build-succeeds assertion names. */
export const EVERY_BUILD_SUCCEEDS = "*every-build-succeeds";
