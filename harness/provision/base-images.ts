/**
 * The base images scenarios build FROM, made by the harness instead of pulled, so every
 * run sees the same bytes without network access. Each is one uncompressed layer written
 * deterministically; the same host busybox package gives the same digests everywhere.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { execa } from "execa";
import { HarnessError } from "../errors.ts";
import type { TarEntrySpec } from "../oci/deterministic-tar.ts";
import { writeDeterministicTar } from "../oci/deterministic-tar.ts";
import { buildImageDocuments, type ImageDocuments, pushImageDocuments } from "../oci/image-writer.ts";
import type { RegistryClient } from "../oci/registry-client.ts";
import type { ContainerConfig } from "../oci/types.ts";
import { ensureHostPackages, HOST_PACKAGES } from "./host-packages.ts";

export interface BaseImageRecipe {
  /** What scenarios write in `{{image:<name>}}`. */
  readonly name: string;
  readonly description: string;
  entries(): Promise<readonly TarEntrySpec[]>;
  /** Runtime defaults (Env, Cmd) of the image. */
  readonly config?: ContainerConfig;
}

export interface PushedBaseImage {
  readonly repo: string;
  readonly digest: string;
  /** `<registryHost>/<repo>@sha256:…`, as the BuildKit daemon must write it. */
  readonly reference: string;
}

const PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const PAYLOAD_SEED = "buildkit-repro payload v1";
const PAYLOAD_SIZE = 64 * 1024;

const dir = (path: string, mode = 0o755): TarEntrySpec => ({ type: "directory", path, mode });
const file = (path: string, content: string | Uint8Array, mode = 0o644): TarEntrySpec => ({ type: "file", path, mode, content });

let busyboxLayer: Promise<readonly TarEntrySpec[]> | undefined;

/**
 * Like the official busybox image: no /dev, /proc or /sys in the layer. Read once per
 * process (two base images and every environment start use it); a failure is not kept.
 */
function busyboxEntries(): Promise<readonly TarEntrySpec[]> {
  busyboxLayer ??= readBusyboxEntries().catch((err: unknown) => {
    busyboxLayer = undefined;
    throw err;
  });
  return busyboxLayer;
}

async function readBusyboxEntries(): Promise<TarEntrySpec[]> {
  const path = HOST_PACKAGES.busyboxStatic.provides;
  const hint = `sudo apt-get install -y ${HOST_PACKAGES.busyboxStatic.name}`;
  await ensureHostPackages([HOST_PACKAGES.busyboxStatic], "The busybox base images");
  let binary: Buffer;
  try {
    binary = await readFile(path);
  } catch (err) {
    throw new HarnessError("IMAGE_PROVISION_FAILED", `the busybox base image needs a static busybox at ${path}: ${(err as Error).message}`, hint, {
      cause: err,
    });
  }
  let interpreter: string | undefined;
  try {
    interpreter = elfInterpreter(binary);
  } catch (err) {
    throw new HarnessError("IMAGE_PROVISION_FAILED", `${path} is not a usable busybox binary: ${(err as Error).message}`, hint, { cause: err });
  }
  if (interpreter !== undefined) {
    throw new HarnessError(
      "IMAGE_PROVISION_FAILED",
      `${path} is dynamically linked (interpreter ${interpreter}), so it cannot run alone in an image`,
      `${hint} (Debian's busybox-static replaces the dynamic busybox package)`,
    );
  }
  const listed = await execa(path, ["--list"], { reject: false });
  if (listed.exitCode !== 0) {
    throw new HarnessError("IMAGE_PROVISION_FAILED", `${path} --list failed (exit ${listed.exitCode}): ${listed.stderr}`, hint);
  }
  const applets = [...new Set(listed.stdout.split("\n").map((l) => l.trim()))].filter((a) => a && a !== "busybox" && !a.includes("/"));
  if (!applets.includes("sh")) throw new HarnessError("IMAGE_PROVISION_FAILED", `${path} has no sh applet`, hint);
  return [
    dir("bin"),
    file("bin/busybox", binary, 0o755),
    ...applets.map((a): TarEntrySpec => ({ type: "symlink", path: `bin/${a}`, target: "busybox" })),
    dir("etc"),
    file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"),
    file("etc/group", "root:x:0:\n"),
    dir("root", 0o700),
    dir("tmp", 0o1777),
  ];
}

/** 64 KiB nobody can mistake for another file: sha256(seed), sha256 of that, and so on. */
export function payloadBytes(seed = PAYLOAD_SEED, size = PAYLOAD_SIZE): Buffer {
  const blocks: Buffer[] = [];
  let block = createHash("sha256").update(seed).digest();
  for (let length = 0; length < size; length += block.length) {
    blocks.push(block);
    block = createHash("sha256").update(block).digest();
  }
  return Buffer.concat(blocks).subarray(0, size);
}

