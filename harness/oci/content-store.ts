import { HarnessError } from "../errors.ts";
import type { FetchedConfig, FetchedManifest, RegistryClient, ResolvedImage } from "./registry-client.ts";
import { ATTESTATION_MANIFEST, type Descriptor, type ImageConfig, isIndex, type Platform, REFERENCE_TYPE_ANNOTATION } from "./types.ts";

/**
 * Where the manifests and blobs of images can be read from: a repository of the test
 * registry, an OCI image layout, a `docker save` archive. Everything that reads images
 * (observation, the difference explainer, scenario-local base images) goes through this,
 * so it does not care where the bytes live. Implementations verify every digest.
 */
export interface ContentStore {
  /** For messages: e.g. "registry:5000/base/busybox" or "images/quirky.tar". */
  readonly description: string;
  /** A manifest or index by digest (or by tag, where the store has tags). */
  manifest(reference: string): Promise<FetchedManifest>;
  blob(digest: string): Promise<Buffer>;
}

/** One repository of a registry, as a content store. */
export class RegistryRepository implements ContentStore {
  constructor(
    readonly client: RegistryClient,
    readonly repo: string,
  ) {}

  get description(): string {
    return `${this.client.baseUrl}/${this.repo}`;
  }

  manifest(reference: string): Promise<FetchedManifest> {
    return this.client.getManifest(this.repo, reference);
  }

  blob(digest: string): Promise<Buffer> {
    return this.client.getBlob(this.repo, digest);
  }
}

export function platformString(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}

function matchesPlatform(d: Descriptor, want: Platform): boolean {
  const p = d.platform;
  if (!p) return false;
  return p.os === want.os && p.architecture === want.architecture && (want.variant === undefined || p.variant === want.variant);
}

/** Follows an index to the image manifest for `platform`, passing over attestation manifests. */
export async function resolveImage(store: ContentStore, reference: string, platform: Platform): Promise<ResolvedImage> {
  const top = await store.manifest(reference);
  if (!isIndex(top.manifest)) {
    return { manifestDigest: top.digest, manifest: top.manifest, manifestMediaType: top.mediaType };
  }
  const candidates = top.manifest.manifests.filter((d) => d.annotations?.[REFERENCE_TYPE_ANNOTATION] !== ATTESTATION_MANIFEST);
  // An index with a single entry and no platform on it is an image for whatever platform it is.
  const chosen = candidates.find((d) => matchesPlatform(d, platform)) ?? (candidates.length === 1 && !candidates[0]!.platform ? candidates[0] : undefined);
  if (!chosen) {
    const offered = candidates.map((d) => (d.platform ? platformString(d.platform) : "(no platform)")).join(", ") || "nothing";
    throw contentError(store, reference, `the index ${top.digest} has no manifest for ${platformString(platform)} (it offers ${offered})`);
  }
  const inner = await store.manifest(chosen.digest);
  if (isIndex(inner.manifest)) {
    throw contentError(store, reference, `the index entry for ${platformString(platform)} (${chosen.digest}) is itself an index`);
  }
  return { indexDigest: top.digest, index: top.manifest, manifestDigest: inner.digest, manifest: inner.manifest, manifestMediaType: inner.mediaType };
}

/** The image config a manifest names, parsed. */
export async function readConfig(store: ContentStore, configDescriptor: Descriptor): Promise<FetchedConfig> {
  const bytes = await store.blob(configDescriptor.digest);
  let config: ImageConfig;
  try {
    config = JSON.parse(bytes.toString("utf8")) as ImageConfig;
  } catch {
    // Not the parser's message: it quotes the text it could not read.
    throw contentError(store, configDescriptor.digest, "the image config is not JSON");
  }
  return { digest: configDescriptor.digest, bytes, config };
}

function contentError(store: ContentStore, reference: string, problem: string): HarnessError {
  return new HarnessError("REGISTRY_ERROR", `${store.description}@${reference}: ${problem}`, "The stored content does not match what was asked for.");
}
