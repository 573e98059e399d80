import { readFileSync } from "node:fs";
import semver from "semver";
import { HarnessError } from "../errors.ts";

export interface BuildkitVersion {
  readonly version: string;
  readonly officialDigest: string | null;
  readonly sources: readonly string[];
  readonly toolchain: string | null;
}

interface VersionsFile {
  readonly default: string;
  readonly versions: readonly BuildkitVersion[];
  readonly registry: { readonly official: { readonly reference: string; readonly digest: string | null; readonly sources: readonly string[] } };
}

const FILE = new URL("./buildkit-versions.json", import.meta.url);

export const versionsFile: VersionsFile = JSON.parse(readFileSync(FILE, "utf8")) as VersionsFile;

export function supportedVersions(): readonly BuildkitVersion[] {
  return [...versionsFile.versions].sort((a, b) => semver.compare(a.version, b.version));
}

export function defaultVersion(): string {
  return process.env.BUILDKIT_REPRO_VERSION ?? versionsFile.default;
}

export function lookupVersion(version: string): BuildkitVersion {
  const normalized = version.startsWith("v") ? version : `v${version}`;
  const found = versionsFile.versions.find((v) => v.version === normalized);
  if (!found) {
    throw new HarnessError(
      "UNKNOWN_BUILDKIT_VERSION",
      `BuildKit ${version} is not in harness/provision/buildkit-versions.json (supported: ${supportedVersions()
        .map((v) => v.version)
        .join(", ")}).`,
      "Pick a listed version, or add an entry for it (officialDigest null if no public pinned digest is known).",
    );
  }
  return found;
}
