/**
 * One Debian suite (bookworm, trixie) read through apt with its own sources list, package
 * lists and cache under the harness's cache directory. Nothing here installs a package or
 * touches the host's apt state: `Dir::State::status` is empty, so apt resolves as for an
 * empty system, and the locks apt takes are those of the private directories, not the
 * host's dpkg lock that another apt-get may hold.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { HarnessError } from "../errors.ts";
import { log } from "../log.ts";
import { cacheDir } from "./cache-dir.ts";
import { isDebianLike } from "./host-packages.ts";

const DEBIAN_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg";

/** Where Debian's archive is read from; `BUILDKIT_REPRO_DEBIAN_MIRROR` replaces the main mirror. */
function debianMirrors(): { main: string; security: string } {
  return {
    main: process.env.BUILDKIT_REPRO_DEBIAN_MIRROR ?? "http://deb.debian.org/debian",
    security: process.env.BUILDKIT_REPRO_DEBIAN_SECURITY_MIRROR ?? "http://deb.debian.org/debian-security",
  };
}

export function sourcesList(suite: string, mirrors = debianMirrors()): string {
  const opts = `[signed-by=${DEBIAN_KEYRING}]`;
  return [
    `deb ${opts} ${mirrors.main} ${suite} main`,
    `deb-src ${opts} ${mirrors.main} ${suite} main`,
    `deb ${opts} ${mirrors.security} ${suite}-security main`,
    `deb-src ${opts} ${mirrors.security} ${suite}-security main`,
    "",
  ].join("\n");
}

export interface DownloadedPackage {
  readonly name: string;
  readonly version: string;
  readonly path: string;
}

/** One file of a source package as `apt-get source --print-uris` lists it. */
export interface SourceFile {
  readonly uri: string;
  readonly name: string;
  readonly size: number;
  readonly sha256: string;
}

/** Parses `apt-get source --print-uris` lines: `'<uri>' <name> <size> SHA256:<hex>`. */
export function parseSourceUris(output: string): SourceFile[] {
  const files: SourceFile[] = [];
  for (const line of output.split("\n")) {
    const m = /^'([^']+)' (\S+) (\d+) SHA256:([0-9a-f]{64})$/.exec(line.trim());
    if (m) files.push({ uri: m[1]!, name: m[2]!, size: Number(m[3]), sha256: m[4]! });
  }
  return files;
}

