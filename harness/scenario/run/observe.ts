/**
 * Reads back what a build produced, whole: for an image, the index and manifest, the
 * config as stored, the inline cache decoded once, and every layer listed (each distinct
 * blob once per scenario, so a base layer shared by thirty builds is read once); for a
 * file tree, its entries. Nothing here decides anything.
 */
import { createHash } from "node:crypto";
import { lstat, readdir, readFile, readlink } from "node:fs/promises";
import { join, relative } from "node:path";
import { type ContentStore, RegistryRepository, readConfig, resolveImage } from "../../oci/content-store.ts";
import { decodeInlineCache, INLINE_CACHE_KEY } from "../../oci/inline-cache.ts";
import { type LayerEntry, listLayerEntries } from "../../oci/layer-entries.ts";
import type { RegistryClient } from "../../oci/registry-client.ts";
import type { Index, Platform } from "../../oci/types.ts";
import { parseRepositoryReference } from "../format/reference.ts";
import type { FileTreeEntry, ImageObservation, ListedLayer, OutputObservation } from "../observation.ts";
import type { PlannedOutput } from "./request.ts";

/** A file tree bigger than this is not read back (a scenario has no business producing one). */
const FILE_TREE_LIMIT = 512 * 1024 * 1024;

export class ImageReader {
  private readonly listings = new Map<string, Promise<LayerEntry[]>>();

  constructor(
    private readonly registry: RegistryClient,
    /** host:port of the registry as builders name it. */
    private readonly registryHost: string,
    private readonly platform: Platform,
    /** diff_ids of the base images the run pushed. */
    private readonly baseDiffIds: ReadonlySet<string>,
  ) {}

  /** An image the build pushed, by the digest the build reported or else by its name's tag. */
  async fromRegistry(name: string, digest: string | undefined): Promise<ImageObservation> {
    const parsed = parseRepositoryReference(name.slice(this.registryHost.length + 1))!;
    const store = new RegistryRepository(this.registry, parsed.repository);
    const reference = digest ?? parsed.digest ?? parsed.tag ?? "latest";
    const image = await this.read(store, reference, "registry", `${name.split("@")[0]}@${reference}`);
    return { ...image, repository: parsed.repository };
  }

  async read(store: ContentStore, reference: string, source: ImageObservation["source"], location: string): Promise<ImageObservation> {
    const top = await store.manifest(reference);
    const image = await resolveImage(store, reference, this.platform);
    const { digest: configDigest, config } = await readConfig(store, image.manifest.config);
    const diffIds = config.rootfs?.diff_ids ?? [];
    const layers: ListedLayer[] = [];
    for (const [i, layer] of image.manifest.layers.entries()) {
      let listing = this.listings.get(layer.digest);
      if (!listing) {
        listing = store.blob(layer.digest).then((bytes) => listLayerEntries(bytes, layer.mediaType));
        this.listings.set(layer.digest, listing);
      }
      const diffId = diffIds[i];
      layers.push({
        digest: layer.digest,
        ...(diffId ? { diffId } : {}),
        entries: await listing,
        fromBaseImage: diffId !== undefined && this.baseDiffIds.has(diffId),
      });
    }
    let inlineCache: ImageObservation["inlineCache"];
    if (INLINE_CACHE_KEY in config) {
      try {
        const decoded = decodeInlineCache(config);
        inlineCache = decoded ? { decoded } : { error: "the key is present but empty" };
      } catch (err) {
        inlineCache = { error: (err as Error).message };
      }
    }
    return {
      source,
      location,
      ...(image.indexDigest ? { indexDigest: image.indexDigest, index: top.manifest as Index } : {}),
      manifestDigest: image.manifestDigest,
      manifest: image.manifest,
      configDigest,
      config,
      ...(inlineCache ? { inlineCache } : {}),
      layers,
    };
  }
}

async function listTree(root: string): Promise<FileTreeEntry[]> {
  const out: FileTreeEntry[] = [];
  let total = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const abs = join(dir, name);
      const st = await lstat(abs);
      const path = relative(root, abs);
      const base = { path, mode: st.mode & 0o7777, mtimeEpochSeconds: st.mtimeMs / 1000, size: st.size };
      if (st.isDirectory()) {
        out.push({ ...base, type: "directory" });
        await walk(abs);
      } else if (st.isSymbolicLink()) {
        out.push({ ...base, type: "symlink", linkname: await readlink(abs) });
      } else if (st.isFile()) {
        total += st.size;
        if (total > FILE_TREE_LIMIT) throw new Error(`the tree is larger than ${FILE_TREE_LIMIT} bytes`);
        out.push({
          ...base,
          type: "file",
          contentDigest: `sha256:${createHash("sha256")
            .update(await readFile(abs))
            .digest("hex")}`,
        });
      } else {
        out.push({ ...base, type: "other" });
      }
    }
  };
  await walk(root);
  return out;
}

async function listTarball(path: string): Promise<FileTreeEntry[]> {
  const st = await lstat(path);
  if (st.size > FILE_TREE_LIMIT) throw new Error(`the tarball is larger than ${FILE_TREE_LIMIT} bytes`);
  const entries = await listLayerEntries(await readFile(path));
  return entries.map((e) => ({
    path: e.name,
    type: e.type === "file" || e.type === "directory" || e.type === "symlink" ? e.type : "other",
    mode: e.mode,
    mtimeEpochSeconds: e.mtimeEpochSeconds,
    size: e.size,
    ...(e.contentDigest ? { contentDigest: e.contentDigest } : {}),
    ...(e.linkname ? { linkname: e.linkname } : {}),
  }));
}

/** Reads back every output of a successful build. A failure to read one is recorded with it (the caller diagnoses why), not thrown. */
export async function observeOutputs(
  planned: readonly PlannedOutput[],
  metadata: Readonly<Record<string, unknown>>,
  reader: ImageReader,
): Promise<OutputObservation[]> {
  const pushed = planned.filter((o) => (o.type === "image" || o.type === "registry") && o.push);
  const reported = typeof metadata["containerimage.digest"] === "string" ? metadata["containerimage.digest"] : undefined;
  const out: OutputObservation[] = [];
  for (const o of planned) {
    const base = { index: o.index, type: o.type };
    try {
      switch (o.type) {
        case "image":
        case "registry":
          if (!o.push) out.push(base);
          // With one pushed image the reported digest names it; with several, each is found by its tag.
          else out.push({ ...base, image: await reader.fromRegistry(o.name!, pushed.length === 1 ? reported : undefined) });
          break;
        case "oci":
        case "docker":
          out.push({ ...base, unreadable: `reading ${o.type} archives back is not available in this harness version` });
          break;
        case "local":
          out.push({ ...base, files: await listTree(o.dest!) });
          break;
        case "tar":
          out.push({ ...base, files: await listTarball(o.dest!) });
          break;
      }
    } catch (err) {
      out.push({ ...base, unreadable: (err as Error).message });
    }
  }
  return out;
}
