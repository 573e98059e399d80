import { HarnessError } from "../errors.ts";
import { RegistryRepository, resolveImage } from "./content-store.ts";
import { digestMismatch, digestOf, isDigest } from "./digest.ts";
import {
  IMAGE_MANIFEST_MEDIA_TYPES,
  type ImageConfig,
  INDEX_MEDIA_TYPES,
  type Index,
  isIndex,
  MANIFEST_MEDIA_TYPES,
  type Manifest,
  type Platform,
} from "./types.ts";

export interface FetchedManifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
  manifest: Index | Manifest;
}

export interface ResolvedImage {
  /** Set when `reference` named an index (or manifest list) rather than the image manifest. */
  indexDigest?: string;
  index?: Index;
  manifestDigest: string;
  manifest: Manifest;
  manifestMediaType: string;
}

export interface FetchedConfig {
  digest: string;
  bytes: Buffer;
  config: ImageConfig;
}

export interface RegistryClientOptions {
  /** Per request; a local registry answers in milliseconds, so a stall means it is gone. */
  timeoutMs?: number;
}

const ERROR_BODY_LIMIT = 600;
const HINT = "Check that the test registry is running and reachable from this host (the harness starts it with the environment).";

/**
 * The Registry HTTP API v2 against a plain-http registry without authentication, as the
 * harness runs one next to each BuildKit daemon. Every failure is a REGISTRY_ERROR.
 */
export class RegistryClient {
  readonly baseUrl: string;
  private readonly timeoutMs: number;

