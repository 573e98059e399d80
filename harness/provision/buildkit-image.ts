import { execa } from "execa";
import { cacheDir } from "./cache-dir.ts";
import { LABEL_PREFIX } from "./docker-images.ts";
import { buildGoModuleCommands } from "./go-module-build.ts";
import { toolchainFor } from "./go-module-query.ts";
import { ensureHostPackages, HOST_PACKAGES } from "./host-packages.ts";
import { type ImagePlan, imageSourcePolicy, planImage } from "./image-source.ts";
import type { LocalImageSpec } from "./local-image.ts";
import { type BuildkitVersion, lookupVersion, BUILDKIT_MODULE as MODULE } from "./versions.ts";

/**
 * Images built with the host's Go before the toolchain came from go.mod stay valid (same
 * source, same flags): the go-version label says which Go built each, and reports print it.
 */
const LOCAL_RECIPE = "1";
const LOCAL_REPOSITORY = "buildkit-repro/buildkit";

export function planBuildkitImage(version: string): Promise<ImagePlan> {
  const entry = lookupVersion(version);
  return planImage({
    what: `BuildKit ${entry.version}`,
    official: { repository: "moby/buildkit", tag: entry.version, digest: entry.officialDigest },
    policy: imageSourcePolicy(),
    local: localBuildkitImage(entry),
  });
}

function describeLocal(labels: Readonly<Record<string, string>>): string {
  const commit = labels[`${LABEL_PREFIX}.go-commit`];
  const asked = labels[`${LABEL_PREFIX}.go-query`];
  const what = `${labels[`${LABEL_PREFIX}.go-module`]}${asked ? ` (${asked}${commit ? ` at commit ${commit}` : ""})` : ""}`;
  return `local build of ${what} with ${labels[`${LABEL_PREFIX}.go-version`]} and ${labels[`${LABEL_PREFIX}.runc`]} (not the official image)`;
}

/** A Docker tag for a module version (a pseudo-version may carry "+incompatible"). */
function localTag(version: string): string {
  return `${LOCAL_REPOSITORY}:${version.replace(/[^A-Za-z0-9_.-]/g, "_")}-local`;
}

/**
 * buildkitd and buildctl compiled from the Go module at exactly `version`, with the
 * host's runc, in an image with no base. Reused when an image of the same recipe exists.
 */
function localBuildkitImage(entry: BuildkitVersion): LocalImageSpec {
  const { version } = entry;
  return {
    tag: localTag(version),
    recipe: LOCAL_RECIPE,
    entrypoint: ["buildkitd"],
    activity: "build-buildkit-image",
    describe: describeLocal,
    populate: async (rootfs) => {
      await ensureHostPackages([HOST_PACKAGES.runc, HOST_PACKAGES.busyboxStatic], `Building BuildKit ${version} locally`);
      const built = await buildGoModuleCommands({
        module: MODULE,
        version,
        commands: ["cmd/buildkitd", "cmd/buildctl"],
        outDir: cacheDir("go-build", `buildkit-${version}`),
        toolchain: (goMod) => toolchainFor(goMod, entry.toolchain),
        ldflags: `-X ${MODULE}/version.Version=${version} -X ${MODULE}/version.Package=${MODULE}`,
      });
      const runcVersion = (await execa(HOST_PACKAGES.runc.provides, ["--version"])).stdout.split("\n")[0] ?? "runc";
      await rootfs.addFile(built.binaries.buildkitd!, "/usr/bin/buildkitd");
      await rootfs.addFile(built.binaries.buildctl!, "/usr/bin/buildctl");
      await rootfs.addBinaryWithLibraries(HOST_PACKAGES.runc.provides, "/usr/bin/runc");
      await rootfs.addBusybox(["sh", "mount", "umount", "cat", "ls", "mkdir"]);
      await rootfs.mkdir("/etc/buildkit");
      await rootfs.mkdir("/var/lib/buildkit", 0o700);
      await rootfs.mkdir("/run", 0o755);
      await rootfs.mkdir("/tmp", 0o1777);
      return {
        [`${LABEL_PREFIX}.go-module`]: `${MODULE}@${version}`,
        [`${LABEL_PREFIX}.go-version`]: built.goVersion,
        [`${LABEL_PREFIX}.runc`]: runcVersion,
        ...(entry.query ? { [`${LABEL_PREFIX}.go-query`]: entry.query } : {}),
        ...(entry.commit ? { [`${LABEL_PREFIX}.go-commit`]: entry.commit } : {}),
      };
    },
  };
}
