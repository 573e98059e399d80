import { createHash } from "node:crypto";
import * as zlib from "node:zlib";
import { Decompress as ZstdDecompress } from "fzstd";
import { extract, type Header } from "tar-stream";
import { HarnessError } from "../errors.ts";

export type LayerEntryType = "file" | "directory" | "symlink" | "hardlink" | "char" | "block" | "fifo" | "other";

export type Whiteout = { kind: "file"; target: string } | { kind: "opaque"; dir: string };

export interface LayerEntry {
  /** Path inside the layer, without a leading "./" or "/" and without a trailing "/". */
  name: string;
  type: LayerEntryType;
  /** Permission bits including setuid, setgid and sticky (mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** ISO 8601 in UTC; keeps every fractional digit a PAX mtime carries. */
  mtime: string;
  mtimeEpochSeconds: number;
  size: number;
  linkname?: string;
  /** sha256 of the content, regular files only. */
  contentDigest?: string;
  whiteout?: Whiteout;
}

export type LayerCompression = "none" | "gzip" | "zstd";

const WHITEOUT_PREFIX = ".wh.";
const OPAQUE_WHITEOUT = ".wh..wh..opq";

export interface ListLayerOptions {
  /** Refuse a layer that decompresses to more (a layer of an untrusted base image could be a gzip bomb). */
  maxUncompressedBytes?: number;
}

/** Lists the entries of a layer blob, uncompressed, gzip or zstd. */
export async function listLayerEntries(bytes: Uint8Array, mediaType?: string, options: ListLayerOptions = {}): Promise<LayerEntry[]> {
  const tar = decompressLayer(bytes, mediaType, options.maxUncompressedBytes);
  const entries: LayerEntry[] = [];
  const reader = extract();
  reader.end(tar);
  for await (const entry of reader) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    entries.push(toLayerEntry(entry.header, Buffer.concat(chunks)));
  }
  return entries;
}

/** What the media type claims, if it says anything about compression. */
export function compressionOfMediaType(mediaType: string | undefined): LayerCompression | undefined {
  if (!mediaType) return undefined;
  if (/[+.]zstd$/.test(mediaType)) return "zstd";
  if (/[+.]gzip$/.test(mediaType)) return "gzip";
  if (/[.]tar$/.test(mediaType)) return "none";
  return undefined;
}

export function compressionOfBytes(bytes: Uint8Array): LayerCompression {
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return "gzip";
  if (bytes[0] === 0x28 && bytes[1] === 0xb5 && bytes[2] === 0x2f && bytes[3] === 0xfd) return "zstd";
  return "none";
}

function decompressLayer(bytes: Uint8Array, mediaType: string | undefined, maxBytes: number | undefined): Buffer {
  const claimed = compressionOfMediaType(mediaType);
  const actual = compressionOfBytes(bytes);
  // docker push (graph driver store) describes a layer it did not upload itself, such as an
  // uncompressed base layer already in the registry, as ….tar.gzip with the blob's digest.
  // Clients read by magic bytes, as docker pull does, so such a layer is read as the tar it
  // is; the manifest's media type stays recorded as pushed.
  const plainTarLabelledCompressed = claimed !== "none" && actual === "none" && isTar(bytes);
  if (claimed !== undefined && claimed !== actual && !plainTarLabelledCompressed) {
    throw new HarnessError(
      "LAYER_FORMAT_UNSUPPORTED",
      `layer media type ${mediaType} says ${claimed === "none" ? "uncompressed" : claimed}, but its bytes are ${actual === "none" ? "not gzip or zstd" : actual}`,
      "The image's manifest mislabels this layer; inspect it with `crane manifest` to see which builder step produced it.",
    );
  }
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (actual) {
    case "none":
      return buffer;
    case "gzip":
      return bounded(() => zlib.gunzipSync(buffer, maxBytes === undefined ? {} : { maxOutputLength: maxBytes }), maxBytes);
    case "zstd":
      return bounded(() => zstdDecompress(buffer, maxBytes), maxBytes);
  }
}

/** A POSIX (ustar) or GNU tar header: "ustar" at offset 257. */
function isTar(bytes: Uint8Array): boolean {
  return bytes.length >= 512 && Buffer.from(bytes.subarray(257, 262)).toString("latin1") === "ustar";
}

