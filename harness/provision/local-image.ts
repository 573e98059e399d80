import { makeWorkDir } from "../environment/work-dirs.ts";
import { buildImageFromRootfs, inspectImage, LABEL_PREFIX } from "./docker-images.ts";
import type { HostActivity } from "./host-plan.ts";
import type { ProvisionedImage } from "./image-source.ts";
import { RootfsBuilder } from "./rootfs.ts";

/**
 * An image the harness builds itself from a root filesystem, reused while an image with
 * the same tag and recipe exists. `populate` (run only when building) fills the rootfs
 * and returns the labels that say how it was made; `describe` turns labels into the
 * line reports print, so a cached image is described exactly like a fresh build.
 */
export interface LocalImageSpec {
  readonly tag: string;
  /** Bump when the image's contents change, so cached images are rebuilt. */
  readonly recipe: string;
  readonly entrypoint: string[];
  /** What building it does on the host, for planning the Debian packages it needs. */
  readonly activity: HostActivity;
  readonly describe: (labels: Readonly<Record<string, string>>) => string;
  readonly populate: (rootfs: RootfsBuilder) => Promise<Record<string, string>>;
}

/** The image built earlier with the same recipe, if the engine still has it. */
export async function cachedLocalImage(spec: LocalImageSpec): Promise<ProvisionedImage | undefined> {
  const existing = await inspectImage(spec.tag);
  const labels = existing?.Config?.Labels ?? {};
  if (!existing || labels[`${LABEL_PREFIX}.recipe`] !== spec.recipe) return undefined;
  return { reference: spec.tag, imageId: existing.Id, source: "local-build", description: spec.describe(labels), labels };
}

/** Builds the image; the host packages its activity needs must be installed (see host-plan.ts). */
export async function buildLocalImage(spec: LocalImageSpec): Promise<ProvisionedImage> {
  const rootfs = await makeWorkDir("rootfs");
  try {
    const labels = {
      [`${LABEL_PREFIX}.source`]: "local-build",
      [`${LABEL_PREFIX}.recipe`]: spec.recipe,
      ...(await spec.populate(new RootfsBuilder(rootfs.path))),
    };
    const imageId = await buildImageFromRootfs({ rootfs: rootfs.path, tag: spec.tag, labels, entrypoint: spec.entrypoint });
    return { reference: spec.tag, imageId, source: "local-build", description: spec.describe(labels), labels };
  } finally {
    await rootfs.remove();
  }
}
