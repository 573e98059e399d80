import { constants } from "node:fs";
import { open } from "node:fs/promises";
import type { HarnessError } from "../../errors.ts";
import { archiveError } from "./archive-error.ts";
import { formatBytes } from "./limits.ts";

export type ReadRefusal =
  | { kind: "symlink" }
  | { kind: "not-a-file" }
  | { kind: "hardlinked"; links: number }
  | { kind: "too-large"; size: number }
  | { kind: "changed" };

/**
 * Reads a regular file without following a symbolic link at its last component and
 * without blocking on a FIFO, refusing it when it is larger than `maxBytes` (checked
 * before reading) or has other hard links (whose other name could be anything on the
 * host). Undefined when the file does not exist.
 */
export async function readRegularFile(path: string, maxBytes: number): Promise<{ bytes: Buffer } | { refused: ReadRefusal } | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    if (code === "ELOOP") return { refused: { kind: "symlink" } };
    throw err;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) return { refused: { kind: "not-a-file" } };
    if (info.nlink > 1) return { refused: { kind: "hardlinked", links: info.nlink } };
    if (info.size > maxBytes) return { refused: { kind: "too-large", size: info.size } };
    // One byte more than announced tells a file that grew while being read.
    const buffer = Buffer.alloc(info.size + 1);
    let filled = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
      if (filled === buffer.length) break;
    }
    if (filled !== info.size) return { refused: { kind: "changed" } };
    return { bytes: buffer.subarray(0, filled) };
  } finally {
    await handle.close();
  }
}

/** The refusal as an IMAGE_ARCHIVE_INVALID error about `file` (undefined: the archive itself). */
export function refusedFile(archive: string, file: string | undefined, refusal: ReadRefusal, maxBytes: number): HarnessError {
  switch (refusal.kind) {
    case "symlink":
      return archiveError(archive, file, "is a symbolic link; links are never followed", "Replace the link by the file it points to.");
    case "not-a-file":
      return archiveError(
        archive,
        file,
        "is not a regular file (a directory, FIFO, socket or device)",
        "Only regular files can be read from an image archive.",
      );
    case "hardlinked":
      return archiveError(
        archive,
        file,
        `has ${refusal.links} hard links; its other names could be anywhere on the host`,
        "Copy the file instead of linking it.",
      );
    case "too-large":
      return archiveError(
        archive,
        file,
        `is ${formatBytes(refusal.size)}, more than the ${formatBytes(maxBytes)} allowed`,
        "Use a smaller image: scenarios need only the files that trigger the bug.",
      );
    case "changed":
      return archiveError(archive, file, "changed size while it was read", "Do not modify the archive while the harness reads it.");
  }
}
