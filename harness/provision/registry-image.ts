import { execa } from "execa";
import { LABEL_PREFIX } from "./docker-images.ts";
import { ensureHostPackages, HOST_PACKAGES } from "./host-packages.ts";
import { imageSourcePolicy, type ProvisionedImage, provisionImage } from "./image-source.ts";
import { localRootfsImage } from "./local-image.ts";
import { versionsFile } from "./versions.ts";

const LOCAL_RECIPE = "1";
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

export async function provisionRegistryImage(): Promise<ProvisionedImage> {
  const { reference, digest } = versionsFile.registry.official;
  const [repository, tag] = reference.split(":") as [string, string];
  return provisionImage({
    what: "registry",
    official: { repository, tag, digest },
    policy: imageSourcePolicy(),
    buildLocally: localRegistryImage,
  });
}

/** Debian's docker-registry (CNCF distribution) binary with its libraries, in an image with no base. */
function localRegistryImage(): Promise<ProvisionedImage> {
  return localRootfsImage({
    tag: LOCAL_TAG,
    recipe: LOCAL_RECIPE,
    entrypoint: ["/bin/registry", "serve", "/etc/docker/registry/config.yml"],
    describe: (labels) => `local build: ${labels[`${LABEL_PREFIX}.registry`]} (not the official image)`,
    populate: async (rootfs) => {
      await ensureHostPackages([HOST_PACKAGES.registry], "Building the registry image locally");
      // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax
      const { stdout } = await execa("dpkg-query", ["-W", "-f", "${Version}", HOST_PACKAGES.registry.name], { reject: false });
      await rootfs.addBinaryWithLibraries(HOST_PACKAGES.registry.provides, "/bin/registry");
      await rootfs.writeFile("/etc/docker/registry/config.yml", REGISTRY_CONFIG);
      await rootfs.mkdir("/var/lib/registry");
      await rootfs.mkdir("/tmp", 0o1777);
      return { [`${LABEL_PREFIX}.registry`]: `Debian docker-registry ${stdout || "(version unknown)"}` };
    },
  });
}