/** Parses one stanza of `apt-cache show` into its fields (continuation lines joined). */
export function parseStanza(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  let last: string | undefined;
  for (const line of text.split("\n")) {
    if (line === "") {
      if (Object.keys(fields).length > 0) break;
      continue;
    }
    if (/^\s/.test(line) && last) {
      fields[last] += `\n${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    last = line.slice(0, colon);
    fields[last] = line.slice(colon + 1).trim();
  }
  return fields;
}

const updated = new Map<string, Promise<void>>();
const LISTS_MAX_AGE_MS = 24 * 3600_000;

/**
 * Lists fetched within the last day from the same sources are reused: the suites move
 * slowly, and it saves a download per process. The stamp holds the sources list it was made from.
 */
async function listsAreFresh(stamp: string, sources: string): Promise<boolean> {
  try {
    const [info, content] = await Promise.all([stat(stamp), readFile(stamp, "utf8")]);
    return content === sources && Date.now() - info.mtimeMs < LISTS_MAX_AGE_MS;
  } catch {
    return false;
  }
}

export class DebianArchive {
  readonly root: string;

  constructor(readonly suite: string) {
    this.root = cacheDir("apt", suite);
  }

  private options(): string[] {
    const o = (k: string, v: string) => ["-o", `${k}=${v}`];
    return [
      ...o("Dir::Etc::SourceList", join(this.root, "sources.list")),
      ...o("Dir::Etc::SourceParts", "/dev/null"),
      ...o("Dir::Etc::Preferences", "/dev/null"),
      ...o("Dir::Etc::PreferencesParts", "/dev/null"),
      ...o("Dir::State::Lists", join(this.root, "lists")),
      ...o("Dir::State::status", "/dev/null"),
      ...o("Dir::Cache", join(this.root, "cache")),
      ...o("Acquire::Languages", "none"),
    ];
  }

  private async apt(tool: "apt-get" | "apt-cache", args: string[], cwd?: string): Promise<string> {
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive", LC_ALL: "C" };
    try {
      return (await execa(tool, [...this.options(), ...args], { env, ...(cwd ? { cwd } : {}) })).stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new HarnessError(
        "IMAGE_PROVISION_FAILED",
        `${tool} ${args.join(" ")} for Debian ${this.suite} failed: ${(e.stderr || e.message).slice(-1500)}`,
        `Check that ${debianMirrors().main} is reachable (or set BUILDKIT_REPRO_DEBIAN_MIRROR) and that the package exists in ${this.suite}.`,
        { cause: err },
      );
    }
  }

  /** Fetches the suite's package lists once per process into the private lists directory. */
  update(): Promise<void> {
    let pending = updated.get(this.suite);
    if (!pending) {
      pending = this.doUpdate().catch((err: unknown) => {
        updated.delete(this.suite);
        throw err;
      });
      updated.set(this.suite, pending);
    }
    return pending;
  }

  private async doUpdate(): Promise<void> {
    if (!isDebianLike()) {
      throw new HarnessError(
        "IMAGE_PROVISION_FAILED",
        `Reading Debian ${this.suite} packages needs apt-get, which this machine does not have.`,
        "Run on Debian or Ubuntu, or provide the dockerd images some other way.",
      );
    }
    if (!existsSync(DEBIAN_KEYRING)) {
      throw new HarnessError(
        "IMAGE_PROVISION_FAILED",
        `Verifying Debian ${this.suite} package lists needs ${DEBIAN_KEYRING}, which is missing.`,
        "Install Debian's archive keyring: apt-get install debian-archive-keyring",
      );
    }
    for (const d of ["lists/partial", "cache/archives/partial"]) await mkdir(join(this.root, d), { recursive: true });
    const sources = sourcesList(this.suite);
    await writeFile(join(this.root, "sources.list"), sources);
    const stamp = join(this.root, "lists", "buildkit-repro-updated");
    if (await listsAreFresh(stamp, sources)) return;
    log("provision", `reading Debian ${this.suite}'s package lists (private apt state in ${this.root})`);
    await this.apt("apt-get", ["update", "-qq"]);
    await writeFile(stamp, sources);
  }

  /** The fields of a binary package at `version` (the candidate when omitted). */
  async show(name: string, version?: string): Promise<Record<string, string>> {
    await this.update();
    const wanted = version ? `${name}=${version}` : name;
    const out = await this.apt("apt-cache", ["show", "--no-all-versions", wanted]);
    const fields = parseStanza(out);
    if (!fields.Version) throw new HarnessError("IMAGE_PROVISION_FAILED", `apt-cache show ${wanted} in ${this.suite} printed no version`);
    return fields;
  }

  /** Downloads the candidate versions of `names` as .deb files into `dir`. */
  async download(names: readonly string[], dir: string): Promise<DownloadedPackage[]> {
    await this.update();
    await mkdir(dir, { recursive: true });
    const versions = await Promise.all(names.map(async (n) => ({ name: n, version: (await this.show(n)).Version! })));
    await this.apt("apt-get", ["download", "-qq", ...versions.map((p) => `${p.name}=${p.version}`)], dir);
    const files = await readdir(dir);
    return versions.map((p) => {
      // apt names the file <name>_<version, its epoch colon escaped as %3a>_<arch>.deb
      const prefix = `${p.name}_${p.version.replaceAll(":", "%3a")}_`;
      const file = files.find((f) => f.startsWith(prefix) && f.endsWith(".deb"));
      if (!file) throw new HarnessError("IMAGE_PROVISION_FAILED", `apt-get download ${p.name}=${p.version} left no ${prefix}*.deb in ${dir}`);
      return { ...p, path: join(dir, file) };
    });
  }

  /**
   * Downloads the files of source package `name` at `version` whose names `want` accepts,
   * each checked against the SHA-256 of the signed Sources index. A file missing from the
   * main archive's pool (security uploads live under the security archive) is fetched there.
   */
  async downloadSource(name: string, version: string, dir: string, want: (file: string) => boolean): Promise<Map<string, string>> {
    await this.update();
    await mkdir(dir, { recursive: true });
    const listed = parseSourceUris(await this.apt("apt-get", ["source", "--print-uris", "-qq", `${name}=${version}`]));
    const paths = new Map<string, string>();
    for (const file of listed.filter((f) => want(f.name))) {
      const path = join(dir, file.name);
      if (!existsSync(path)) await this.fetchChecked(file, path);
      paths.set(file.name, path);
    }
    return paths;
  }

  private async fetchChecked(file: SourceFile, path: string): Promise<void> {
    const { main, security } = debianMirrors();
    const candidates = [file.uri, file.uri.replace(`${main}/pool/main/`, `${security}/pool/updates/main/`)];
    const failures: string[] = [];
    for (const uri of [...new Set(candidates)]) {
      const response = await fetch(uri).catch((err: unknown) => ({ ok: false, status: (err as Error).message }) as const);
      if (!response.ok || !("arrayBuffer" in response)) {
        failures.push(`${uri}: ${response.status}`);
        continue;
      }
      const bytes = Buffer.from(await response.arrayBuffer());
      const sha256 = createHash("sha256").update(bytes).digest("hex");
      if (sha256 !== file.sha256) {
        failures.push(`${uri}: SHA-256 ${sha256}, the index says ${file.sha256}`);
        continue;
      }
      await writeFile(`${path}.partial`, bytes);
      await rename(`${path}.partial`, path);
      return;
    }
    throw new HarnessError(
      "IMAGE_PROVISION_FAILED",
      `Could not download ${file.name} of Debian ${this.suite}: ${failures.join("; ")}`,
      "Check the Debian mirror (BUILDKIT_REPRO_DEBIAN_MIRROR, BUILDKIT_REPRO_DEBIAN_SECURITY_MIRROR).",
    );
  }
}
