import { execa } from "execa";
import { LABEL_PREFIX } from "./docker-images.ts";
import { ensureHostPackages, HOST_PACKAGES } from "./host-packages.ts";
import { type ImagePlan, imageSourcePolicy, type ProvisionedImage, planImage, provisionPlannedImage } from "./image-source.ts";
import type { LocalImageSpec } from "./local-image.ts";
import { versionsFile } from "./versions.ts";

// 2: a static busybox for the shell that runs registry generations (generations.ts).
const LOCAL_RECIPE = "2";
const LOCAL_TAG = "buildkit-repro/registry:debian-local";

/** A registry for tests: filesystem storage, deletes allowed, no auth, plain http on :5000. */
export const REGISTRY_CONFIG = `version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: /var/lib/registry
  delete:
    enabled: true
http:
  addr: :5000
`;

export function planRegistryImage(): Promise<ImagePlan> {
  const { reference, digest } = versionsFile.registry.official;
  const [repository, tag] = reference.split(":") as [string, string];
  return planImage({ what: "registry", official: { repository, tag, digest }, policy: imageSourcePolicy(), local: LOCAL_REGISTRY_IMAGE });
}

/** The registry image on its own (outside an environment start). */
export async function provisionRegistryImage(): Promise<ProvisionedImage> {
  return provisionPlannedImage(await planRegistryImage());
}

/** Debian's docker-registry (CNCF distribution) binary with its libraries and a static busybox, in an image with no base. */
const LOCAL_REGISTRY_IMAGE: LocalImageSpec = {
  tag: LOCAL_TAG,
  recipe: LOCAL_RECIPE,
  entrypoint: ["/bin/registry", "serve", "/etc/docker/registry/config.yml"],
  activity: "build-registry-image",
  describe: (labels) => `local build: ${labels[`${LABEL_PREFIX}.registry`]} (not the official image)`,
  populate: async (rootfs) => {
    await ensureHostPackages([HOST_PACKAGES.registry, HOST_PACKAGES.busyboxStatic], "Building the registry image locally");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax
    const { stdout } = await execa("dpkg-query", ["-W", "-f", "${Version}", HOST_PACKAGES.registry.name], { reject: false });
    await rootfs.addBinaryWithLibraries(HOST_PACKAGES.registry.provides, "/bin/registry");
    await rootfs.addBusybox(["sh", "mkdir", "rm"]);
    await rootfs.writeFile("/etc/docker/registry/config.yml", REGISTRY_CONFIG);
    await rootfs.mkdir("/var/lib/registry");
    await rootfs.mkdir("/tmp", 0o1777);
    return { [`${LABEL_PREFIX}.registry`]: `Debian docker-registry ${stdout || "(version unknown)"}` };
  },
};