  constructor(baseUrl: string, options: RegistryClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  async getManifest(repo: string, reference: string): Promise<FetchedManifest> {
    const url = `${this.baseUrl}/v2/${repo}/manifests/${reference}`;
    const res = await this.request("GET", url, { headers: { Accept: MANIFEST_MEDIA_TYPES.join(", ") } }, [200]);
    const bytes = Buffer.from(await res.arrayBuffer());
    const digest = digestOf(bytes);
    const header = res.headers.get("docker-content-digest");
    if (header && digestMismatch(bytes, header) !== undefined) {
      throw registryError("GET", url, `the manifest's bytes have digest ${digest}, but Docker-Content-Digest says ${header}`);
    }
    if (isDigest(reference) && digestMismatch(bytes, reference) !== undefined) {
      throw registryError("GET", url, `the manifest's bytes have digest ${digest}, not the requested ${reference}`);
    }
    const manifest = parseManifest(bytes, "GET", url);
    const contentType = res.headers.get("content-type")?.split(";")[0]?.trim();
    const mediaType =
      contentType && MANIFEST_MEDIA_TYPES.includes(contentType)
        ? contentType
        : (manifest.mediaType ?? (isIndex(manifest) ? INDEX_MEDIA_TYPES[0]! : IMAGE_MANIFEST_MEDIA_TYPES[0]!));
    return { digest, mediaType, bytes, manifest };
  }

  /** Follows an index to the manifest for `platform`, passing over attestation manifests. */
  resolveImageManifest(repo: string, reference: string, platform: Platform = { os: "linux", architecture: "amd64" }): Promise<ResolvedImage> {
    return resolveImage(new RegistryRepository(this, repo), reference, platform);
  }

  async getBlob(repo: string, digest: string): Promise<Buffer> {
    const url = `${this.baseUrl}/v2/${repo}/blobs/${digest}`;
    const res = await this.request("GET", url, {}, [200]);
    const bytes = Buffer.from(await res.arrayBuffer());
    const actual = digestMismatch(bytes, digest);
    if (actual !== undefined) throw registryError("GET", url, `the blob's bytes have digest ${actual}, not ${digest}`);
    return bytes;
  }

  async getConfig(repo: string, manifest: Manifest): Promise<FetchedConfig> {
    const digest = manifest.config.digest;
    const bytes = await this.getBlob(repo, digest);
    let config: ImageConfig;
    try {
      config = JSON.parse(bytes.toString("utf8")) as ImageConfig;
    } catch (err) {
      throw registryError("GET", `${this.baseUrl}/v2/${repo}/blobs/${digest}`, `the image config is not JSON: ${(err as Error).message}`);
    }
    return { digest, bytes, config };
  }

  async hasBlob(repo: string, digest: string): Promise<boolean> {
    const res = await this.request("HEAD", `${this.baseUrl}/v2/${repo}/blobs/${digest}`, {}, [200, 404]);
    return res.status === 200;
  }

  /** Uploads the bytes unless the repository already has them; returns their digest. */
  async putBlob(repo: string, bytes: Uint8Array): Promise<string> {
    const digest = digestOf(bytes);
    if (await this.hasBlob(repo, digest)) return digest;
    const startUrl = `${this.baseUrl}/v2/${repo}/blobs/uploads/`;
    const started = await this.request("POST", startUrl, { headers: {} }, [202]);
    const location = started.headers.get("location");
    if (!location) throw registryError("POST", startUrl, "the registry started an upload but sent no Location header");
    // Location may be relative and may already carry a query (the upload state).
    const uploadUrl = new URL(location, `${this.baseUrl}/`);
    uploadUrl.searchParams.set("digest", digest);
    const done = await this.request("PUT", uploadUrl.toString(), { headers: { "Content-Type": "application/octet-stream" }, body: bytes }, [201]);
    const stored = done.headers.get("docker-content-digest");
    if (stored && stored !== digest) throw registryError("PUT", uploadUrl.toString(), `the registry stored the blob as ${stored}, not ${digest}`);
    return digest;
  }

  async putManifest(repo: string, reference: string, mediaType: string, bytes: Uint8Array): Promise<string> {
    const url = `${this.baseUrl}/v2/${repo}/manifests/${reference}`;
    const digest = digestOf(bytes);
    const res = await this.request("PUT", url, { headers: { "Content-Type": mediaType }, body: bytes }, [201]);
    const stored = res.headers.get("docker-content-digest");
    if (stored && stored !== digest) throw registryError("PUT", url, `the registry stored the manifest as ${stored}, not ${digest}`);
    return digest;
  }

  async listTags(repo: string): Promise<string[]> {
    const tags: string[] = [];
    let url: string | undefined = `${this.baseUrl}/v2/${repo}/tags/list`;
    while (url) {
      const res = await this.request("GET", url, {}, [200]);
      const body = (await res.json().catch(() => undefined)) as { tags?: string[] | null } | undefined;
      if (!body) throw registryError("GET", url, "the tag list is not JSON");
      tags.push(...(body.tags ?? []));
      // Pagination: Link: </v2/<repo>/tags/list?last=x&n=y>; rel="next"
      const next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(res.headers.get("link") ?? "")?.[1];
      url = next ? new URL(next, `${this.baseUrl}/`).toString() : undefined;
    }
    return tags;
  }

  private async request(method: string, url: string, init: { headers?: Record<string, string>; body?: Uint8Array }, expected: number[]): Promise<Response> {
    let res: Response;
    try {
      // The copy gives fetch the ArrayBuffer-backed view its BodyInit type asks for.
      const body = init.body ? new Uint8Array(init.body) : undefined;
      res = await fetch(url, { method, headers: init.headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      const cause = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
      throw new HarnessError("REGISTRY_ERROR", `${method} ${url} failed: ${cause}`, HINT, { cause: err });
    }
    if (!expected.includes(res.status)) {
      const body = method === "HEAD" ? "" : await res.text().catch(() => "");
      const shown = body.length > ERROR_BODY_LIMIT ? `${body.slice(0, ERROR_BODY_LIMIT)}…` : body;
      throw new HarnessError(
        "REGISTRY_ERROR",
        `${method} ${url} answered ${res.status} ${res.statusText}${shown.trim() ? `: ${shown.trim()}` : ""}`,
        res.status === 404 ? "The repository, tag or blob does not exist in the test registry; check the name and that it was pushed." : HINT,
      );
    }
    return res;
  }
}

function registryError(method: string, url: string, problem: string): HarnessError {
  return new HarnessError(
    "REGISTRY_ERROR",
    `${method} ${url}: ${problem}`,
    "The registry's content does not match what was asked for; recreate the environment and push again.",
  );
}

function parseManifest(bytes: Buffer, method: string, url: string): Index | Manifest {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString("utf8"));
  } catch (err) {
    throw registryError(method, url, `the manifest is not JSON: ${(err as Error).message}`);
  }
  const d = doc as Partial<Index & Manifest> | null;
  if (d && typeof d === "object" && d.schemaVersion === 2 && (Array.isArray(d.manifests) || (d.config && Array.isArray(d.layers)))) {
    return d as Index | Manifest;
  }
  throw registryError(method, url, "the document is neither an image index nor an image manifest (schemaVersion 2)");
}
