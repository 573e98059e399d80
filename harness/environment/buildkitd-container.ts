import { type StartedNetwork, type StartedTestContainer, Wait } from "testcontainers";
import { Buildctl } from "../buildkit/buildctl.ts";
import { type WorkerInfo, workerSnapshotter } from "../buildkit/workers.ts";
import { HarnessError } from "../errors.ts";
import type { Platform } from "../oci/types.ts";
import type { ProvisionedImage } from "../provision/image-source.ts";
import type { BuildctlBinary } from "./buildctl-binary.ts";
import { type GenerationsSpec, superviseGenerations, untilAnswered } from "./generations.ts";
import { resourceLabels } from "./labels.ts";
import { LoopbackContainer } from "./loopback-container.ts";
import type { PrivilegeMode } from "./privilege.ts";

const PORT = 1234;

/** Each buildkitd of the container keeps its state in /var/lib/buildkit/<generation>. */
export const BUILDKITD_GENERATIONS: GenerationsSpec = { service: "buildkitd", root: "/var/lib/buildkit", stateDir: { flag: "--root" } };

/**
 * Docker mounts the cgroup filesystems read-only in an unprivileged container, and then
 * every RUN fails with "mkdir /sys/fs/cgroup/cpuset/buildkit: read-only file system".
 * A bind remount makes them writable (a plain `remount,rw` gives EBUSY).
 */
const REMOUNT_CGROUPS = `
while read -r _ mountpoint fstype options _; do
  case "$fstype" in cgroup|cgroup2)
    case ",$options," in *,ro,*) mount -o remount,bind,rw "$mountpoint" || exit 1 ;; esac ;;
  esac
done < /proc/mounts
`;

export const REMOUNT_CGROUPS_THEN_EXEC = `${REMOUNT_CGROUPS}exec "$@"
`;

function buildkitdConfig(registryHost: string): string {
  return `# Written by buildkit-repro: overlayfs state, no GC during a scenario, the test registry over plain http.
[worker.oci]
  enabled = true
  snapshotter = "overlayfs"
  gc = false
[worker.containerd]
  enabled = false
[registry."${registryHost}"]
  http = true
  insecure = true
`;
}

export interface StartedBuildkitd {
  readonly container: StartedTestContainer;
  /** tcp://127.0.0.1:port for a buildctl on the host. */
  readonly addr: string;
  /** Which buildkitd process of the container this is, from 1 (generations.ts). */
  readonly generation: number;
  /** The worker's ID: a new one for every empty state, so it proves the state is fresh. */
  readonly workerId: string;
  readonly snapshotter: string;
  /** The worker's default platform, e.g. linux/amd64: images are read for it. */
  readonly platform: Platform;
  /** From container start (or the renewal signal) to the first answered gRPC call. */
  readonly startToReadyMs: number;
}

export interface BuildkitdOptions {
  readonly image: ProvisionedImage;
  readonly network: StartedNetwork;
  readonly registryHost: string;
  readonly privilege: PrivilegeMode;
  /** A buildctl on the host, used to prove the daemon answers gRPC. */
  readonly buildctl: BuildctlBinary;
  /** The BuildKit version the daemon must report (the one that was asked for). */
  readonly version: string;
}

/** Size cap of the daemon's state tmpfs: a runaway build fills it, not the host's memory. */
function stateSize(): string {
  return process.env.BUILDKIT_REPRO_DAEMON_STATE_SIZE ?? "4g";
}

/**
 * Starts a buildkitd container with empty state: the state directory is a tmpfs (overlayfs
 * cannot sit on the container's own overlay root, and buildkitd would silently fall back to
 * the `native` snapshotter, which changes digests). A fresh builder is its next generation (askNextGeneration, then readyGeneration).
 */
