/**
 * The nightly workflow's matrix, read from the versions file (so the file stays the one
 * list): one job per default-matrix version. `master` runs in its own job, reported apart.
 */
import { type BuildkitVersion, matrixVersions } from "../provision/versions.ts";

export interface NightlyMatrix {
  readonly include: readonly { readonly version: string }[];
}

export function nightlyMatrix(versions: readonly BuildkitVersion[] = matrixVersions()): NightlyMatrix {
  return { include: versions.map((v) => ({ version: v.version })) };
}
