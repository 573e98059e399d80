/**
 * A listing of a file tree, in the same shape as a layer's entries: what a `type=local`
 * (a directory) or `type=tar` (a tar file) output of a build holds. Nothing is followed:
 * a symbolic link is listed with its target, never read through.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";
import { HarnessError } from "../errors.ts";
import { readRegularFile } from "./archive/safe-read.ts";
import { type LayerEntry, type LayerEntryType, listLayerEntries } from "./layer-entries.ts";

export interface FileTreeLimits {
  readonly maxEntries: number;
  /** The tar file (type=tar) or the sum of the regular files hashed (type=local). */
  readonly maxTotalBytes: number;
}

const DEFAULT_FILE_TREE_LIMITS: FileTreeLimits = { maxEntries: 100_000, maxTotalBytes: 1024 * 1024 * 1024 };

export interface FileTreeListing {
  readonly form: "directory" | "tar";
  /** Sorted by name (bytewise), the root itself left out. */
  readonly entries: readonly LayerEntry[];
}

export async function listFileTree(path: string, limits: FileTreeLimits = DEFAULT_FILE_TREE_LIMITS): Promise<FileTreeListing> {
  const info = await lstat(path).catch(() => undefined);
  if (!info) throw treeError(path, "does not exist");
  if (info.isDirectory()) return { form: "directory", entries: await listDirectory(path, limits) };
  if (!info.isFile()) throw treeError(path, "is neither a directory nor a regular file");
  const read = await readRegularFile(path, limits.maxTotalBytes);
  if (read === undefined) throw treeError(path, "does not exist");
  if ("refused" in read) throw treeError(path, `cannot be read (${read.refused.kind})`);
  const entries = await listLayerEntries(read.bytes, undefined, { maxUncompressedBytes: limits.maxTotalBytes });
  if (entries.length > limits.maxEntries) throw treeError(path, `has more than ${limits.maxEntries} entries`);
  return { form: "tar", entries: [...entries].sort(byName) };
}

function byName(a: { name: string }, b: { name: string }): number {
  return Buffer.compare(Buffer.from(a.name), Buffer.from(b.name));
}

async function listDirectory(root: string, limits: FileTreeLimits): Promise<LayerEntry[]> {
  const entries: LayerEntry[] = [];
  let hashed = 0;
  const walk = async (relative: string): Promise<void> => {
    const names = (await readdir(join(root, relative))).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const name of names) {
      const rel = relative ? `${relative}/${name}` : name;
      const full = join(root, rel);
      const st = await lstat(full, { bigint: true });
      if (entries.length >= limits.maxEntries) throw treeError(root, `has more than ${limits.maxEntries} entries`);
      const type = typeOf(st);
      const entry: LayerEntry = {
        name: rel,
        type,
        mode: Number(st.mode & 0o7777n),
        uid: Number(st.uid),
        gid: Number(st.gid),
        ...mtimeOf(st.mtimeNs),
        size: type === "file" ? Number(st.size) : 0,
      };
      if (type === "symlink") entry.linkname = await readlink(full);
      if (type === "file") {
        hashed += entry.size;
        if (hashed > limits.maxTotalBytes) throw treeError(root, `holds more than ${limits.maxTotalBytes} bytes of files`);
        entry.contentDigest = await sha256File(full);
      }
      entries.push(entry);
      if (type === "directory") await walk(rel);
    }
  };
  await walk("");
  return entries;
}

function typeOf(st: {
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isFIFO(): boolean;
}): LayerEntryType {
  if (st.isFile()) return "file";
  if (st.isDirectory()) return "directory";
  if (st.isSymbolicLink()) return "symlink";
  if (st.isCharacterDevice()) return "char";
  if (st.isBlockDevice()) return "block";
  if (st.isFIFO()) return "fifo";
  return "other";
}

/** Nanoseconds kept: a rewritten mtime and a wall-clock one must not look alike. */
function mtimeOf(ns: bigint): { mtime: string; mtimeEpochSeconds: number } {
  const seconds = ns / 1_000_000_000n;
  const fraction = (ns % 1_000_000_000n).toString().padStart(9, "0").replace(/0+$/, "");
  const base = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  return { mtime: `${base}${fraction ? `.${fraction}` : ""}Z`, mtimeEpochSeconds: Number(`${seconds}.${fraction || "0"}`) };
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(path)
      .on("data", (chunk) => hash.update(chunk))
      .on("error", reject)
      .on("end", () => resolve(`sha256:${hash.digest("hex")}`));
  });
}

function treeError(path: string, problem: string): HarnessError {
  return new HarnessError(
    "BUILD_OUTPUT_UNREADABLE",
    `the build output ${path} ${problem}`,
    "Check the output's dest; the harness chooses it inside the run's work directory.",
  );
}
