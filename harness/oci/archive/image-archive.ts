/**
 * An image archive opened and verified: a ContentStore over its content, plus the list of
 * images it holds. The formats (OCI layout, docker save) only differ in how they find
 * their roots and blobs; everything after that is the same verified content graph.
 */
import type { ContentStore } from "../content-store.ts";
import type { FetchedManifest } from "../registry-client.ts";
import { type Descriptor, type Index, isIndex, type Manifest } from "../types.ts";
import { archiveError, quoteName } from "./archive-error.ts";
import type { ContentGraph, GraphNode } from "./content-graph.ts";

export type ArchiveFormat =
  /** An OCI image layout (directory or tar), e.g. `buildctl --output type=oci`. */
  | "oci-layout"
  /** `docker save` from Docker 25 on, and BuildKit's `type=docker`: manifest.json plus an OCI layout. */
  | "docker-save-oci"
  /** `docker save` before Docker 25 (and similar tools): manifest.json, config JSON files and layer tars, no manifests. */
  | "docker-save-legacy";

export interface ArchiveImage {
  /**
   * What the archive calls it: `org.opencontainers.image.ref.name` and
   * `io.containerd.image.name` annotations of index.json, RepoTags of manifest.json.
   */
  readonly names: readonly string[];
  /** The top-level manifest or index. */
  readonly descriptor: Descriptor;
  /**
   * "archive": the manifest is in the archive and is used byte for byte. "constructed":
   * the archive has no manifest (docker-save-legacy); the harness wrote a Docker schema2
   * manifest naming the archive's config and layer tars as they are.
   */
  readonly manifestOrigin: "archive" | "constructed";
}

export const NAME_ANNOTATIONS = ["org.opencontainers.image.ref.name", "io.containerd.image.name"] as const;

/** One content node to upload, children before the documents that reference them. */
export interface ArchiveContent {
  readonly descriptor: Descriptor;
  readonly role: GraphNode["role"];
  readonly bytes: Buffer;
}

export class ImageArchive implements ContentStore {
  constructor(
    /** e.g. "scenarios/x/images/base.tar". */
    readonly description: string,
    readonly format: ArchiveFormat,
    readonly images: readonly ArchiveImage[],
    private readonly graph: ContentGraph,
  ) {}

  get warnings(): readonly string[] {
    return this.graph.warnings;
  }

  /** The image a name or digest designates; refuses a name that matches none or several. */
  image(reference?: string): ArchiveImage {
    if (reference === undefined) {
      if (this.images.length === 1) return this.images[0]!;
      throw archiveError(
        this.description,
        undefined,
        `holds ${this.images.length} images, so one must be named`,
        `Name one of: ${this.images.map((i) => i.names[0] ?? i.descriptor.digest).join(", ")}.`,
      );
    }
    const byDigest = this.images.find((i) => i.descriptor.digest === reference);
    if (byDigest) return byDigest;
    const matches = this.images.filter((i) => i.names.includes(reference));
    if (matches.length === 1) return matches[0]!;
    throw archiveError(
      this.description,
      undefined,
      matches.length === 0 ? `has no image named ${quoteName(reference)}` : `has ${matches.length} images named ${quoteName(reference)}`,
      `Its images: ${this.images.map((i) => (i.names.length > 0 ? i.names.map(quoteName).join(" / ") : i.descriptor.digest)).join(", ") || "none"}.`,
    );
  }

  async manifest(reference: string): Promise<FetchedManifest> {
    const digest = this.graph.nodes.has(reference) ? reference : this.image(reference).descriptor.digest;
    const node = this.graph.nodes.get(digest);
    if (!node?.document)
      throw archiveError(this.description, undefined, `${digest} is not a manifest or index of this archive`, "Use a digest the archive lists.");
    return { digest, mediaType: node.descriptor.mediaType, bytes: node.bytes, manifest: node.document };
  }

  async blob(digest: string): Promise<Buffer> {
    const node = this.graph.nodes.get(digest);
    if (!node) throw archiveError(this.description, undefined, `has no verified blob ${digest}`, "Only blobs that the archive's images reference can be read.");
    return node.bytes;
  }

  /** The descriptor the archive's documents give for a digest (size, media type, annotations). */
  descriptorOf(digest: string): Descriptor | undefined {
    return this.graph.nodes.get(digest)?.descriptor;
  }

  /** Everything an image consists of, each digest once, children first: the order to upload them in. */
  contentOf(image: ArchiveImage): ArchiveContent[] {
    const ordered: ArchiveContent[] = [];
    const done = new Set<string>();
    const walk = (digest: string) => {
      if (done.has(digest)) return;
      done.add(digest);
      const node = this.graph.nodes.get(digest)!;
      for (const child of node.children) walk(child);
      ordered.push({ descriptor: node.descriptor, role: node.role, bytes: node.bytes });
    };
    walk(image.descriptor.digest);
    return ordered;
  }

  /** The image manifests under an image (itself, or an index's entries, recursively). */
  manifestsOf(image: ArchiveImage): { digest: string; manifest: Manifest; descriptor: Descriptor }[] {
    const out: { digest: string; manifest: Manifest; descriptor: Descriptor }[] = [];
    const walk = (digest: string) => {
      const node = this.graph.nodes.get(digest)!;
      const doc = node.document!;
      if (isIndex(doc)) for (const m of (doc as Index).manifests) walk(m.digest);
      else out.push({ digest, manifest: doc, descriptor: node.descriptor });
    };
    walk(image.descriptor.digest);
    return out;
  }
}
