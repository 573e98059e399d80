import { lstat } from "node:fs/promises";
import { join } from "node:path";
import { archiveError } from "./archive-error.ts";
import type { ArchiveFiles } from "./archive-files.ts";
import { type ArchiveLimits, formatBytes } from "./limits.ts";
import { readRegularFile, refusedFile } from "./safe-read.ts";
import { safeMemberName } from "./tar-reader.ts";

/**
 * An archive unpacked in a directory (an OCI layout as `buildctl --output
 * type=oci,tar=false` writes it). No symbolic link is followed, at any depth: a layout
 * has none, and one could point anywhere on the host. Files are read once and kept; the
 * sum of their sizes is bounded like a tar's.
 */
export class DirectoryFiles implements ArchiveFiles {
  private readonly cache = new Map<string, Buffer | undefined>();
  private totalBytes = 0;

  private constructor(
    readonly description: string,
    private readonly root: string,
    private readonly limits: ArchiveLimits,
  ) {}

  static async open(root: string, description: string, limits: ArchiveLimits): Promise<DirectoryFiles> {
    const info = await lstat(root).catch(() => undefined);
    if (!info) throw archiveError(description, undefined, "does not exist", "Check the archive's path.");
    if (!info.isDirectory()) throw archiveError(description, undefined, "is not a directory", "Give the layout's directory itself, not a link to it.");
    return new DirectoryFiles(description, root, limits);
  }

  async read(path: string, maxBytes: number): Promise<Buffer | undefined> {
    const name = this.name(path);
    if (this.cache.has(name)) {
      const cached = this.cache.get(name);
      if (cached && cached.length > maxBytes) throw refusedFile(this.description, name, { kind: "too-large", size: cached.length }, maxBytes);
      return cached;
    }
    if (!(await this.parentsAreDirectories(name))) {
      this.cache.set(name, undefined);
      return undefined;
    }
    const budget = Math.min(maxBytes, this.limits.maxTotalBytes - this.totalBytes);
    const read = await readRegularFile(join(this.root, name), budget);
    if (read !== undefined && "refused" in read) {
      if (read.refused.kind === "too-large" && budget < maxBytes) {
        throw archiveError(
          this.description,
          name,
          `would bring the files read to ${formatBytes(this.totalBytes + read.refused.size)}, more than the ${formatBytes(this.limits.maxTotalBytes)} allowed`,
          "Use a smaller image: scenarios need only the files that trigger the bug.",
        );
      }
      throw refusedFile(this.description, name, read.refused, maxBytes);
    }
    this.totalBytes += read?.bytes.length ?? 0;
    this.cache.set(name, read?.bytes);
    return read?.bytes;
  }

  async has(path: string): Promise<boolean> {
    const name = this.name(path);
    if (this.cache.has(name)) return this.cache.get(name) !== undefined;
    if (!(await this.parentsAreDirectories(name))) return false;
    const info = await lstat(join(this.root, name)).catch(() => undefined);
    if (!info) return false;
    // Present but unreadable as a file is a refusal, not an absence: say what it is.
    if (info.isSymbolicLink()) throw refusedFile(this.description, name, { kind: "symlink" }, 0);
    if (!info.isFile()) throw refusedFile(this.description, name, { kind: "not-a-file" }, 0);
    return true;
  }

  private name(path: string): string {
    return safeMemberName(path, (name, problem, hint) =>
      archiveError(this.description, name, problem, hint ?? "A path inside the archive must be relative and stay inside it."),
    );
  }

  /** False when a parent does not exist; refuses a parent that is a link or a file. */
  private async parentsAreDirectories(name: string): Promise<boolean> {
    const parts = name.split("/");
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join("/");
      const info = await lstat(join(this.root, parent)).catch(() => undefined);
      if (!info) return false;
      if (info.isSymbolicLink()) throw refusedFile(this.description, parent, { kind: "symlink" }, 0);
      if (!info.isDirectory()) return false;
    }
    return true;
  }
}
