/**
 * The nightly workflow's matrix, read from the versions file and the dockerd builds (so
 * each stays the one list): one job per default-matrix version and one per dockerd engine,
 * whose embedded BuildKit is where some bug families really happen. `master` runs in its
 * own job, reported apart.
 */
import { DOCKERD_PREFIX } from "../builders/builder.ts";
import { DOCKERD_BUILDS, type DockerdBuild } from "../provision/dockerd-builds.ts";
import { type BuildkitVersion, matrixVersions } from "../provision/versions.ts";

export interface NightlyJob {
  /** What `run --version` takes: a release tag, or dockerd:<build>. */
  readonly version: string;
  /** The job's artifact name: GitHub refuses a colon in one. */
  readonly artifact: string;
}

export interface NightlyMatrix {
  readonly include: readonly NightlyJob[];
}

export function nightlyMatrix(versions: readonly BuildkitVersion[] = matrixVersions(), engines: readonly DockerdBuild[] = DOCKERD_BUILDS): NightlyMatrix {
  return {
    include: [
      ...versions.map((v) => ({ version: v.version, artifact: `results-${v.version}` })),
      ...engines.map((e) => ({ version: `${DOCKERD_PREFIX}${e.id}`, artifact: `results-dockerd-${e.id}` })),
    ],
  };
}
