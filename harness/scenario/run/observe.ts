/**
 * Reads back what a build produced, whole: for an image (pushed, or an oci/docker archive)
 * the index and manifest, the config as stored, the inline cache decoded once, and every
 * layer listed (each distinct blob once per attempt, so a base layer shared by thirty
 * builds is read once); for a local or tar export, its file tree. Nothing here decides.
 */
import { openImageArchive } from "../../oci/archive/open.ts";
import { type ContentStore, RegistryRepository } from "../../oci/content-store.ts";
import { listFileTree } from "../../oci/file-tree.ts";
import { observeImage } from "../../oci/image-observation.ts";
import { decodeInlineCache, INLINE_CACHE_KEY } from "../../oci/inline-cache.ts";
import type { LayerEntry } from "../../oci/layer-entries.ts";
import type { RegistryClient } from "../../oci/registry-client.ts";
import type { Platform } from "../../oci/types.ts";
import { parseRepositoryReference } from "../format/reference.ts";
import type { ImageObservation, OutputObservation } from "../observation.ts";
import type { PlannedOutput } from "./request.ts";

export class ImageReader {
  private readonly entryCache = new Map<string, Promise<LayerEntry[]>>();

  constructor(
    private readonly registry: RegistryClient,
    /** host:port of the registry as builders name it. */
    private readonly registryHost: string,
    private readonly platform: Platform,
    /** diff_ids of the base images the attempt pushed. */
    private readonly baseDiffIds: ReadonlySet<string>,
  ) {}

  /** An image the build pushed, by the digest the build reported or else by its name's tag. */
  async fromRegistry(name: string, digest: string | undefined): Promise<ImageObservation> {
    const parsed = parseRepositoryReference(name.slice(this.registryHost.length + 1))!;
    const store = new RegistryRepository(this.registry, parsed.repository);
    const reference = digest ?? parsed.digest ?? parsed.tag ?? "latest";
    return { ...(await this.read(store, reference, "registry", `${name.split("@")[0]}@${reference}`)), repository: parsed.repository };
  }

  /** The (first) image of an oci or docker archive an exporter wrote; an invalid archive throws, naming why. */
  async fromArchive(path: string, type: "oci" | "docker", label: string): Promise<ImageObservation> {
    const archive = await openImageArchive(path, { description: label });
    const [image] = archive.images;
    if (!image) throw new Error(`${label} holds no image`);
    return this.read(archive, image.descriptor.digest, type === "oci" ? "oci-archive" : "docker-archive", label);
  }

  private async read(store: ContentStore, reference: string, source: ImageObservation["source"], location: string): Promise<ImageObservation> {
    const image = await observeImage(store, reference, { platform: this.platform, entries: true, entryCache: this.entryCache });
    let inlineCache: ImageObservation["inlineCache"];
    if (INLINE_CACHE_KEY in image.config) {
      try {
        const decoded = decodeInlineCache(image.config);
        inlineCache = decoded ? { decoded } : { error: "the key is present but empty" };
      } catch (err) {
        inlineCache = { error: (err as Error).message };
      }
    }
    return {
      source,
      location,
      ...(image.indexDigest ? { indexDigest: image.indexDigest } : {}),
      ...(image.index ? { index: image.index } : {}),
      manifestDigest: image.manifestDigest,
      manifest: image.manifest,
      configDigest: image.configDigest,
      config: image.config,
      ...(inlineCache ? { inlineCache } : {}),
      layers: image.layers.map((l) => ({
        digest: l.digest,
        ...(l.diffId ? { diffId: l.diffId } : {}),
        entries: l.entries ?? [],
        fromBaseImage: l.diffId !== undefined && this.baseDiffIds.has(l.diffId),
      })),
    };
  }
}

/**
 * Reads back every output of a successful build. A failure to read one is recorded with it
 * (an archive BuildKit wrote that does not hold together is a finding about BuildKit; the
 * caller checks whether the machine was at fault), not thrown.
 */
export async function observeOutputs(planned: readonly PlannedOutput[], reported: string | undefined, reader: ImageReader): Promise<OutputObservation[]> {
  const out: OutputObservation[] = [];
  for (const o of planned) {
    const base = { index: o.index, type: o.type };
    try {
      switch (o.type) {
        case "image":
        case "registry":
          if (!o.push) out.push(base);
          // The reported digest names the pushed image only when it is the build's one output: with several exporters,
          // BuildKit (up to v0.34 at least) merges their responses and the last one's digest wins (moby/buildkit#5556).
          // Otherwise the image is found by its tag.
          else out.push({ ...base, image: await reader.fromRegistry(o.name!, planned.length === 1 ? reported : undefined) });
          break;
        case "oci":
        case "docker":
          out.push({ ...base, image: await reader.fromArchive(o.dest!, o.type, `the ${o.type} output ${o.index}`) });
          break;
        case "local":
        case "tar":
          out.push({ ...base, files: (await listFileTree(o.dest!)).entries });
          break;
      }
    } catch (err) {
      out.push({ ...base, unreadable: (err as Error).message });
    }
  }
  return out;
}
