import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { HarnessError } from "../../harness/errors.ts";
import type { ContentStore } from "../../harness/oci/content-store.ts";
import { digestMismatch, isDigest } from "../../harness/oci/digest.ts";
import type { FetchedManifest } from "../../harness/oci/registry-client.ts";
import { type Index, isIndex, type Manifest, MediaType } from "../../harness/oci/types.ts";

/**
 * Image content as a folder of blobs (`blobs/sha256/<hex>`, as in an OCI layout, without
 * its index.json), for recorded image pairs. Manifests are addressed by digest only; their
 * media types (what the registry served) are given by the caller.
 */
export class BlobFolderStore implements ContentStore {
  constructor(
    readonly dir: string,
    private readonly mediaTypes: Readonly<Record<string, string>>,
  ) {}

  get description(): string {
    return this.dir;
  }

  async manifest(reference: string): Promise<FetchedManifest> {
    if (!isDigest(reference)) throw missing(this.dir, reference, "a recorded pair is addressed by digest only");
    const bytes = await this.blob(reference);
    const manifest = JSON.parse(bytes.toString("utf8")) as Index | Manifest;
    const mediaType = this.mediaTypes[reference] ?? manifest.mediaType ?? (isIndex(manifest) ? MediaType.ociIndex : MediaType.ociManifest);
    return { digest: reference, mediaType, bytes, manifest };
  }

  async blob(digest: string): Promise<Buffer> {
    const path = blobPath(this.dir, digest);
    if (!existsSync(path)) throw missing(this.dir, digest, "the blob was not recorded");
    const bytes = await readFile(path);
    const actual = digestMismatch(bytes, digest);
    if (actual !== undefined)
      throw new HarnessError("REGISTRY_ERROR", `${path}: the bytes have digest ${actual}, not ${digest}`, "The recorded blob was altered; recapture the pair.");
    return bytes;
  }
}

function blobPath(dir: string, digest: string): string {
  const [algorithm, hex] = digest.split(":");
  return join(dir, "blobs", algorithm!, hex!);
}

function missing(dir: string, reference: string, why: string): HarnessError {
  return new HarnessError(
    "REGISTRY_ERROR",
    `${dir}: ${reference} is not recorded (${why})`,
    "The explainer read something it did not read when the pair was captured; recapture it with test/tools/capture-image-pairs.ts.",
  );
}

/** Passes reads through and keeps what was read, so exactly those blobs can be recorded. */
export class RecordingStore implements ContentStore {
  readonly blobs = new Map<string, Buffer>();
  readonly mediaTypes = new Map<string, string>();

  constructor(private readonly inner: ContentStore) {}

  get description(): string {
    return this.inner.description;
  }

  async manifest(reference: string): Promise<FetchedManifest> {
    const fetched = await this.inner.manifest(reference);
    this.blobs.set(fetched.digest, fetched.bytes);
    this.mediaTypes.set(fetched.digest, fetched.mediaType);
    return fetched;
  }

  async blob(digest: string): Promise<Buffer> {
    const bytes = await this.inner.blob(digest);
    this.blobs.set(digest, bytes);
    return bytes;
  }
}

export async function writeBlobFolder(dir: string, blobs: ReadonlyMap<string, Buffer>): Promise<void> {
  for (const [digest, bytes] of blobs) {
    const path = blobPath(dir, digest);
    await mkdir(join(path, ".."), { recursive: true });
    await writeFile(path, bytes);
  }
}
