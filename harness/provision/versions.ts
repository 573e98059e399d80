/**
 * BuildKit versions: the versions file (the default matrix and the official image pins)
 * and the resolution of anything else a user names (a release tag, a branch such as
 * `master`, a commit) through the Go module proxy to an exact module version.
 */
import { readFileSync } from "node:fs";
import semver from "semver";
import { HarnessError } from "../errors.ts";
import { listModuleVersions, type ModuleVersion, resolveModuleVersion } from "./go-module-query.ts";

export const BUILDKIT_MODULE = "github.com/moby/buildkit";

export interface BuildkitVersion {
  /** The exact Go module version: a release tag, or a pseudo-version for a branch or commit. */
  readonly version: string;
  readonly officialDigest: string | null;
  readonly sources: readonly string[];
  /** A GOTOOLCHAIN pin for a local build; null: the toolchain the module's go.mod asks for. */
  readonly toolchain: string | null;
  /** Why the version is in the default matrix; absent: a pin only, not run by default. */
  readonly matrix?: string;
  /** What was asked for when it was not a release tag (e.g. "master"). */
  readonly query?: string;
  /** The full commit hash, when the module proxy reports it. */
  readonly commit?: string;
  /** For a commit of master: the release its version ranges are judged by (masterJudgedAs). */
  readonly judgedAs?: string;
}

interface VersionsFile {
  readonly default: string;
  readonly versions: readonly BuildkitVersion[];
  readonly registry: { readonly official: { readonly reference: string; readonly digest: string | null; readonly sources: readonly string[] } };
}

const FILE = new URL("./buildkit-versions.json", import.meta.url);

export const versionsFile: VersionsFile = JSON.parse(readFileSync(FILE, "utf8")) as VersionsFile;

const byVersion = (a: BuildkitVersion, b: BuildkitVersion) => semver.compare(a.version, b.version);

/** Every version the file names (default matrix and pins), oldest first. */
export function supportedVersions(): readonly BuildkitVersion[] {
  return [...versionsFile.versions].sort(byVersion);
}

/** The default matrix: the file's versions that say why they are in it, oldest first. */
export function matrixVersions(file: VersionsFile = versionsFile): readonly BuildkitVersion[] {
  return [...file.versions].filter((v) => v.matrix).sort(byVersion);
}

/** The default matrix cut to a semver range, e.g. ">=0.13.0 <0.20.0". */
export function matrixVersionsIn(range: string, file: VersionsFile = versionsFile): readonly BuildkitVersion[] {
  if (semver.validRange(range) === null) {
    throw new HarnessError(
      "UNKNOWN_BUILDKIT_VERSION",
      `--versions ${JSON.stringify(range)} is not a semver range.`,
      'Give a range such as ">=0.13.0 <0.20.0".',
    );
  }
  const picked = matrixVersions(file).filter((v) => semver.satisfies(v.version, range, { includePrerelease: true }));
  if (picked.length === 0) {
    throw new HarnessError(
      "UNKNOWN_BUILDKIT_VERSION",
      `No version of the default matrix is in ${range} (the matrix: ${matrixVersions(file)
        .map((v) => v.version)
        .join(", ")}).`,
      "Widen the range, or name versions with --version.",
    );
  }
  return picked;
}

export function defaultVersion(): string {
  return process.env.BUILDKIT_REPRO_VERSION ?? versionsFile.default;
}

/** Versions resolved in this process that the file does not name. */
const resolved = new Map<string, BuildkitVersion>();

function fromFile(version: string): BuildkitVersion | undefined {
  const normalized = /^\d/.test(version) ? `v${version}` : version;
  return versionsFile.versions.find((v) => v.version === normalized) ?? resolved.get(normalized);
}

/** A version the file names or that resolveVersion already resolved. */
export function lookupVersion(version: string): BuildkitVersion {
  const found = fromFile(version);
  if (!found) {
    throw new HarnessError(
      "UNKNOWN_BUILDKIT_VERSION",
      `BuildKit ${version} was not resolved before use.`,
      "This is a harness bug: resolve a version (resolveVersion) before provisioning it.",
    );
  }
  return found;
}

/** Go module queries this harness passes on: tags, branches, commits. Never an option. */
const QUERY = /^[A-Za-z0-9][A-Za-z0-9._+/-]{0,127}$/;

/**
 * Any version a user names: a file entry as it is (no network), else the Go module proxy's
 * answer for `github.com/moby/buildkit@<query>`: a release tag stays itself, a branch or
 * commit becomes its pseudo-version and records the commit.
 */
export async function resolveVersion(query: string, env: NodeJS.ProcessEnv = process.env): Promise<BuildkitVersion> {
  const known = fromFile(query);
  if (known) return known;
  if (!QUERY.test(query) || query.includes("..")) {
    throw new HarnessError(
      "UNKNOWN_BUILDKIT_VERSION",
      `--version ${JSON.stringify(query)} is not a version, branch or commit name.`,
      "Give a release tag (v0.15.1), a branch (master) or a commit hash.",
    );
  }
  const asked = /^\d/.test(query) ? `v${query}` : query;
  const answer = await resolveModuleVersion(BUILDKIT_MODULE, asked, env);
  const listed = fromFile(answer.version);
  if (listed) return listed;
  if (semver.prerelease(answer.version) === null && semver.lt(answer.version, "0.11.0")) {
    throw new HarnessError(
      "UNKNOWN_BUILDKIT_VERSION",
      `BuildKit ${answer.version} predates v0.11.0, whose go.mod has replace directives: it cannot be built from the Go module.`,
      "Pick v0.11.0 or later.",
    );
  }
  const judgedAs = answer.ref === "refs/heads/master" || asked === "master" ? await masterJudgedAs(answer, env) : undefined;
  const entry: BuildkitVersion = {
    version: answer.version,
    officialDigest: null,
    sources: [],
    toolchain: null,
    ...(answer.version !== asked ? { query } : {}),
    ...(answer.commit ? { commit: answer.commit } : {}),
    ...(judgedAs ? { judgedAs } : {}),
  };
  resolved.set(entry.version, entry);
  return entry;
}

/**
 * The release a commit of master is judged by: the newest release published before the
 * commit, when that is newer than the pseudo-version's base. The base is the newest tag in
 * master's own history, and BuildKit tags releases on release branches (master's base is
 * v0.32.0 while v0.34.2 is out), so by its base master would be judged older than releases
 * whose fixes it carries: fixes land on master first and are picked onto the branches.
 * The base's own patch release counts: v0.32.1-0.… is master after v0.32.0, and v0.32.1
 * was tagged on its branch.
 */
async function masterJudgedAs(answer: ModuleVersion, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const base = semver.coerce(answer.version)?.version;
  if (!answer.time || !base) return undefined;
  const committed = Date.parse(answer.time);
  const releases = (await listModuleVersions(BUILDKIT_MODULE, env)).filter((v) => semver.valid(v) && semver.prerelease(v) === null && semver.gte(v, base));
  for (const release of releases.sort(semver.rcompare)) {
    const { time } = await resolveModuleVersion(BUILDKIT_MODULE, release, env);
    if (time && Date.parse(time) <= committed) return release;
  }
  return undefined;
}

/** Oldest first; pseudo-versions sort before the release they precede. */
export function compareVersions(a: string, b: string): number {
  return semver.valid(a) && semver.valid(b) ? semver.compare(a, b) : a.localeCompare(b);
}
