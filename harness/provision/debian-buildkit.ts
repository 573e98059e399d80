/**
 * The BuildKit inside Debian's docker.io, read from the Debian source package the binary
 * was built from. Debian builds dockerd in GOPATH mode, so the binary carries no module
 * versions; the source says which tree it compiled and which version that tree is:
 *
 * - engine vendor tree (bookworm's 20.10): `engine/vendor.conf` (vndr) or
 *   `engine/vendor.mod` pins the BuildKit commit the engine vendored;
 * - the `orig-buildkit` component (trixie's 26.1): debian/get-orig-source.sh downloads
 *   BuildKit at the version `engine/vendor.mod` names.
 *
 * Either way the tree's Go files are compared with the module at that version from the Go
 * module proxy, and the Debian patches applied to the tree are listed, so the label says
 * what is known and how.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { HarnessError } from "../errors.ts";
import type { DebianArchive } from "./debian-archive.ts";
import { BUILDKIT_MODULE, type BuildkitTree, type EmbeddedBuildkit } from "./embedded-buildkit.ts";

/** `Source: docker.io (20.10.24+dfsg1-1+deb12u1)` of a binNMU, or `Source: docker.io`, or none. */
export function sourcePackageOf(fields: Readonly<Record<string, string>>): { name: string; version: string } {
  const m = /^(\S+)(?: \(([^)]+)\))?$/.exec(fields.Source ?? "");
  return { name: m?.[1] ?? fields.Package ?? "", version: m?.[2] ?? fields.Version ?? "" };
}

/** "1:20.10.24+dfsg1-1+deb12u1" → "20.10.24+dfsg1": what the orig tarballs are named after. */
export function upstreamVersion(debianVersion: string): string {
  return debianVersion.replace(/^\d+:/, "").replace(/-[^-]*$/, "");
}

