/**
 * A tar writer for hostile test inputs: it writes whatever it is given (absolute names,
 * "..", links, devices, wrong sizes, no end marker), which the harness's own writer
 * refuses to do. Headers are ustar with a correct checksum unless told otherwise.
 */
export interface RawMember {
  name: string;
  /** "0" file (default), "1" hard link, "2" symlink, "3" char, "5" dir, "6" FIFO, "x" PAX, "L" GNU long name... */
  typeflag?: string;
  content?: Buffer | string;
  linkname?: string;
  /** The size written in the header, when it must differ from the content's. */
  declaredSize?: number;
  badChecksum?: boolean;
}

export interface RawTarOptions {
  /** "marker": two zero blocks (default); "none": nothing; "one": a single zero block. */
  end?: "marker" | "none" | "one";
  /** Bytes appended after the end. */
  trailing?: Buffer;
}

const BLOCK = 512;

export function rawHeader(member: RawMember, size: number): Buffer {
  const buf = Buffer.alloc(BLOCK);
  buf.write(member.name, 0, 100, "utf8");
  buf.write("0000644\0", 100);
  buf.write("0000000\0", 108);
  buf.write("0000000\0", 116);
  buf.write(`${size.toString(8).padStart(11, "0")}\0`, 124);
  buf.write("00000000000\0", 136);
  buf.write("        ", 148);
  buf.write(member.typeflag ?? "0", 156);
  if (member.linkname) buf.write(member.linkname, 157, 100, "utf8");
  buf.write("ustar\0", 257);
  buf.write("00", 263);
  let sum = 0;
  for (const b of buf) sum += b;
  if (member.badChecksum) sum += 1;
  buf.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
  return buf;
}

export function rawTar(members: readonly RawMember[], options: RawTarOptions = {}): Buffer {
  const parts: Buffer[] = [];
  for (const member of members) {
    const content = Buffer.from(member.content ?? "");
    parts.push(rawHeader(member, member.declaredSize ?? content.length));
    parts.push(content);
    const pad = (BLOCK - (content.length % BLOCK)) % BLOCK;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  const end = options.end ?? "marker";
  if (end === "marker") parts.push(Buffer.alloc(2 * BLOCK));
  if (end === "one") parts.push(Buffer.alloc(BLOCK));
  if (options.trailing) parts.push(options.trailing);
  return Buffer.concat(parts);
}

/** A PAX extended header body with the given records. */
export function paxBody(records: Record<string, string>): Buffer {
  return Buffer.concat(
    Object.entries(records).map(([k, v]) => {
      const rest = Buffer.byteLength(` ${k}=${v}\n`);
      let length = rest + String(rest).length;
      if (String(length).length !== String(rest).length) length = rest + String(length).length;
      return Buffer.from(`${length} ${k}=${v}\n`);
    }),
  );
}