export async function startBuildkitd(opts: BuildkitdOptions): Promise<StartedBuildkitd> {
  const daemonArgs = ["buildkitd", "--addr", `tcp://0.0.0.0:${PORT}`, "--config", "/etc/buildkit/buildkitd.toml"];
  // Unprivileged, the cgroup filesystems are made writable first, by the same shell.
  const supervise = superviseGenerations(BUILDKITD_GENERATIONS);
  const script = opts.privilege === "privileged" ? supervise : `${REMOUNT_CGROUPS}${supervise}`;
  let container = new LoopbackContainer(opts.image.reference)
    .withNetwork(opts.network)
    .withLabels(resourceLabels())
    .withCopyContentToContainer([{ content: buildkitdConfig(opts.registryHost), target: "/etc/buildkit/buildkitd.toml" }])
    .withTmpFs({ [BUILDKITD_GENERATIONS.root]: `rw,exec,suid,dev,mode=0700,size=${stateSize()}` })
    .withExposedPorts(PORT)
    .withEntrypoint(["/bin/sh", "-c", script, "buildkitd-generations"])
    .withCommand(daemonArgs)
    .withWaitStrategy(Wait.forLogMessage(/running server on/))
    .withStartupTimeout(30_000);
  container =
    opts.privilege === "privileged"
      ? container.withPrivilegedMode()
      : container.withAddedCapabilities("ALL").withDroppedCapabilities("SYS_RESOURCE").withSecurityOpt("seccomp=unconfined", "apparmor=unconfined");
  const started = Date.now();
  let running: StartedTestContainer;
  try {
    running = await container.start();
  } catch (err) {
    throw new HarnessError(
      "DAEMON_NOT_READY",
      `buildkitd (${opts.image.description}) did not start: ${(err as Error).message}`,
      "Run `docker logs` on the container if it still exists, or retry with BUILDKIT_REPRO_PRIVILEGED=0.",
      { cause: err },
    );
  }
  const addr = `tcp://127.0.0.1:${running.getMappedPort(PORT)}`;
  try {
    return await readyGeneration(opts, running, addr, 1, undefined, started);
  } catch (err) {
    await running.stop().catch(() => undefined);
    throw err;
  }
}

/** `generation` once a worker answers whose ID differs from `previousWorkerId` (a fresh state), checked like a new daemon. */
export async function readyGeneration(
  opts: BuildkitdOptions,
  container: StartedTestContainer,
  addr: string,
  generation: number,
  previousWorkerId: string | undefined,
  started: number,
): Promise<StartedBuildkitd> {
  const worker = await waitForWorker(opts.buildctl, addr, (w) => w.id !== previousWorkerId);
  const snapshotter = workerSnapshotter(worker) ?? "unknown";
  const reported = worker.buildkitVersion?.version;
  if (reported !== opts.version) {
    throw new HarnessError(
      "VERSION_MISMATCH",
      `buildkitd from ${opts.image.description} reports BuildKit ${reported ?? "(no version)"}, not the ${opts.version} that was asked for.`,
      "The image is not what its tag says: remove it (docker rmi) so the harness provisions it again.",
    );
  }
  if (snapshotter !== "overlayfs") {
    throw new HarnessError(
      "SNAPSHOTTER_MISMATCH",
      `buildkitd at ${addr} uses the "${snapshotter}" snapshotter, not overlayfs; digests would differ from what scenarios expect.`,
      `Its state directory ${BUILDKITD_GENERATIONS.root} must be on a filesystem that supports overlayfs (a tmpfs or volume, not the container's overlay root).`,
    );
  }
  const [os = "linux", architecture = "amd64", variant] = (worker.platforms[0] ?? "linux/amd64").split("/");
  const platform: Platform = { os, architecture, ...(variant ? { variant } : {}) };
  return { container, addr, generation, workerId: worker.id, snapshotter, platform, startToReadyMs: Date.now() - started };
}

/** Polls `buildctl debug workers` until gRPC answers with a worker `wanted` accepts; returns it. */
function waitForWorker(buildctl: BuildctlBinary, addr: string, wanted: (worker: WorkerInfo) => boolean, timeoutMs = 15_000): Promise<WorkerInfo> {
  const client = new Buildctl({ binary: buildctl.path, addr, clientVersion: buildctl.version });
  return untilAnswered<WorkerInfo>(
    async () => {
      const [worker] = await client.debugWorkers();
      if (worker && wanted(worker)) return { answered: worker };
      return { notYet: worker ? "the previous buildkitd still answers" : "the daemon lists no worker" };
    },
    timeoutMs,
    (last) =>
      new HarnessError(
        "DAEMON_NOT_READY",
        `buildkitd at ${addr} did not answer gRPC within ${timeoutMs / 1000} s: ${last}`,
        "Check the container's logs for why buildkitd is not serving.",
      ),
  );
}
