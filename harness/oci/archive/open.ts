import { lstat } from "node:fs/promises";
import { archiveError } from "./archive-error.ts";
import type { ArchiveFiles } from "./archive-files.ts";
import { DirectoryFiles } from "./directory-files.ts";
import { DOCKER_MANIFEST_FILE, mergeDockerNames, readDockerManifestJson, readLegacyDockerSave } from "./docker-archive.ts";
import { ImageArchive } from "./image-archive.ts";
import { type ArchiveLimits, archiveLimits } from "./limits.ts";
import { isOciLayout, readOciLayout } from "./oci-layout.ts";
import { TarFiles } from "./tar-files.ts";

export interface OpenArchiveOptions {
  /** How the archive is named in messages (default: the path). */
  description?: string;
  limits?: Partial<ArchiveLimits>;
}

/**
 * Opens an image archive of any supported form: an OCI layout directory, an OCI layout
 * tar, a `docker save` tar (Docker 25+ with its OCI layout, or older), each tar possibly
 * gzipped. Everything is verified before this returns (see content-graph.ts); a refusal is
 * an IMAGE_ARCHIVE_INVALID HarnessError.
 */
export async function openImageArchive(path: string, options: OpenArchiveOptions = {}): Promise<ImageArchive> {
  const description = options.description ?? path;
  const limits = archiveLimits(options.limits);
  const info = await lstat(path).catch(() => undefined);
  if (!info) throw archiveError(description, undefined, "does not exist", "Check the path of the image archive.");
  if (info.isSymbolicLink()) throw archiveError(description, undefined, "is a symbolic link; links are never followed", "Put the archive itself there.");
  const files = info.isDirectory() ? await DirectoryFiles.open(path, description, limits) : await TarFiles.fromFile(path, description, limits);
  return readImageArchive(files, limits);
}

/** The same, for files already read (e.g. a tar held in memory). */
export async function readImageArchive(files: ArchiveFiles, limits: ArchiveLimits): Promise<ImageArchive> {
  const hasDockerManifest = await files.has(DOCKER_MANIFEST_FILE);
  if (await isOciLayout(files)) {
    const layout = await readOciLayout(files, limits);
    if (!hasDockerManifest) return new ImageArchive(files.description, "oci-layout", layout.images, layout.graph);
    const entries = await readDockerManifestJson(files, limits);
    return new ImageArchive(files.description, "docker-save-oci", mergeDockerNames(layout, entries, files.description), layout.graph);
  }
  if (hasDockerManifest) {
    const entries = await readDockerManifestJson(files, limits);
    const legacy = await readLegacyDockerSave(files, entries, limits);
    return new ImageArchive(files.description, "docker-save-legacy", legacy.images, legacy.graph);
  }
  throw archiveError(
    files.description,
    undefined,
    "is neither an OCI image layout (oci-layout and index.json) nor a docker save archive (manifest.json)",
    "Create it with `docker save -o x.tar IMAGE` or `buildctl build ... --output type=oci,dest=x.tar`.",
  );
}
