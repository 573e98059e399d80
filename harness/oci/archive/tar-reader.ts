/**
 * A strict reader for tars of untrusted origin whose members are only regular files and
 * directories (image archives). Written by hand rather than on tar-stream, which reads on
 * after the end-of-archive marker and accepts a tar cut at a header boundary: two readers
 * must never disagree on what an archive holds, and a truncated archive must be refused.
 */
import { archiveError, HINT_REPACK, quoteName } from "./archive-error.ts";
import { type ArchiveLimits, formatBytes } from "./limits.ts";

const BLOCK = 512;
const MAX_LONG_HEADER = 64 * 1024;

export interface TarMember {
  /** Normalised: no leading "./", no trailing "/". */
  readonly name: string;
  readonly type: "file" | "directory";
  /** A view into the archive's buffer (regular files only). */
  readonly bytes: Buffer;
}

const TYPE_NAMES: Record<string, string> = {
  "1": "a hard link",
  "2": "a symbolic link",
  "3": "a character device",
  "4": "a block device",
  "6": "a FIFO",
  S: "a sparse file",
  V: "a volume header",
  M: "a multi-volume continuation",
  D: "a GNU dump directory",
};

/**
 * The members of a tar, in archive order. Refuses links, devices, FIFOs, absolute or
 * escaping names, duplicates, bad checksums, truncation, anything but zeros after the
 * end-of-archive marker, and more members or bigger files than `limits` allow.
 */
export function readTarMembers(tar: Buffer, archive: string, limits: ArchiveLimits): TarMember[] {
  const members: TarMember[] = [];
  const seen = new Map<string, "file" | "directory">();
  const parents = new Set<string>();
  let offset = 0;
  let longName: string | undefined;
  let pax: Record<string, string> = {};
  const refuse = (name: string | undefined, problem: string, hint = HINT_REPACK) => archiveError(archive, name, problem, hint);

  for (;;) {
    if (offset + BLOCK > tar.length) {
      if (offset === 0) throw refuse(undefined, `is ${tar.length} bytes, shorter than one tar header: it is not a tar`);
      throw refuse(undefined, `the tar ends at byte ${tar.length} without an end-of-archive marker: it is truncated`);
    }
    const header = tar.subarray(offset, offset + BLOCK);
    if (isZero(header)) {
      if (offset + 2 * BLOCK > tar.length || !isZero(tar.subarray(offset + BLOCK, offset + 2 * BLOCK))) {
        throw refuse(undefined, `a zero block at byte ${offset} is not followed by a second one: the tar is truncated or corrupt`);
      }
      // GNU tar pads to a 10 KiB record; anything else after the marker is hidden data
      // that another reader might not skip.
      const rest = tar.subarray(offset + 2 * BLOCK);
      if (!isZero(rest)) throw refuse(undefined, `non-zero data follows the end-of-archive marker at byte ${offset}`);
      return members;
    }
    checkChecksum(header, offset, refuse);
    const typeflag = header[156] === 0 ? "0" : String.fromCharCode(header[156]!);
    const size = parseSize(header, offset, refuse, pax.size);
    // Bounds before truncation: a lying size must be refused as too large, not read towards.
    const isLongHeader = typeflag === "x" || typeflag === "g" || typeflag === "L" || typeflag === "K";
    if (isLongHeader && size > MAX_LONG_HEADER) {
      throw refuse(undefined, `an extended header at byte ${offset} is ${formatBytes(size)} (at most ${formatBytes(MAX_LONG_HEADER)})`);
    }
    if ((typeflag === "0" || typeflag === "7") && size > limits.maxBlobBytes) {
      throw refuse(
        headerName(header, longName, pax),
        `is ${formatBytes(size)}, more than the ${formatBytes(limits.maxBlobBytes)} allowed for one file`,
        "Use a smaller base image.",
      );
    }
    const dataStart = offset + BLOCK;
    const dataEnd = dataStart + size;
    if (dataEnd > tar.length) throw refuse(headerName(header, longName, pax), `the tar ends inside this member (declared ${size} bytes): it is truncated`);
    const next = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (next > tar.length) throw refuse(headerName(header, longName, pax), "the tar ends inside this member's padding: it is truncated");

    if (isLongHeader) {
      const body = tar.subarray(dataStart, dataEnd);
      if (typeflag === "x") pax = parsePax(body, offset, refuse);
      else if (typeflag === "g") checkGlobalPax(parsePax(body, offset, refuse), offset, refuse);
      else if (typeflag === "L") longName = cString(body);
      // "K" (GNU long link name) only ever precedes a link, which is refused below.
      offset = next;
      continue;
    }

    const rawName = headerName(header, longName, pax);
    longName = undefined;
    pax = {};
    if (members.length >= limits.maxEntries) throw refuse(undefined, `the tar has more than ${limits.maxEntries} members`, "Put fewer images in one archive.");
    const name = safeMemberName(rawName, refuse);
    // Pre-POSIX tars mark a directory as a regular file whose name ends in "/".
    const kind = typeflag === "5" || (typeflag === "0" && rawName.endsWith("/")) ? "directory" : typeflag === "0" || typeflag === "7" ? "file" : undefined;
    if (kind === undefined) {
      const what = TYPE_NAMES[typeflag] ?? `a member of unknown type ${JSON.stringify(typeflag)}`;
      throw refuse(
        rawName,
        `is ${what}; an image archive may only hold regular files and directories`,
        "Recreate the archive; image archives never need links or special files.",
      );
    }
    const previous = seen.get(name);
    if (previous !== undefined && !(previous === "directory" && kind === "directory")) {
      throw refuse(rawName, "appears twice in the tar; which copy counts would depend on the reader");
    }
    if (kind === "file" && parents.has(name)) throw refuse(rawName, "is a file, but earlier members are inside it");
    for (let slash = name.indexOf("/"); slash !== -1; slash = name.indexOf("/", slash + 1)) {
      const parent = name.slice(0, slash);
      if (seen.get(parent) === "file") throw refuse(rawName, `is inside ${quoteName(parent)}, which is a file`);
      parents.add(parent);
    }
    seen.set(name, kind);
    members.push({ name, type: kind, bytes: kind === "file" ? tar.subarray(dataStart, dataEnd) : Buffer.alloc(0) });
    offset = next;
  }
}

