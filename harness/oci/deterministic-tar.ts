/**
 * A ustar writer whose output depends only on the entries: sorted by name, one fixed
 * mtime, uid/gid 0, no user or group names, explicit modes, no padding to a record size.
 * Written by hand rather than with tar-stream's pack, which substitutes defaults for a
 * zero mode and would tie the bytes to its version.
 *
 * The per-entry fields and options below exist to reproduce how real-world base images
 * were written (other mtimes and owners, PAX records, hard links, GNU tar's padding after
 * the end-of-archive marker), still deterministically; left unset, the bytes are those
 * of the plain writer.
 */

interface EntryQuirks {
  /** Seconds since the epoch for this entry, instead of the archive's `mtime`. */
  mtime?: number;
  uid?: number;
  gid?: number;
  /** PAX extended header records written before the entry (e.g. `mtime` with a fraction), in key order. */
  pax?: Readonly<Record<string, string>>;
}

export type TarEntrySpec =
  | ({ type: "directory"; path: string; mode: number } & EntryQuirks)
  | ({ type: "file"; path: string; mode: number; content: Uint8Array | string } & EntryQuirks)
  | ({ type: "symlink"; path: string; target: string } & EntryQuirks)
  /** `target` is the path of a file that must come earlier in name order. */
  | ({ type: "hardlink"; path: string; target: string; mode: number } & EntryQuirks);

export interface DeterministicTarOptions {
  /** Seconds since the epoch for every entry; whole seconds, since ustar has nothing finer. */
  mtime?: number;
  /**
   * Pad the archive with zeros after the end-of-archive marker to a multiple of this many
   * bytes, as GNU tar does (its default record is 10240 bytes: 20 blocks).
   */
  recordSize?: number;
}

const BLOCK = 512;
const SYMLINK_MODE = 0o777;
const MAX_OCTAL_11 = 8 ** 11 - 1;

