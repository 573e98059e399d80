import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { buildImageFromRootfs, inspectImage, LABEL_PREFIX } from "./docker-images.ts";
import { ensureHostPackages, HOST_PACKAGES } from "./host-packages.ts";
import { imageSourcePolicy, provisionImage, type ProvisionedImage } from "./image-source.ts";
import { RootfsBuilder } from "./rootfs.ts";
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
async function localRegistryImage(): Promise<ProvisionedImage> {
  const existing = await inspectImage(LOCAL_TAG);
  const existingLabels = existing?.Config?.Labels ?? {};
  if (existing && existingLabels[`${LABEL_PREFIX}.recipe`] === LOCAL_RECIPE) {
    return { reference: LOCAL_TAG, imageId: existing.Id, source: "local-build", description: `local build: ${existingLabels[`${LABEL_PREFIX}.registry`]} (not the official image)`, labels: existingLabels };
  }
  await ensureHostPackages([HOST_PACKAGES.registry], "Building the registry image locally");
  const { stdout } = await execa("dpkg-query", ["-W", "-f", "${Version}", HOST_PACKAGES.registry.name], { reject: false });
  const dir = await mkdtemp(join(tmpdir(), "buildkit-repro-rootfs-"));
  try {
    const rootfs = new RootfsBuilder(dir);
    await rootfs.addBinaryWithLibraries(HOST_PACKAGES.registry.provides, "/bin/registry");
    await rootfs.writeFile("/etc/docker/registry/config.yml", REGISTRY_CONFIG);
    await rootfs.mkdir("/var/lib/registry");
    await rootfs.mkdir("/tmp", 0o1777);
    const labels = {
      [`${LABEL_PREFIX}.source`]: "local-build",
      [`${LABEL_PREFIX}.recipe`]: LOCAL_RECIPE,
      [`${LABEL_PREFIX}.registry`]: `Debian docker-registry ${stdout || "(version unknown)"}`,
    };
    const imageId = await buildImageFromRootfs({ rootfs: dir, tag: LOCAL_TAG, labels, entrypoint: ["/bin/registry", "serve", "/etc/docker/registry/config.yml"] });
    return { reference: LOCAL_TAG, imageId, source: "local-build", description: `local build: ${labels[`${LABEL_PREFIX}.registry`]} (not the official image)`, labels };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
