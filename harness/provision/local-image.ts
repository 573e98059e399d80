import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildImageFromRootfs, inspectImage, LABEL_PREFIX } from "./docker-images.ts";
import type { ProvisionedImage } from "./image-source.ts";
import { RootfsBuilder } from "./rootfs.ts";

/**
 * An image the harness builds itself from a root filesystem, reused while an image with
 * the same tag and recipe exists. `populate` (run only when building) fills the rootfs
 * and returns the labels that say how it was made; `describe` turns labels into the
 * line reports print, so a cached image is described exactly like a fresh build.
 */
export async function localRootfsImage(opts: {
  tag: string;
  /** Bump when the image's contents change, so cached images are rebuilt. */
  recipe: string;
  entrypoint: string[];
  describe: (labels: Readonly<Record<string, string>>) => string;
  populate: (rootfs: RootfsBuilder) => Promise<Record<string, string>>;
}): Promise<ProvisionedImage> {
  const existing = await inspectImage(opts.tag);
  const existingLabels = existing?.Config?.Labels ?? {};
  if (existing && existingLabels[`${LABEL_PREFIX}.recipe`] === opts.recipe) {
    return { reference: opts.tag, imageId: existing.Id, source: "local-build", description: opts.describe(existingLabels), labels: existingLabels };
  }
  const dir = await mkdtemp(join(tmpdir(), "buildkit-repro-rootfs-"));
  try {
    const labels = {
      [`${LABEL_PREFIX}.source`]: "local-build",
      [`${LABEL_PREFIX}.recipe`]: opts.recipe,
      ...(await opts.populate(new RootfsBuilder(dir))),
    };
    const imageId = await buildImageFromRootfs({ rootfs: dir, tag: opts.tag, labels, entrypoint: opts.entrypoint });
    return { reference: opts.tag, imageId, source: "local-build", description: opts.describe(labels), labels };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
