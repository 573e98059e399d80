/**
 * A ustar writer whose output depends only on the entries: sorted by name, one fixed
 * mtime, uid/gid 0, no user or group names, explicit modes, no padding to a record size.
 * Written by hand rather than with tar-stream's pack, which substitutes defaults for a
 * zero mode and would tie the bytes to its version.
 */

export type TarEntrySpec =
  | { type: "directory"; path: string; mode: number }
  | { type: "file"; path: string; mode: number; content: Uint8Array | string }
  | { type: "symlink"; path: string; target: string };

export interface DeterministicTarOptions {
  /** Seconds since the epoch for every entry; whole seconds, since ustar has nothing finer. */
  mtime?: number;
}

const BLOCK = 512;
const SYMLINK_MODE = 0o777;
const MAX_OCTAL_11 = 8 ** 11 - 1;

export function writeDeterministicTar(entries: readonly TarEntrySpec[], options: DeterministicTarOptions = {}): Buffer {
  const mtime = options.mtime ?? 0;
  if (!Number.isInteger(mtime) || mtime < 0 || mtime > MAX_OCTAL_11)
    throw new RangeError(`tar mtime must be whole seconds in [0, ${MAX_OCTAL_11}], got ${mtime}`);
  const named = entries.map((spec) => ({ spec, name: normalizePath(spec.path) }));
  named.sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  const parts: Buffer[] = [];
  for (let i = 0; i < named.length; i++) {
    const { spec, name } = named[i]!;
    if (i > 0 && named[i - 1]!.name === name) throw new Error(`tar entry "${name}" is listed twice`);
    const content = spec.type === "file" ? Buffer.from(spec.content) : Buffer.alloc(0);
    parts.push(header(spec, name, content.length, mtime));
    if (content.length > 0) {
      parts.push(content);
      const pad = (BLOCK - (content.length % BLOCK)) % BLOCK;
      if (pad) parts.push(Buffer.alloc(pad));
    }
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

function normalizePath(path: string): string {
  const name = path.replace(/^(\.\/|\/)+/, "").replace(/\/+$/, "");
  if (!name || name.split("/").some((c) => c === "" || c === "." || c === "..")) throw new Error(`invalid tar entry path "${path}"`);
  return name;
}

function header(spec: TarEntrySpec, name: string, size: number, mtime: number): Buffer {
  const buf = Buffer.alloc(BLOCK);
  const fullName = spec.type === "directory" ? `${name}/` : name;
  const [prefix, base] = splitName(fullName);
  const mode = spec.type === "symlink" ? SYMLINK_MODE : spec.mode;
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new RangeError(`tar entry "${name}": mode ${mode} is not within 0o7777`);
  if (size > MAX_OCTAL_11) throw new RangeError(`tar entry "${name}" is too large for ustar`);
  const linkname = spec.type === "symlink" ? spec.target : "";
  if (Buffer.byteLength(linkname) > 100) throw new Error(`symlink target of "${name}" is longer than ustar's 100 bytes`);

  buf.write(base, 0);
  buf.write(octal(mode, 7), 100);
  buf.write(octal(0, 7), 108);
  buf.write(octal(0, 7), 116);
  buf.write(octal(size, 11), 124);
  buf.write(octal(mtime, 11), 136);
  buf.write(" ".repeat(8), 148);
  buf.write(spec.type === "file" ? "0" : spec.type === "directory" ? "5" : "2", 156);
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
