import * as zlib from "node:zlib";
import { pack } from "tar-stream";
import { HarnessError } from "../../../../harness/errors.ts";
import { canonicalJson } from "../../../../harness/oci/canonical-json.ts";
import type { ContentStore } from "../../../../harness/oci/content-store.ts";
import { digestOf } from "../../../../harness/oci/digest.ts";
import type { FetchedManifest } from "../../../../harness/oci/registry-client.ts";
import { type Descriptor, type ImageConfig, type Index, type Manifest, MediaType, type Platform } from "../../../../harness/oci/types.ts";

/** Images built in memory for synthetic pairs; every read is logged so tests can see where the explainer stopped. */
export class MemoryStore implements ContentStore {
  readonly description = "memory";
  readonly reads: string[] = [];
  private readonly content = new Map<string, { bytes: Buffer; mediaType?: string }>();

  put(bytes: Buffer, mediaType?: string): string {
    const digest = digestOf(bytes);
    this.content.set(digest, { bytes, ...(mediaType ? { mediaType } : {}) });
    return digest;
  }

  drop(digest: string): void {
    this.content.delete(digest);
  }

  async manifest(reference: string): Promise<FetchedManifest> {
    const bytes = await this.blob(reference);
    const manifest = JSON.parse(bytes.toString("utf8")) as Index | Manifest;
    return { digest: reference, mediaType: this.content.get(reference)!.mediaType ?? manifest.mediaType ?? MediaType.ociManifest, bytes, manifest };
  }

  async blob(digest: string): Promise<Buffer> {
    this.reads.push(digest);
    const found = this.content.get(digest);
    if (!found) throw new HarnessError("REGISTRY_ERROR", `memory: ${digest} is not stored`, "Store it first.");
    return found.bytes;
  }
}

export interface TarEntrySpec {
  name: string;
  type?: "file" | "directory" | "symlink" | "link";
  content?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkname?: string;
}

export const EPOCH = 1_700_000_000;

/** A tar with the entries in the order given (tar-stream's writer, so any header value can be set). */
export async function tar(entries: readonly TarEntrySpec[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on("data", (c) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    p.on("end", resolve);
    p.on("error", reject);
  });
  for (const e of entries) {
    const type = e.type ?? (e.content !== undefined ? "file" : "directory");
    const header = {
      name: e.name,
      type,
      mode: e.mode ?? (type === "directory" ? 0o755 : type === "symlink" ? 0o777 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: new Date((e.mtime ?? EPOCH) * 1000),
      ...(e.linkname ? { linkname: e.linkname } : {}),
    };
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null) => (err ? reject(err) : resolve());
      p.entry(header, type === "file" ? (e.content ?? "") : Buffer.alloc(0), done);
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

export interface LayerSpec {
  tar: Buffer;
  /** gzip level; uncompressed when absent. */
  gzip?: number;
  mediaType?: string;
  annotations?: Record<string, string>;
}

export interface ImageSpec {
  layers: LayerSpec[];
  config?: Partial<ImageConfig>;
  platform?: Platform;
  annotations?: Record<string, string>;
}

/** Pushes the layers, config and manifest of an image; returns the manifest's descriptor. */
export function putImage(store: MemoryStore, spec: ImageSpec): Descriptor {
  const layers: Descriptor[] = spec.layers.map((l) => {
    const bytes = l.gzip !== undefined ? zlib.gzipSync(l.tar, { level: l.gzip }) : l.tar;
    const mediaType = l.mediaType ?? (l.gzip !== undefined ? MediaType.ociLayerTarGzip : MediaType.ociLayerTar);
    return { mediaType, digest: store.put(bytes), size: bytes.length, ...(l.annotations ? { annotations: l.annotations } : {}) };
  });
  const platform = spec.platform ?? { os: "linux", architecture: "amd64" };
  const config: ImageConfig = {
    architecture: platform.architecture,
    os: platform.os,
    created: "2023-11-14T22:13:20Z",
    config: { Env: ["PATH=/usr/bin:/bin"], Cmd: ["sh"] },
    rootfs: { type: "layers", diff_ids: spec.layers.map((l) => digestOf(l.tar)) },
    history: spec.layers.map((_, i) => ({ created: "2023-11-14T22:13:20Z", created_by: `RUN step ${i}` })),
    ...spec.config,
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: store.put(configBytes), size: configBytes.length },
    layers,
    ...(spec.annotations ? { annotations: spec.annotations } : {}),
  };
  const bytes = Buffer.from(canonicalJson(manifest));
  return { mediaType: MediaType.ociManifest, digest: store.put(bytes, MediaType.ociManifest), size: bytes.length, platform };
}

export function putIndex(store: MemoryStore, manifests: Descriptor[], annotations?: Record<string, string>): string {
  const index: Index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests, ...(annotations ? { annotations } : {}) };
  return store.put(Buffer.from(canonicalJson(index)), MediaType.ociIndex);
}

/** base64 of JSON, as BuildKit writes its config keys. */
export function base64Json(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64");
}
