/**
 * What a given buildctl client version can do, by the release that introduced each flag
 * (checked against moby/buildkit's cmd/buildctl sources at those tags).
 */
import semver from "semver";
import { HarnessError } from "../errors.ts";

export const CLIENT_FEATURES = {
  /** `buildctl build --progress=rawjson` (cmd/buildctl/build.go, v0.13.0). */
  rawjsonProgress: "0.13.0",
  /** `buildctl du --format` and `buildctl prune --format` (absent in v0.10.6, present in v0.11.0). */
  diskUsageFormat: "0.11.0",
  /** `buildctl debug workers --format` (present from v0.10.0). */
  workersFormat: "0.10.0",
} as const;

export type ClientFeature = keyof typeof CLIENT_FEATURES;

/** "v0.34.2" / "0.13.2" / "v0.13.0-rc1" → a semver version; throws for anything else. */
export function parseClientVersion(clientVersion: string): semver.SemVer {
  const parsed = semver.parse(clientVersion.replace(/^v/, ""));
  if (!parsed) {
    throw new HarnessError(
      "UNKNOWN_BUILDKIT_VERSION",
      `not a BuildKit release version: ${JSON.stringify(clientVersion)}`,
      'give the buildctl version as a release tag, e.g. "v0.13.2"',
    );
  }
  return parsed;
}

export function clientSupports(clientVersion: string, feature: ClientFeature): boolean {
  const v = parseClientVersion(clientVersion);
  // Compare the release, not the prerelease: v0.13.0-rc1 already has rawjson.
  return semver.gte(`${v.major}.${v.minor}.${v.patch}`, CLIENT_FEATURES[feature]);
}
