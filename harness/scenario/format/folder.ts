/**
 * What a scenario folder may contain, checked before anything reads it: regular files,
 * folders, and symlinks that are relative and stay inside the folder. A FIFO would hang a
 * reader, a device or socket has no business in a build context, an absolute symlink can
 * point back at the contributor's own files (edits would then change them) or anywhere on
 * the host. A hard link is a file that also lives elsewhere (a git checkout never makes
 * one), and a setuid or setgid file in the working copy would be one on the host. Sizes
 * are bounded. The same check runs again on the working copy a scenario runs in.
 */
import { lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync, type Stats } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { LIMITS } from "./limits.ts";
import { codePoint, forbiddenInName, printable } from "./text.ts";
import type { Problem } from "./validate.ts";

export type EntryType = "file" | "directory" | "symlink";

export interface FolderListing {
  /** Scenario-relative path (with /) → what it is. */
  readonly entries: ReadonlyMap<string, { readonly type: EntryType; readonly size: number }>;
  readonly problems: readonly Problem[];
}

function kindOf(st: Stats): EntryType | string {
  if (st.isFile()) return "file";
  if (st.isDirectory()) return "directory";
  if (st.isSymbolicLink()) return "symlink";
  if (st.isFIFO()) return "a FIFO";
  if (st.isSocket()) return "a socket";
  if (st.isBlockDevice() || st.isCharacterDevice()) return "a device";
  return "a special file";
}

export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
}

const posix = (rel: string) => rel.split(sep).join("/");

/**
 * Why a symlink at `abs` may not stay, or undefined. Its target is read by the kernel one
 * component at a time: `up/..` is the parent of wherever `up` leads, not the folder holding
 * `up`, so a target is judged by its text only when it goes up (..) before naming anything.
 */
function symlinkProblem(root: string, abs: string): string | undefined {
  const target = readlinkSync(abs);
  if (isAbsolute(target)) return "is a symlink with an absolute target; use a relative target inside the scenario folder";
  const parts = target.split("/").filter((p) => p !== "" && p !== ".");
  const firstName = parts.findIndex((p) => p !== "..");
  if (firstName !== -1 && parts.slice(firstName).includes("..")) {
    return "is a symlink whose target has .. after a name (a folder on the way may itself be a symlink); write it as ../… followed by names only";
  }
  if (!isInside(root, resolve(dirname(abs), target))) return "is a symlink that leads outside the scenario folder";
  try {
    realpathSync(abs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ELOOP") return "is a symlink loop: following it never reaches a file or folder";
  }
  return undefined;
}

/** Why the permissions of an entry may not stay, or undefined. setgid on a folder only sets the group of new files (and is inherited from shared parents). */
function modeProblem(st: Stats): string | undefined {
  if ((st.mode & 0o4000) !== 0 || (st.isFile() && (st.mode & 0o2000) !== 0)) {
    return "is setuid or setgid; the working copy would be too, on the host. Set such bits inside the image (RUN chmod u+s …) instead";
  }
  return undefined;
}

function rootProblem(root: string): string | undefined {
  const bad = forbiddenInName(basename(root));
  if (bad !== undefined) return `the folder's name contains the character ${codePoint(bad)} (control, bidirectional or a line break); rename it`;
  let st: Stats;
  try {
    st = lstatSync(root);
  } catch {
    return "the scenario folder does not exist";
  }
  if (st.isSymbolicLink()) return "the scenario folder is a symlink; name the folder itself (a working copy of a symlink would be the original)";
  if (!st.isDirectory()) return "is not a folder; a scenario is a folder holding scenario.yaml";
  return modeProblem(st);
}

/** Lists a scenario folder, reporting every entry it must not contain. */
export function inspectFolder(root: string): FolderListing {
  const entries = new Map<string, { type: EntryType; size: number }>();
  const problems: Problem[] = [];
  let total = 0;
  const atRoot = rootProblem(root);
  if (atRoot !== undefined) return { entries, problems: [{ path: ".", message: atRoot }] };
  const walk = (dir: string, depth: number): void => {
    if (depth > LIMITS.folderDepth) {
      problems.push({ path: posix(relative(root, dir)), message: `folders nest deeper than ${LIMITS.folderDepth} levels` });
      return;
    }
    for (const name of readdirSync(dir).sort()) {
      if (entries.size >= LIMITS.folderEntries) {
        problems.push({ path: ".", message: `the folder has more than ${LIMITS.folderEntries} entries` });
        return;
      }
      const abs = join(dir, name);
      const rel = posix(relative(root, abs));
      const bad = forbiddenInName(name);
      if (bad !== undefined) {
        problems.push({
          path: printable(rel),
          message: `the name contains the character ${codePoint(bad)} (control, bidirectional or a line break); rename it`,
        });
        continue;
      }
      const st = lstatSync(abs);
      const kind = kindOf(st);
      if (kind !== "file" && kind !== "directory" && kind !== "symlink") {
        problems.push({ path: rel, message: `is ${kind}; a scenario folder holds only regular files, folders and relative symlinks` });
        continue;
      }
      if (kind === "symlink") {
        const problem = symlinkProblem(root, abs);
        if (problem !== undefined) {
          problems.push({ path: rel, message: problem });
          continue;
        }
      }
      const mode = modeProblem(st);
      if (mode !== undefined) problems.push({ path: rel, message: mode });
      if (kind === "file") {
        if (st.nlink > 1) problems.push({ path: rel, message: `is a hard link (${st.nlink} names for one file); copy the file into the folder instead` });
        if (st.size > LIMITS.fileBytes) problems.push({ path: rel, message: `is ${st.size} bytes; a file may be at most ${LIMITS.fileBytes}` });
        total += st.size;
      }
      entries.set(rel, { type: kind, size: st.size });
      if (kind === "directory") walk(abs, depth + 1);
    }
  };
  walk(root, 1);
  if (total > LIMITS.folderBytes) problems.push({ path: ".", message: `the folder holds ${total} bytes; at most ${LIMITS.folderBytes}` });
  return { entries, problems };
}

/**
 * Reads a text file of the folder that the harness itself interprets (scenario.yaml, a
 * Dockerfile, a source policy): a regular file, not a symlink, bounded, UTF-8 without NUL.
 * Returns a problem rather than the text when it is not; never echoes the content.
 */
export function readTextFile(root: string, rel: string, what: string): { text: string } | { problem: string } {
  const abs = join(root, rel);
  let st: Stats;
  try {
    st = lstatSync(abs);
  } catch {
    return { problem: `${what} ${rel} does not exist` };
  }
  if (st.isSymbolicLink()) return { problem: `${what} ${rel} is a symlink; it must be a regular file in the scenario folder` };
  if (!st.isFile()) return { problem: `${what} ${rel} is ${kindOf(st) === "directory" ? "a folder" : kindOf(st)}, not a regular file` };
  if (st.size > LIMITS.textFileBytes) return { problem: `${what} ${rel} is ${st.size} bytes; at most ${LIMITS.textFileBytes}` };
  const bytes = readFileSync(abs);
  if (bytes.includes(0)) return { problem: `${what} ${rel} contains NUL bytes; it must be UTF-8 text` };
  try {
    return { text: new TextDecoder("utf-8", { fatal: true }).decode(bytes) };
  } catch {
    return { problem: `${what} ${rel} is not valid UTF-8` };
  }
}
