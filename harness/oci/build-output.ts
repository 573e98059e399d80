/**
 * Observing what a build exported somewhere else than a registry: a `type=oci` or
 * `type=docker` output (a tar, or a directory with `tar=false`) is read as an image
 * archive and observed like a pushed image; `type=local` and `type=tar` outputs are file
 * trees (see file-tree.ts).
 */
import type { ArchiveFormat } from "./archive/image-archive.ts";
import type { ArchiveLimits } from "./archive/limits.ts";
import { openImageArchive } from "./archive/open.ts";
import { type ImageObservation, type ObserveImageOptions, observeImage } from "./image-observation.ts";

export interface ImageOutputObservation {
  readonly format: ArchiveFormat;
  /** One per top-level image of the output (one for a plain build); names from index.json / manifest.json. */
  readonly images: readonly (ImageObservation & { readonly names: readonly string[] })[];
  readonly warnings: readonly string[];
}

export interface ObserveOutputOptions extends ObserveImageOptions {
  /** How the output is named in messages (default: the path). */
  readonly description?: string;
  /** The archive bounds (defaults in archive/limits.ts); an output is as large as the image. */
  readonly limits?: Partial<ArchiveLimits>;
}

export async function observeImageOutput(path: string, options: ObserveOutputOptions = {}): Promise<ImageOutputObservation> {
  const archive = await openImageArchive(path, {
    ...(options.description ? { description: options.description } : {}),
    ...(options.limits ? { limits: options.limits } : {}),
  });
  const images: (ImageObservation & { names: readonly string[] })[] = [];
  for (const image of archive.images) {
    images.push({ ...(await observeImage(archive, image.descriptor.digest, options)), names: image.names });
  }
  return { format: archive.format, images, warnings: archive.warnings };
}
