/**
 * An image per dockerd build (dockerd-builds.ts) that the harness runs as an isolated
 * engine: dockerd, containerd, containerd-shim-runc-v2, runc and tini with their libraries,
 * plus busybox for the entrypoint script. It is labelled with where dockerd came from,
 * the versions its binaries print when run inside the image, and the embedded BuildKit as
 * read from the binary (and, for Debian's GOPATH builds, its source package).
 */

import { existsSync } from "node:fs";
import { cp, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import tar from "tar-stream";
import { resourceLabels } from "../environment/labels.ts";
import { HarnessError } from "../errors.ts";
import { log } from "../log.ts";
import { cacheDir } from "./cache-dir.ts";
import { DebianArchive, type DownloadedPackage } from "./debian-archive.ts";
import { debianEmbeddedBuildkit } from "./debian-buildkit.ts";
import { docker } from "./docker-client.ts";
import { buildImageFromRootfs, inspectImage, LABEL_PREFIX } from "./docker-images.ts";
import type { DebianDockerdBuild, DockerdBuild, ModuleDockerdBuild } from "./dockerd-builds.ts";
import { buildkitTreeOfFile, type EmbeddedBuildkit, embeddedBuildkitFromModuleInfo } from "./embedded-buildkit.ts";
import { buildGoModuleCommands } from "./go-module-build.ts";
import type { ProvisionedImage } from "./image-source.ts";
import { RootfsBuilder } from "./rootfs.ts";

const RECIPE = "1";
const REPOSITORY = "buildkit-repro/dockerd";

const DOCKERD_LABELS = {
  build: `${LABEL_PREFIX}.dockerd.build`,
  origin: `${LABEL_PREFIX}.dockerd.origin`,
  version: `${LABEL_PREFIX}.dockerd.version`,
  buildkit: `${LABEL_PREFIX}.dockerd.buildkit`,
  buildkitEvidence: `${LABEL_PREFIX}.dockerd.buildkit-evidence`,
  containerd: `${LABEL_PREFIX}.dockerd.containerd`,
  runc: `${LABEL_PREFIX}.dockerd.runc`,
  packages: `${LABEL_PREFIX}.dockerd.packages`,
} as const;

export interface DockerdImage {
  readonly build: DockerdBuild;
  readonly image: ProvisionedImage;
  /** Where dockerd came from: "Debian trixie docker.io 26.1.5+dfsg1-9+deb13u1+b1" or "github.com/moby/moby/v2@v2.0.0-beta.24 …". */
  readonly origin: string;
  /** What `dockerd --version` prints in the image, e.g. "20.10.24+dfsg1". */
  readonly dockerdVersion: string;
  readonly buildkit: EmbeddedBuildkit;
  readonly containerd: string;
  readonly runc: string;
}

/** Reads a DockerdImage back from an image's labels; undefined when one is missing. */
function dockerdImageFromLabels(build: DockerdBuild, image: ProvisionedImage): DockerdImage | undefined {
  const l = image.labels;
  const get = (k: string) => l[k];
  const [origin, dockerdVersion, version, evidence, containerd, runc] = [
    get(DOCKERD_LABELS.origin),
    get(DOCKERD_LABELS.version),
    get(DOCKERD_LABELS.buildkit),
    get(DOCKERD_LABELS.buildkitEvidence),
    get(DOCKERD_LABELS.containerd),
    get(DOCKERD_LABELS.runc),
  ];
  if (!origin || !dockerdVersion || !version || !evidence || !containerd || !runc) return undefined;
  return { build, image, origin, dockerdVersion, buildkit: { version, evidence }, containerd, runc };
}

function describeDockerdImage(d: Pick<DockerdImage, "origin" | "dockerdVersion" | "buildkit">): string {
  return `dockerd ${d.dockerdVersion} (${d.origin}) with embedded BuildKit ${d.buildkit.version}`;
}

/** "Docker version 20.10.24+dfsg1, build 5d6db84" → "20.10.24+dfsg1". */
export function parseDockerdVersion(line: string): string | undefined {
  return /^Docker version ([^,\s]+)/.exec(line.trim())?.[1];
}

export async function provisionDockerdImage(build: DockerdBuild): Promise<DockerdImage> {
  const tag = `${REPOSITORY}:${build.id}-local`;
  const existing = await inspectImage(tag);
  const labels = existing?.Config?.Labels ?? {};
  if (existing && labels[`${LABEL_PREFIX}.recipe`] === RECIPE) {
    const image: ProvisionedImage = { reference: tag, imageId: existing.Id, source: "local-build", description: "", labels };
    const known = dockerdImageFromLabels(build, image);
    if (known) return { ...known, image: { ...image, description: describeDockerdImage(known) } };
  }
  const dir = await mkdtemp(join(tmpdir(), "buildkit-repro-dockerd-"));
  try {
    const rootfs = new RootfsBuilder(dir);
    const populated = build.kind === "debian" ? await populateDebian(build, rootfs) : await populateModule(build, rootfs);
    await finishRootfs(rootfs);
    const stage = `${REPOSITORY}:${build.id}-unprobed`;
    await buildImageFromRootfs({
      rootfs: dir,
      tag: stage,
      labels: { [`${LABEL_PREFIX}.source`]: "local-build", [`${LABEL_PREFIX}.recipe`]: RECIPE, [DOCKERD_LABELS.build]: build.id },
      entrypoint: ["dockerd"],
    });
    const probed = await probeVersions(stage);
    const finalLabels = {
      [DOCKERD_LABELS.origin]: populated.origin,
      [DOCKERD_LABELS.version]: probed.dockerd,
      [DOCKERD_LABELS.buildkit]: populated.buildkit.version,
      [DOCKERD_LABELS.buildkitEvidence]: populated.buildkit.evidence,
      [DOCKERD_LABELS.containerd]: probed.containerd,
      [DOCKERD_LABELS.runc]: probed.runc,
      [DOCKERD_LABELS.packages]: populated.packages.map((p) => `${p.name}=${p.version}`).join(" "),
    };
    const imageId = await addLabels(stage, tag, finalLabels);
    await docker
      .getImage(stage)
      .remove()
      .catch(() => undefined);
    const image: ProvisionedImage = { reference: tag, imageId, source: "local-build", description: "", labels: { ...labels, ...finalLabels } };
    const made: DockerdImage = {
      build,
      image,
      origin: populated.origin,
      dockerdVersion: probed.dockerd,
      buildkit: populated.buildkit,
      containerd: probed.containerd,
      runc: probed.runc,
    };
    log("provision", `made ${tag}: ${describeDockerdImage(made)}`);
    return { ...made, image: { ...image, description: describeDockerdImage(made) } };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface Populated {
  readonly origin: string;
  readonly buildkit: EmbeddedBuildkit;
  readonly packages: readonly DownloadedPackage[];
}

async function unpackDebs(archive: DebianArchive, names: readonly string[], rootfs: RootfsBuilder): Promise<DownloadedPackage[]> {
  const debs = await archive.download(names, join(archive.root, "debs"));
  for (const deb of debs) await execa("dpkg-deb", ["-x", deb.path, rootfs.dir]);
  return debs;
}

async function populateDebian(build: DebianDockerdBuild, rootfs: RootfsBuilder): Promise<Populated> {
  const archive = new DebianArchive(build.suite);
  const packages = await unpackDebs(archive, build.packages, rootfs);
  const engine = packages.find((p) => p.name === "docker.io");
  if (!engine) throw new HarnessError("IMAGE_PROVISION_FAILED", `The dockerd build ${build.id} lists no docker.io package.`);
  const dockerd = join(rootfs.dir, "usr/sbin/dockerd");
  const { buildkit: fromModules } = await embeddedBuildkitFromModuleInfo(dockerd);
  let buildkit = fromModules;
  if (!buildkit) {
    const tree = await buildkitTreeOfFile(dockerd);
    if (!tree) {
      throw new HarnessError(
        "IMAGE_PROVISION_FAILED",
        `Debian ${build.suite}'s dockerd ${engine.version} has neither module info nor BuildKit source paths; its embedded BuildKit cannot be read.`,
      );
    }
    buildkit = await debianEmbeddedBuildkit(archive, await archive.show("docker.io", engine.version), tree);
  }
  return { origin: `Debian ${build.suite} docker.io ${engine.version}`, buildkit, packages };
}

async function populateModule(build: ModuleDockerdBuild, rootfs: RootfsBuilder): Promise<Populated> {
  const built = await buildGoModuleCommands({
    module: build.module,
    version: build.version,
    commands: ["cmd/dockerd"],
    outDir: cacheDir("go-build", build.id),
    // The module's own version is not in the module info of a build from the module cache ("(devel)").
    ldflags: `-X ${build.module}/dockerversion.Version=${build.reportedVersion}`,
    ...(build.module === "github.com/docker/docker" ? { prepareSource: (dir: string) => vendorModSource(dir, build) } : {}),
  });
  const dockerd = built.binaries.dockerd!;
  const { buildkit } = await embeddedBuildkitFromModuleInfo(dockerd);
  if (!buildkit)
    throw new HarnessError("IMAGE_PROVISION_FAILED", `${build.module}@${build.version}'s dockerd has no ${"github.com/moby/buildkit"} in its module info.`);
  await rootfs.addFile(dockerd, "/usr/bin/dockerd");
  const packages = await unpackDebs(new DebianArchive(build.runtimeSuite), build.runtimePackages, rootfs);
  await symlink("tini-static", join(rootfs.dir, "usr/bin/docker-init"));
  return {
    origin: `${build.module}@${build.version} (CGO_ENABLED=0, ${built.goVersion}); containerd, runc and tini from Debian ${build.runtimeSuite}`,
    buildkit,
    packages,
  };
}

/**
 * github.com/docker/docker has no go.mod: its module file is vendor.mod (and vendor.sum),
 * and the module zip holds no vendor tree. A copy with those renamed builds in module mode
 * with exactly the versions the engine vendored.
 */
async function vendorModSource(moduleDir: string, build: ModuleDockerdBuild): Promise<string> {
  const dir = cacheDir("go-src", build.id);
  await rm(dir, { recursive: true, force: true });
  await cp(moduleDir, dir, { recursive: true });
  await execa("chmod", ["-R", "u+w", dir]);
  await rm(join(dir, "vendor"), { recursive: true, force: true });
  await cp(join(dir, "vendor.mod"), join(dir, "go.mod"));
  await cp(join(dir, "vendor.sum"), join(dir, "go.sum"));
  return dir;
}

/**
 * Debian's trixie packages put everything under /usr and rely on the /lib64 → usr/lib64
 * (and /bin, /lib, /sbin) symlinks of a merged-/usr system, which dpkg-deb -x does not make.
 */
async function finishRootfs(rootfs: RootfsBuilder): Promise<void> {
  for (const d of ["bin", "sbin", "lib", "lib64"]) {
    if (!existsSync(join(rootfs.dir, d)) && existsSync(join(rootfs.dir, "usr", d))) await symlink(`usr/${d}`, join(rootfs.dir, d));
  }
  await rootfs.addBusybox(["sh", "mount", "umount", "cat", "ls", "mkdir", "rm"]);
  await rootfs.mkdir("/etc/docker");
  await rootfs.mkdir("/var/lib/docker", 0o710);
  await rootfs.mkdir("/run", 0o755);
  await rootfs.mkdir("/tmp", 0o1777);
}

/** Runs the image's own binaries: a missing library fails here, not in the middle of a scenario. */
async function probeVersions(image: string): Promise<{ dockerd: string; containerd: string; runc: string }> {
  const script = "dockerd --version && containerd --version && runc --version";
  const container = await docker.createContainer({
    Image: image,
    Entrypoint: ["/bin/sh", "-c", script],
    Labels: resourceLabels(),
    Tty: true,
    HostConfig: { NetworkMode: "none" },
  });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    const output = (await container.logs({ stdout: true, stderr: true })).toString("utf8").replaceAll("\r", "");
    if (StatusCode !== 0) {
      throw new HarnessError(
        "IMAGE_PROVISION_FAILED",
        `The binaries of ${image} do not run (exit ${StatusCode}): ${output.trim().slice(-1000)}`,
        "A shared library is probably missing: add the Debian package that provides it to harness/provision/dockerd-builds.ts.",
      );
    }
    const lines = output.split("\n").map((l) => l.trim());
    const dockerd = parseDockerdVersion(lines.find((l) => l.startsWith("Docker version")) ?? "");
    const containerd = lines.find((l) => l.startsWith("containerd "))?.slice("containerd ".length);
    const runc = lines.find((l) => l.startsWith("runc version"));
    if (!dockerd || !containerd || !runc) throw new HarnessError("IMAGE_PROVISION_FAILED", `Unexpected version output from ${image}: ${output.slice(0, 500)}`);
    return { dockerd, containerd, runc };
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}

/** A child image of `from` that only adds labels (the classic builder: no registry involved). */
async function addLabels(from: string, tag: string, labels: Record<string, string>): Promise<string> {
  const dockerfile = [`FROM ${from}`, ...Object.entries(labels).map(([k, v]) => `LABEL ${JSON.stringify(k)}=${JSON.stringify(v)}`)].join("\n");
  const context = tar.pack();
  context.entry({ name: "Dockerfile" }, `${dockerfile}\n`);
  context.finalize();
  const stream = await docker.buildImage(context as unknown as NodeJS.ReadableStream, { t: tag, version: "1", rm: true, forcerm: true });
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, output: Array<{ error?: string }>) => {
      const failure = err?.message ?? output.find((o) => o.error)?.error;
      if (failure) reject(new HarnessError("IMAGE_PROVISION_FAILED", `Labelling ${tag} failed: ${failure}`));
      else resolve();
    });
  });
  const image = await inspectImage(tag);
  if (!image) throw new HarnessError("IMAGE_PROVISION_FAILED", `The engine reported success but ${tag} does not exist`);
  return image.Id;
}