/** The BuildKit line of a vndr vendor.conf: `github.com/moby/buildkit <commit> # <comment>`. */
export function buildkitInVendorConf(text: string): { commit: string; comment?: string } | undefined {
  for (const line of text.split("\n")) {
    const m = /^github\.com\/moby\/buildkit\s+([0-9a-f]{7,40}|v\S+)\s*(?:#\s*(.*))?$/.exec(line.trim());
    if (m) return { commit: m[1]!, ...(m[2] ? { comment: m[2].trim() } : {}) };
  }
  return undefined;
}

/** The required BuildKit version of a go.mod-style file (moby's vendor.mod), single-line or in a block. */
export function buildkitInGoMod(text: string): string | undefined {
  for (const line of text.split("\n")) {
    const m = /^\s*(?:require\s+)?github\.com\/moby\/buildkit\s+(v\S+)/.exec(line);
    if (m) return m[1];
  }
  return undefined;
}

/** Patch names in a quilt series file (comments and blank lines dropped, options after the name ignored). */
export function seriesPatches(series: string): string[] {
  return series
    .split("\n")
    .map((l) => l.replace(/#.*/, "").trim().split(/\s+/)[0] ?? "")
    .filter((l) => l !== "");
}

/**
 * Whether a unified diff changes a file under `tree` (e.g. "buildkit/"), whatever the first
 * path component of its headers is (quilt patches use a/ b/, or the package directory).
 */
export function patchTouches(patch: string, tree: string): boolean {
  return patch.split("\n").some((l) => {
    const m = /^(?:---|\+\+\+) [^/\s]+\/(\S+)/.exec(l);
    return m !== null && m[1]!.startsWith(tree);
  });
}

async function tarRead(archive: string, member: string): Promise<string | undefined> {
  const r = await execa("tar", ["-xJOf", archive, "--wildcards", "--no-anchored", member], { reject: false, maxBuffer: 64 * 1024 * 1024 });
  return r.exitCode === 0 ? r.stdout : undefined;
}

async function tarExtract(archive: string, dir: string, members: string[]): Promise<void> {
  await execa("tar", ["-xJf", archive, "-C", dir, "--wildcards", "--no-anchored", ...members]);
}

/**
 * The module version to ask the proxy for. A commit alone cannot be asked (proxies may
 * refuse unknown revisions); vndr's comment carries the pseudo-version, accepted only when
 * its 12-hex suffix is a prefix of the pinned commit.
 */
export function moduleQuery(pinned: { commit: string; comment?: string }): string {
  if (pinned.commit.startsWith("v")) return pinned.commit;
  const pseudo = /^(v\d+\.\d+\.\d+-(?:\S+\.)?\d{14}-([0-9a-f]{12}))$/.exec(pinned.comment ?? "");
  if (pseudo && pinned.commit.startsWith(pseudo[2]!)) return pseudo[1]!;
  return pinned.commit;
}

interface ModuleComparison {
  readonly resolvedVersion: string;
  /** The commit the proxy says the version is (its .info Origin), when it says. */
  readonly originHash?: string;
  readonly identical: number;
  readonly differing: string[];
  readonly absentFromModule: string[];
}

/** Compares every .go file of `treeDir` with the same path in the BuildKit module at `version`. */
async function compareWithModule(treeDir: string, version: string): Promise<ModuleComparison> {
  const env = { ...process.env, GOFLAGS: "-mod=mod" };
  const downloaded = await execa("go", ["mod", "download", "-json", `${BUILDKIT_MODULE}@${version}`], { env, cwd: tmpdir() });
  const { Dir: moduleDir, Version: resolvedVersion, Info } = JSON.parse(downloaded.stdout) as { Dir: string; Version: string; Info: string };
  const origin = (JSON.parse(await readFile(Info, "utf8")) as { Origin?: { Hash?: string } }).Origin?.Hash;
  const listed = await execa("find", [".", "-name", "*.go", "-type", "f"], { cwd: treeDir });
  const files = listed.stdout
    .split("\n")
    .filter((f) => f !== "")
    .map((f) => f.replace(/^\.\//, ""))
    .filter((f) => !f.startsWith("vendor/"))
    .sort();
  let identical = 0;
  const differing: string[] = [];
  const absentFromModule: string[] = [];
  for (const file of files) {
    const theirs = await readFile(join(moduleDir, file)).catch(() => undefined);
    if (!theirs) {
      absentFromModule.push(file);
      continue;
    }
    if (theirs.equals(await readFile(join(treeDir, file)))) identical++;
    else differing.push(file);
  }
  return { resolvedVersion, ...(origin ? { originHash: origin } : {}), identical, differing, absentFromModule };
}

function describeComparison(c: ModuleComparison, version: string): string {
  const total = c.identical + c.differing.length + c.absentFromModule.length;
  const parts = [`${c.identical} of ${total} .go files identical to module ${BUILDKIT_MODULE}@${c.resolvedVersion}`];
  if (c.originHash) parts[0] += ` (commit ${c.originHash.slice(0, 12)})`;
  if (!version.startsWith("v") && c.originHash && !c.originHash.startsWith(version)) parts.push(`the proxy's commit is not the pinned ${version}`);
  if (c.differing.length > 0) parts.push(`${c.differing.length} differ (${c.differing.slice(0, 3).join(", ")}${c.differing.length > 3 ? ", …" : ""})`);
  if (c.absentFromModule.length > 0) {
    parts.push(`${c.absentFromModule.length} not in the module (${c.absentFromModule.slice(0, 3).join(", ")}${c.absentFromModule.length > 3 ? ", …" : ""})`);
  }
  return parts.join("; ");
}

/**
 * Reads the embedded BuildKit of Debian's docker.io at `fields.Version` from its source
 * package. `tree` is what the binary's compiled paths showed.
 */
export async function debianEmbeddedBuildkit(archive: DebianArchive, fields: Readonly<Record<string, string>>, tree: BuildkitTree): Promise<EmbeddedBuildkit> {
  const source = sourcePackageOf(fields);
  const upstream = upstreamVersion(source.version);
  const work = await mkdtemp(join(tmpdir(), "buildkit-repro-debsrc-"));
  try {
    const files = await archive.downloadSource(
      source.name,
      source.version,
      join(archive.root, "source", `${source.name}_${source.version}`),
      (f) => f.endsWith(".debian.tar.xz") || f === `${source.name}_${upstream}.orig.tar.xz` || f === `${source.name}_${upstream}.orig-buildkit.tar.xz`,
    );
    const orig = files.get(`${source.name}_${upstream}.orig.tar.xz`);
    const debianTar = [...files.entries()].find(([name]) => name.endsWith(".debian.tar.xz"))?.[1];
    if (!orig || !debianTar) {
      throw new HarnessError(
        "IMAGE_PROVISION_FAILED",
        `The Debian source ${source.name} ${source.version} has no orig.tar.xz or debian.tar.xz in ${archive.suite}.`,
      );
    }
    const where = `Debian source ${source.name} ${source.version}`;
    const vendorConf = await tarRead(orig, "engine/vendor.conf");
    const vendorMod = await tarRead(orig, "engine/vendor.mod");
    const pinnedConf = vendorConf ? buildkitInVendorConf(vendorConf) : undefined;
    const pinnedMod = vendorMod ? buildkitInGoMod(vendorMod) : undefined;
    const pinned = pinnedMod ?? pinnedConf?.commit;
    const pinnedText = pinnedMod
      ? `engine/vendor.mod requires ${pinnedMod}`
      : pinnedConf
        ? `engine/vendor.conf pins ${pinnedConf.commit}${pinnedConf.comment ? ` (# ${pinnedConf.comment})` : ""}`
        : undefined;
    if (!pinned || !pinnedText) {
      throw new HarnessError("IMAGE_PROVISION_FAILED", `${where}: neither engine/vendor.conf nor engine/vendor.mod names ${BUILDKIT_MODULE}.`);
    }

    let treeArchive: string;
    let treePrefix: string;
    let treeText: string;
    if (tree === "engine-vendor") {
      treeArchive = orig;
      treePrefix = "engine/vendor/github.com/moby/buildkit/";
      treeText = "the engine's vendor/github.com/moby/buildkit";
    } else {
      const component = files.get(`${source.name}_${upstream}.orig-buildkit.tar.xz`);
      if (!component) {
        throw new HarnessError("IMAGE_PROVISION_FAILED", `${where}: the binary was built from a GOPATH BuildKit, but there is no orig-buildkit component.`);
      }
      treeArchive = component;
      treePrefix = "buildkit/";
      treeText = "Debian's orig-buildkit component (debian/get-orig-source.sh fetches it at the version engine/vendor.mod names)";
    }
    await tarExtract(treeArchive, work, [`${treePrefix}*.go`]);
    const found = await execa("find", [work, "-type", "d", "-path", `*/${treePrefix.replace(/\/$/, "")}`], { reject: false });
    const treeDir = found.stdout.split("\n")[0];
    if (!treeDir) throw new HarnessError("IMAGE_PROVISION_FAILED", `${where}: no ${treePrefix} tree in ${treeArchive}.`);
    const comparison = await compareWithModule(treeDir, pinnedMod ?? moduleQuery(pinnedConf!));

    const patchesDir = join(work, "debian-tar");
    await execa("mkdir", ["-p", patchesDir]);
    await execa("tar", ["-xJf", debianTar, "-C", patchesDir]);
    const series = await readFile(join(patchesDir, "debian/patches/series"), "utf8").catch(() => "");
    const applied: string[] = [];
    for (const name of seriesPatches(series)) {
      const text = await readFile(join(patchesDir, "debian/patches", name), "utf8").catch(() => "");
      if (patchTouches(text, treePrefix)) applied.push(name.replace(/\.patch$/, ""));
    }
    const patches = applied.length > 0 ? `Debian patches on it: ${applied.join(", ")}` : "no Debian patch touches it";
    return {
      version: comparison.resolvedVersion,
      evidence: `no module info (GOPATH build); compiled from ${treeText}; ${where}: ${pinnedText}; ${describeComparison(comparison, pinned)}; ${patches}`,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