export const BASE_IMAGES: readonly BaseImageRecipe[] = [
  {
    name: "busybox",
    description: "Debian's static busybox with a symlink per applet in /bin, root in /etc/passwd and /etc/group, /tmp and /root; no /dev, /proc or /sys",
    entries: busyboxEntries,
    config: { Env: [PATH_ENV], Cmd: ["sh"] },
  },
  {
    name: "busybox-mountpoints",
    description: "busybox plus empty /dev, /proc and /sys directories",
    entries: async () => [...(await busyboxEntries()), dir("dev"), dir("proc"), dir("sys")],
    config: { Env: [PATH_ENV], Cmd: ["sh"] },
  },
  {
    name: "payload",
    description: `/bin/payload (${PAYLOAD_SIZE / 1024} KiB from sha256 chaining of "${PAYLOAD_SEED}") and /etc/payload-release`,
    entries: async () => [
      dir("bin"),
      file("bin/payload", payloadBytes(), 0o755),
      dir("etc"),
      file("etc/payload-release", `NAME=buildkit-repro payload\nSEED=${PAYLOAD_SEED}\nSIZE=${PAYLOAD_SIZE}\n`),
    ],
  },
];

/** The creation time of every base image: the same instant as the mtime of their files. */
export const BASE_IMAGE_CREATED = "1970-01-01T00:00:00Z";

/**
 * Pushes each recipe as `base/<name>:latest` through `client` (the registry as this host
 * reaches it) and returns references under `registryHost` (the same registry as the
 * BuildKit daemon reaches it, e.g. `registry:5000`).
 */
export async function pushBaseImages(client: RegistryClient, recipes: readonly BaseImageRecipe[], registryHost: string): Promise<Map<string, PushedBaseImage>> {
  const pushed = new Map<string, PushedBaseImage>();
  for (const recipe of recipes) {
    const repo = `base/${recipe.name}`;
    const image = await pushImageDocuments(client, repo, "latest", await baseImageDocuments(recipe));
    pushed.set(recipe.name, { repo, digest: image.manifestDigest, reference: `${registryHost}/${repo}@${image.manifestDigest}` });
  }
  return pushed;
}

const documentsByRecipe = new WeakMap<BaseImageRecipe, Promise<ImageDocuments>>();

/** A recipe's image, built once per process: every fresh registry gets the same bytes. */
function baseImageDocuments(recipe: BaseImageRecipe): Promise<ImageDocuments> {
  let docs = documentsByRecipe.get(recipe);
  if (!docs) {
    docs = recipe.entries().then((entries) =>
      buildImageDocuments({
        layers: [writeDeterministicTar(entries)],
        config: {
          architecture: ociArchitecture(process.arch),
          os: "linux",
          created: BASE_IMAGE_CREATED,
          ...(recipe.config ? { config: recipe.config } : {}),
          history: [{ created_by: `buildkit-repro base image ${recipe.name}`, comment: recipe.description }],
        },
      }),
    );
    // A failure (busybox missing) is not kept: the next call reports it again.
    docs.catch(() => documentsByRecipe.delete(recipe));
    documentsByRecipe.set(recipe, docs);
  }
  return docs;
}

/** The ELF program interpreter (PT_INTERP) of a binary, undefined when it has none (static). */
export function elfInterpreter(bytes: Uint8Array): string | undefined {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 52 || buf.readUInt32BE(0) !== 0x7f454c46) throw new Error("not an ELF file");
  const is64 = buf[4] === 2;
  const le = buf[5] === 1;
  const u16 = (o: number) => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const word = (o: number) => (is64 ? Number(le ? buf.readBigUInt64LE(o) : buf.readBigUInt64BE(o)) : u32(o));
  const phoff = word(is64 ? 0x20 : 0x1c);
  const phentsize = u16(is64 ? 0x36 : 0x2a);
  const phnum = u16(is64 ? 0x38 : 0x2c);
  const PT_INTERP = 3;
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (ph + phentsize > buf.length) throw new Error("truncated ELF program headers");
    if (u32(ph) !== PT_INTERP) continue;
    const offset = word(ph + (is64 ? 0x08 : 0x04));
    const size = word(ph + (is64 ? 0x20 : 0x10));
    return buf
      .subarray(offset, offset + size)
      .toString("latin1")
      .replace(/\0+$/, "");
  }
  return undefined;
}

function ociArchitecture(nodeArch: string): string {
  const map: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" };
  return map[nodeArch] ?? nodeArch;
}