function bounded(decompress: () => Buffer, maxBytes: number | undefined): Buffer {
  try {
    return decompress();
  } catch (err) {
    if (maxBytes !== undefined && (err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
      throw new HarnessError(
        "LAYER_FORMAT_UNSUPPORTED",
        `a layer decompresses to more than ${maxBytes} bytes, the limit for listing its entries`,
        "Use a smaller base image, or raise the limit where the layer is known to be legitimate.",
      );
    }
    throw err;
  }
}

// zstd arrived in node:zlib with Node 22.15; @types/node 20 does not declare it.
const nodeZstd = (zlib as { zstdDecompressSync?: (buf: Buffer, options?: { maxOutputLength?: number }) => Buffer }).zstdDecompressSync;

/**
 * zstd frames decoded by node:zlib where it has zstd, else by fzstd (pure JavaScript,
 * streamed so a bound stops a bomb early), so every supported Node reads zstd layers.
 */
export function zstdDecompress(bytes: Uint8Array, maxBytes?: number): Buffer {
  if (nodeZstd) return nodeZstd(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), maxBytes === undefined ? {} : { maxOutputLength: maxBytes });
  const chunks: Buffer[] = [];
  let total = 0;
  const stream = new ZstdDecompress((chunk) => {
    total += chunk.length;
    if (maxBytes !== undefined && total > maxBytes) throw Object.assign(new Error("zstd output too large"), { code: "ERR_BUFFER_TOO_LARGE" });
    chunks.push(Buffer.from(chunk));
  });
  stream.push(bytes, true);
  return Buffer.concat(chunks);
}

function toLayerEntry(header: Header, content: Buffer): LayerEntry {
  // tar-stream attaches the entry's decoded PAX records as a plain key → value object.
  const pax = (header.pax ?? {}) as Record<string, string | undefined>;
  const name = normalizeName(header.name);
  const type = entryType(header.type);
  const { iso, seconds } = mtimeOf(header, pax.mtime);
  const entry: LayerEntry = {
    name,
    type,
    mode: (header.mode ?? 0) & 0o7777,
    uid: pax.uid !== undefined ? Number(pax.uid) : (header.uid ?? 0),
    gid: pax.gid !== undefined ? Number(pax.gid) : (header.gid ?? 0),
    mtime: iso,
    mtimeEpochSeconds: seconds,
    size: header.size ?? content.length,
  };
  if ((type === "symlink" || type === "hardlink") && header.linkname) {
    entry.linkname = type === "hardlink" ? normalizeName(header.linkname) : header.linkname;
  }
  if (type === "file") entry.contentDigest = `sha256:${createHash("sha256").update(content).digest("hex")}`;
  const whiteout = whiteoutOf(name);
  if (whiteout) entry.whiteout = whiteout;
  return entry;
}

function normalizeName(raw: string): string {
  return raw.replace(/^(\.\/|\/)+/, "").replace(/\/+$/, "");
}

function entryType(type: Header["type"]): LayerEntryType {
  switch (type) {
    case "file":
    case "contiguous-file":
      return "file";
    case "directory":
      return "directory";
    case "symlink":
      return "symlink";
    case "link":
      return "hardlink";
    case "character-device":
      return "char";
    case "block-device":
      return "block";
    case "fifo":
      return "fifo";
    default:
      return "other";
  }
}

/** AUFS-style whiteouts, as the OCI layer spec defines them. */
function whiteoutOf(name: string): Whiteout | undefined {
  const slash = name.lastIndexOf("/");
  const dir = slash === -1 ? "" : name.slice(0, slash);
  const base = name.slice(slash + 1);
  if (base === OPAQUE_WHITEOUT) return { kind: "opaque", dir };
  // Other ".wh..wh." names are AUFS bookkeeping, not whiteouts of a file named ".wh.…".
  if (base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) return undefined;
  if (base.startsWith(WHITEOUT_PREFIX) && base.length > WHITEOUT_PREFIX.length) {
    const target = base.slice(WHITEOUT_PREFIX.length);
    return { kind: "file", target: dir ? `${dir}/${target}` : target };
  }
  return undefined;
}

/** A PAX mtime ("1700000000.123456789") is exact; the ustar field only has whole seconds. */
function mtimeOf(header: Header, paxMtime: string | undefined): { iso: string; seconds: number } {
  const exact = paxMtime ? /^(\d+)(?:\.(\d+))?$/.exec(paxMtime.trim()) : null;
  if (exact) {
    const fraction = exact[2]?.replace(/0+$/, "") ?? "";
    const base = new Date(Number(exact[1]) * 1000).toISOString().slice(0, 19);
    return { iso: `${base}${fraction ? `.${fraction}` : ""}Z`, seconds: Number(`${exact[1]}.${fraction || "0"}`) };
  }
  // Before 1970 (rare enough that millisecond precision will do).
  const seconds = paxMtime && Number.isFinite(Number(paxMtime)) ? Number(paxMtime) : (header.mtime?.getTime() ?? 0) / 1000;
  return { iso: new Date(seconds * 1000).toISOString().replace(".000Z", "Z"), seconds };
}