export function writeDeterministicTar(entries: readonly TarEntrySpec[], options: DeterministicTarOptions = {}): Buffer {
  const mtime = checkMtime(options.mtime ?? 0);
  const named = entries.map((spec) => ({ spec, name: normalizePath(spec.path) }));
  named.sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  const parts: Buffer[] = [];
  const files = new Set<string>();
  for (let i = 0; i < named.length; i++) {
    const { spec, name } = named[i]!;
    if (i > 0 && named[i - 1]!.name === name) throw new Error(`tar entry "${name}" is listed twice`);
    if (spec.type === "hardlink" && !files.has(normalizePath(spec.target))) {
      throw new Error(`hard link "${name}" must name a file that comes earlier in name order, not "${spec.target}"`);
    }
    if (spec.type === "file") files.add(name);
    const content = spec.type === "file" ? Buffer.from(spec.content) : Buffer.alloc(0);
    if (spec.pax && Object.keys(spec.pax).length > 0) parts.push(...paxHeader(name, spec.pax, mtime));
    parts.push(header(spec, name, content.length, spec.mtime === undefined ? mtime : checkMtime(spec.mtime)));
    if (content.length > 0) {
      parts.push(content);
      const pad = (BLOCK - (content.length % BLOCK)) % BLOCK;
      if (pad) parts.push(Buffer.alloc(pad));
    }
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  const recordSize = options.recordSize;
  if (recordSize !== undefined) {
    if (!Number.isInteger(recordSize) || recordSize <= 0 || recordSize % BLOCK !== 0)
      throw new RangeError(`tar record size must be a positive multiple of ${BLOCK}, got ${recordSize}`);
    const length = parts.reduce((n, p) => n + p.length, 0);
    const pad = (recordSize - (length % recordSize)) % recordSize;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  return Buffer.concat(parts);
}

function checkMtime(mtime: number): number {
  if (!Number.isInteger(mtime) || mtime < 0 || mtime > MAX_OCTAL_11)
    throw new RangeError(`tar mtime must be whole seconds in [0, ${MAX_OCTAL_11}], got ${mtime}`);
  return mtime;
}

/** A PAX 'x' header named like Go's archive/tar names it ("<dir>/PaxHeaders.0/<base>"). */
function paxHeader(name: string, records: Readonly<Record<string, string>>, mtime: number): Buffer[] {
  const body = Buffer.concat(
    Object.keys(records)
      .sort()
      .map((key) => paxRecord(key, records[key]!)),
  );
  const slash = name.lastIndexOf("/");
  const paxName = slash === -1 ? `PaxHeaders.0/${name}` : `${name.slice(0, slash)}/PaxHeaders.0/${name.slice(slash + 1)}`;
  const head = header({ type: "pax", path: paxName, mode: 0o644 }, truncateName(paxName), body.length, mtime);
  const pad = (BLOCK - (body.length % BLOCK)) % BLOCK;
  return [head, body, Buffer.alloc(pad)];
}

/** "<length> <key>=<value>\n", where length counts the whole record including its own digits. */
function paxRecord(key: string, value: string): Buffer {
  const rest = Buffer.byteLength(` ${key}=${value}\n`);
  let length = rest + String(rest).length;
  if (String(length).length !== String(rest).length) length = rest + String(length).length;
  return Buffer.from(`${length} ${key}=${value}\n`);
}

/** A PAX header's own name only has to fit; readers take the real name from the records or the next header. */
function truncateName(name: string): string {
  return Buffer.byteLength(name) <= 100 ? name : Buffer.from(name).subarray(0, 100).toString("latin1");
}

function normalizePath(path: string): string {
  const name = path.replace(/^(\.\/|\/)+/, "").replace(/\/+$/, "");
  if (!name || name.split("/").some((c) => c === "" || c === "." || c === "..")) throw new Error(`invalid tar entry path "${path}"`);
  return name;
}

type HeaderSpec = TarEntrySpec | { type: "pax"; path: string; mode: number; uid?: number; gid?: number };

const TYPEFLAG: Record<HeaderSpec["type"], string> = { file: "0", hardlink: "1", symlink: "2", directory: "5", pax: "x" };

function header(spec: HeaderSpec, name: string, size: number, mtime: number): Buffer {
  const buf = Buffer.alloc(BLOCK);
  const fullName = spec.type === "directory" ? `${name}/` : name;
  // A name carried by a PAX "path" record only needs a placeholder in the ustar header.
  const paxPath = spec.type !== "pax" && spec.pax?.path !== undefined;
  const [prefix, base] = spec.type === "pax" || paxPath ? ["", truncateName(fullName)] : splitName(fullName);
  const mode = spec.type === "symlink" ? SYMLINK_MODE : spec.mode;
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new RangeError(`tar entry "${name}": mode ${mode} is not within 0o7777`);
  if (size > MAX_OCTAL_11) throw new RangeError(`tar entry "${name}" is too large for ustar`);
  const linkname = spec.type === "symlink" ? spec.target : spec.type === "hardlink" ? normalizePath(spec.target) : "";
  if (Buffer.byteLength(linkname) > 100) throw new Error(`link target of "${name}" is longer than ustar's 100 bytes`);
  const uid = spec.uid ?? 0;
  const gid = spec.gid ?? 0;
  for (const [what, id] of [
    ["uid", uid],
    ["gid", gid],
  ] as const) {
    if (!Number.isInteger(id) || id < 0 || id > 0o7777777) throw new RangeError(`tar entry "${name}": ${what} ${id} does not fit ustar`);
  }

  buf.write(base, 0);
  buf.write(octal(mode, 7), 100);
  buf.write(octal(uid, 7), 108);
  buf.write(octal(gid, 7), 116);
  buf.write(octal(size, 11), 124);
  buf.write(octal(mtime, 11), 136);
  buf.write(" ".repeat(8), 148);
  buf.write(TYPEFLAG[spec.type], 156);
  buf.write(linkname, 157);
  buf.write("ustar\0", 257);
  buf.write("00", 263);
  buf.write(octal(0, 7), 329);
  buf.write(octal(0, 7), 337);
  buf.write(prefix, 345);
  let sum = 0;
  for (const byte of buf) sum += byte;
  buf.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
  return buf;
}

/** ustar keeps names over 100 bytes as prefix (≤155) + "/" + name (≤100), split at a slash. */
function splitName(name: string): [string, string] {
  if (Buffer.byteLength(name) <= 100) return ["", name];
  const trimmed = name.endsWith("/") ? name.slice(0, -1) : name;
  for (let i = trimmed.indexOf("/"); i !== -1; i = trimmed.indexOf("/", i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100) return [prefix, rest];
  }
  throw new Error(`tar entry name "${name}" does not fit ustar's 155+100 bytes`);
}

function octal(value: number, digits: number): string {
  return `${value.toString(8).padStart(digits, "0")}\0`;
}