function isZero(bytes: Buffer): boolean {
  for (const b of bytes) if (b !== 0) return false;
  return true;
}

type Refuse = (name: string | undefined, problem: string, hint?: string) => Error;

/** The sum of the header's bytes with the checksum field as spaces; historic tars summed signed bytes. */
function checkChecksum(header: Buffer, offset: number, refuse: Refuse): void {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : header[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  const field = header
    .subarray(148, 156)
    .toString("latin1")
    .replace(/[\0 ]+$/, "")
    .trim();
  if (!/^[0-7]{1,7}$/.test(field)) throw refuse(undefined, `the header at byte ${offset} has no valid checksum: this is not a tar, or it is corrupt`);
  const stored = Number.parseInt(field, 8);
  if (stored !== unsigned && stored !== signed) throw refuse(undefined, `the header at byte ${offset} fails its checksum: the tar is corrupt`);
}

function parseSize(header: Buffer, offset: number, refuse: Refuse, paxSize: string | undefined): number {
  if (paxSize !== undefined) {
    if (!/^\d{1,15}$/.test(paxSize)) throw refuse(undefined, `the PAX size before the header at byte ${offset} is not a number`);
    return Number(paxSize);
  }
  const field = header.subarray(124, 136);
  if (field[0]! & 0x80) {
    // GNU base-256: big-endian, the first byte's high bit is the marker.
    let value = field[0]! & 0x3f;
    if (field[0]! & 0x40) throw refuse(undefined, `the header at byte ${offset} declares a negative size`);
    for (let i = 1; i < field.length; i++) {
      value = value * 256 + field[i]!;
      if (!Number.isSafeInteger(value)) throw refuse(undefined, `the header at byte ${offset} declares an impossible size`);
    }
    return value;
  }
  const text = field
    .toString("latin1")
    .replace(/[\0 ]+$/, "")
    .trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw refuse(undefined, `the header at byte ${offset} has a malformed size field`);
  return Number.parseInt(text, 8);
}

/**
 * A global PAX header (`git archive` writes one with the commit id) is harmless unless it
 * renames or resizes every member after it, which readers apply inconsistently.
 */
function checkGlobalPax(records: Record<string, string>, offset: number, refuse: Refuse): void {
  const changing = ["path", "linkpath", "size"].filter((key) => key in records);
  if (changing.length > 0) throw refuse(undefined, `the global PAX header at byte ${offset} sets ${changing.join(", ")} for every member after it`);
}

function cString(bytes: Buffer): string {
  const end = bytes.indexOf(0);
  return bytes.subarray(0, end === -1 ? bytes.length : end).toString("utf8");
}

function headerName(header: Buffer, longName: string | undefined, pax: Record<string, string>): string {
  if (pax.path !== undefined) return pax.path;
  if (longName !== undefined) return longName;
  const name = cString(header.subarray(0, 100));
  const ustar = header.subarray(257, 263).toString("latin1") === "ustar\0";
  const prefix = ustar ? cString(header.subarray(345, 500)) : "";
  return prefix ? `${prefix}/${name}` : name;
}

/** PAX records: "<length> <key>=<value>\n", length counting the whole record. */
function parsePax(body: Buffer, offset: number, refuse: Refuse): Record<string, string> {
  const records: Record<string, string> = {};
  let pos = 0;
  while (pos < body.length) {
    if (body[pos] === 0) break; // some writers pad the body with NULs
    const space = body.indexOf(0x20, pos);
    const length = space === -1 ? Number.NaN : Number(body.subarray(pos, space).toString("latin1"));
    if (!Number.isSafeInteger(length) || length <= 0 || pos + length > body.length || body[pos + length - 1] !== 0x0a) {
      throw refuse(undefined, `the PAX header at byte ${offset} has a malformed record`);
    }
    const record = body.subarray(space + 1, pos + length - 1).toString("utf8");
    const eq = record.indexOf("=");
    if (eq <= 0) throw refuse(undefined, `the PAX header at byte ${offset} has a record without a key`);
    records[record.slice(0, eq)] = record.slice(eq + 1);
    pos += length;
  }
  return records;
}

/**
 * The member's name, relative and without "." components; refuses what could land
 * outside the archive's own tree when extracted (absolute names, "..", backslashes,
 * NUL or control characters).
 */
export function safeMemberName(raw: string, refuse: Refuse): string {
  if (raw.startsWith("/")) throw refuse(raw, "is an absolute name", "Recreate the archive with relative names.");
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f\\]/.test(raw)) throw refuse(raw, "contains a control character or a backslash");
  const parts = raw.split("/").filter((p, i, all) => !(p === "" && i === all.length - 1) && p !== ".");
  if (parts.length === 0) throw refuse(raw, "is an empty name");
  if (parts.some((p) => p === ".."))
    throw refuse(raw, 'contains a ".." component, which would leave the archive\'s tree', "Recreate the archive with relative names.");
  if (parts.some((p) => p === "")) throw refuse(raw, "contains an empty path component");
  return parts.join("/");
}
