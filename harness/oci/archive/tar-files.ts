import { gunzipSync } from "node:zlib";
import { archiveError } from "./archive-error.ts";
import type { ArchiveFiles } from "./archive-files.ts";
import { type ArchiveLimits, formatBytes } from "./limits.ts";
import { readRegularFile, refusedFile } from "./safe-read.ts";
import { readTarMembers, safeMemberName } from "./tar-reader.ts";

/** A tar (optionally gzipped, as `docker save | gzip` gives) read whole into memory and indexed by member name. */
export class TarFiles implements ArchiveFiles {
  private constructor(
    readonly description: string,
    private readonly files: ReadonlyMap<string, Buffer>,
  ) {}

  /** Every member is checked here, before any format reader looks at one. */
  static fromBuffer(bytes: Buffer, description: string, limits: ArchiveLimits): TarFiles {
    const tar = isGzip(bytes) ? gunzipBounded(bytes, description, limits.maxTotalBytes) : bytes;
    if (tar.length > limits.maxTotalBytes) throw tooBig(description, tar.length, limits);
    const files = new Map<string, Buffer>();
    for (const member of readTarMembers(tar, description, limits)) if (member.type === "file") files.set(member.name, member.bytes);
    return new TarFiles(description, files);
  }

  static async fromFile(path: string, description: string, limits: ArchiveLimits): Promise<TarFiles> {
    const read = await readRegularFile(path, limits.maxTotalBytes);
    if (read === undefined) throw archiveError(description, undefined, "does not exist", "Check the archive's path.");
    if ("refused" in read) throw refusedFile(description, undefined, read.refused, limits.maxTotalBytes);
    return TarFiles.fromBuffer(read.bytes, description, limits);
  }

  async read(path: string, maxBytes: number): Promise<Buffer | undefined> {
    const bytes = this.files.get(memberName(path, this.description));
    if (bytes && bytes.length > maxBytes) {
      throw archiveError(
        this.description,
        path,
        `is ${formatBytes(bytes.length)}, more than the ${formatBytes(maxBytes)} allowed for it`,
        "Use a smaller image.",
      );
    }
    return bytes;
  }

  async has(path: string): Promise<boolean> {
    return this.files.has(memberName(path, this.description));
  }
}

function memberName(path: string, description: string): string {
  return safeMemberName(path, (name, problem, hint) =>
    archiveError(description, name, problem, hint ?? "A path inside the archive must be relative and stay inside it."),
  );
}

function isGzip(bytes: Buffer): boolean {
  return bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function gunzipBounded(bytes: Buffer, description: string, maxBytes: number): Buffer {
  try {
    return gunzipSync(bytes, { maxOutputLength: maxBytes });
  } catch (err) {
    if (err instanceof RangeError || (err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
      throw archiveError(
        description,
        undefined,
        `decompresses to more than ${formatBytes(maxBytes)}`,
        "Use a smaller image, or raise the limit if it is legitimate.",
      );
    }
    throw archiveError(
      description,
      undefined,
      `is gzip-compressed but does not decompress (${(err as Error).message})`,
      "The archive is corrupt; recreate it.",
    );
  }
}

function tooBig(description: string, size: number, limits: ArchiveLimits) {
  return archiveError(
    description,
    undefined,
    `is ${formatBytes(size)}, more than the ${formatBytes(limits.maxTotalBytes)} allowed for an image archive`,
    "Use a smaller base image: scenarios need only the files that trigger the bug.",
  );
}
