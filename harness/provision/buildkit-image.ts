import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { buildGoModuleCommands } from "./go-module-build.ts";
import { buildImageFromRootfs, inspectImage, LABEL_PREFIX } from "./docker-images.ts";
import { ensureHostPackages, HOST_PACKAGES } from "./host-packages.ts";
import { imageSourcePolicy, provisionImage, type ProvisionedImage } from "./image-source.ts";
import { RootfsBuilder } from "./rootfs.ts";
import { cacheDir } from "./cache-dir.ts";
import { lookupVersion } from "./versions.ts";

const MODULE = "github.com/moby/buildkit";
/** Bump when the local image's contents change, so cached local images are rebuilt. */
const LOCAL_RECIPE = "1";
const LOCAL_REPOSITORY = "buildkit-repro/buildkit";

export async function provisionBuildkitImage(version: string): Promise<ProvisionedImage> {
  const entry = lookupVersion(version);
  return provisionImage({
    what: `BuildKit ${entry.version}`,
    official: { repository: "moby/buildkit", tag: entry.version, digest: entry.officialDigest },
    policy: imageSourcePolicy(),
    buildLocally: () => localBuildkitImage(entry.version, entry.toolchain ?? undefined),
  });
}

function describeLocal(labels: Record<string, string>): string {
  return `local build of ${labels[`${LABEL_PREFIX}.go-module`]} with ${labels[`${LABEL_PREFIX}.go-version`]} and ${labels[`${LABEL_PREFIX}.runc`]} (not the official image)`;
}

/**
 * buildkitd and buildctl compiled from the Go module at exactly `version`, with the
 * host's runc, in an image with no base. Reused when an image of the same recipe exists.
 */
async function localBuildkitImage(version: string, toolchain: string | undefined): Promise<ProvisionedImage> {
  const tag = `${LOCAL_REPOSITORY}:${version}-local`;
  const existing = await inspectImage(tag);
  const existingLabels = existing?.Config?.Labels ?? {};
  if (existing && existingLabels[`${LABEL_PREFIX}.recipe`] === LOCAL_RECIPE) {
    return { reference: tag, imageId: existing.Id, source: "local-build", description: describeLocal(existingLabels), labels: existingLabels };
  }
  await ensureHostPackages([HOST_PACKAGES.runc, HOST_PACKAGES.busyboxStatic], `Building BuildKit ${version} locally`);
  const built = await buildGoModuleCommands({
    module: MODULE,
    version,
    commands: ["cmd/buildkitd", "cmd/buildctl"],
    outDir: cacheDir("go-build", `buildkit-${version}`),
    toolchain,
    ldflags: `-X ${MODULE}/version.Version=${version} -X ${MODULE}/version.Package=${MODULE}`,
  });
  const runcVersion = (await execa(HOST_PACKAGES.runc.provides, ["--version"])).stdout.split("\n")[0] ?? "runc";
  const dir = await mkdtemp(join(tmpdir(), "buildkit-repro-rootfs-"));
  try {
    const rootfs = new RootfsBuilder(dir);
    await rootfs.addFile(built.binaries.buildkitd!, "/usr/bin/buildkitd");
    await rootfs.addFile(built.binaries.buildctl!, "/usr/bin/buildctl");
    await rootfs.addBinaryWithLibraries(HOST_PACKAGES.runc.provides, "/usr/bin/runc");
    await rootfs.addBusybox(["sh", "mount", "umount", "cat", "ls", "mkdir"]);
    await rootfs.mkdir("/etc/buildkit");
    await rootfs.mkdir("/var/lib/buildkit", 0o700);
    await rootfs.mkdir("/run", 0o755);
    await rootfs.mkdir("/tmp", 0o1777);
    const labels = {
      [`${LABEL_PREFIX}.source`]: "local-build",
      [`${LABEL_PREFIX}.recipe`]: LOCAL_RECIPE,
      [`${LABEL_PREFIX}.go-module`]: `${MODULE}@${version}`,
      [`${LABEL_PREFIX}.go-version`]: built.goVersion,
      [`${LABEL_PREFIX}.runc`]: runcVersion,
    };
    const imageId = await buildImageFromRootfs({ rootfs: dir, tag, labels, entrypoint: ["buildkitd"] });
    return { reference: tag, imageId, source: "local-build", description: describeLocal(labels), labels };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
