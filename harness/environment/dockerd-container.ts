/**
 * A Docker engine owned by the harness: dockerd in a container of the environment's
 * network, started like buildkitd (privileged where that works, else every capability
 * but SYS_RESOURCE with the cgroup filesystems remounted read-write), with its own data
 * root on a tmpfs, its own exec root and its own API on a port published on 127.0.0.1.
 * Scenarios prune its builder cache and remove its images; the host engine is never touched.
 */
import Dockerode from "dockerode";
import { type StartedNetwork, type StartedTestContainer, Wait } from "testcontainers";
import { HarnessError } from "../errors.ts";
import { docker } from "../provision/docker-client.ts";
import type { DockerdImage } from "../provision/dockerd-image.ts";
import { REMOUNT_CGROUPS_THEN_EXEC } from "./buildkitd-container.ts";
import { resourceLabels } from "./labels.ts";
import { LoopbackContainer } from "./loopback-container.ts";
import type { PrivilegeMode } from "./privilege.ts";

const PORT = 2375;
export const DOCKERD_DATA_ROOT = "/var/lib/docker";
const EXEC_ROOT = "/var/run/docker";
/** The inner default bridge: RUN steps of builds get an interface on it. Fixed so it never depends on the host's routes. */
const BRIDGE_IP = "10.213.0.1/24";

/**
 * Which image store the engine uses. "default" leaves the engine's own choice (graph
 * drivers up to 28, the containerd store on moby v2 for a new data root), which is what
 * users of that engine get; the other two set the containerd-snapshotter feature.
 */
export type ImageStoreChoice = "default" | "graphdriver" | "containerd";

export interface DockerdOptions {
  readonly image: DockerdImage;
  readonly network: StartedNetwork;
  /** host:port of the test registry in the network; dockerd pushes and pulls it over plain http. */
  readonly registryHost: string;
  readonly privilege: PrivilegeMode;
  readonly imageStore?: ImageStoreChoice;
  /** A tmpfs `size=` for the data root (default 8g). */
  readonly dataRootSize?: string;
}

export interface EngineStorage {
  /** /info Driver: "overlay2", "overlayfs" (a containerd snapshotter), "vfs", ... */
  readonly driver: string;
  /** "graphdriver" or "containerd" (from DriverStatus "driver-type" io.containerd.snapshotter.v1). */
  readonly imageStore: "graphdriver" | "containerd";
}

export interface StartedDockerd {
  readonly container: StartedTestContainer;
  /** http://127.0.0.1:port: the engine API, no TLS, for this host only. */
  readonly url: string;
  readonly client: Dockerode;
  /** What GET /version says. */
  readonly serverVersion: string;
  readonly apiVersion: string;
  readonly storage: EngineStorage;
  readonly startToReadyMs: number;
}

/** dockerd's argv: only flags every engine from 20.10 to moby v2 accepts. */
export function dockerdArgs(opts: { registryHost: string }): string[] {
  const args = [
    "dockerd",
    `--host=tcp://0.0.0.0:${PORT}`,
    // Said explicitly: since 27 an unauthenticated TCP socket without it delays startup by 15 s.
    "--tls=false",
    `--data-root=${DOCKERD_DATA_ROOT}`,
    `--exec-root=${EXEC_ROOT}`,
    "--pidfile=/var/run/docker.pid",
    // With the scheme: every engine strips it (with a warning) for its own pulls and pushes,
    // and 20.10's builder-next url.Parse()s the raw value, so only this form gives its
    // BuildKit plain HTTP (a bare "registry:5000" parses as scheme "registry", host "").
    `--insecure-registry=http://${opts.registryHost}`,
    // No NAT or forwarding rules: builds only reach the registry, which dockerd itself does
    // from the container's network namespace. /proc/sys is read-only without --privileged.
    "--iptables=false",
    "--ip6tables=false",
    "--ip-forward=false",
    "--ip-masq=false",
    // moby v2 refuses the userland proxy without --userland-proxy-path; nothing here publishes ports.
    "--userland-proxy=false",
    `--bip=${BRIDGE_IP}`,
  ];
  return args;
}

/**
 * /etc/docker/daemon.json. The image store is a feature, and only moby v2 has a --feature
 * flag; 26.x reads features from this file alone (20.10 has none for the image store).
 */
export function daemonJson(imageStore: ImageStoreChoice): string {
  const features = imageStore === "default" ? {} : { features: { "containerd-snapshotter": imageStore === "containerd" } };
  return `${JSON.stringify(features)}\n`;
}

/** The image store and driver an engine reports in GET /info. */
export function engineStorage(info: { Driver?: string; DriverStatus?: Array<[string, string]> | null }): EngineStorage {
  const driverType = (info.DriverStatus ?? []).find(([k]) => k === "driver-type")?.[1];
  return { driver: info.Driver ?? "unknown", imageStore: driverType === "io.containerd.snapshotter.v1" ? "containerd" : "graphdriver" };
}

/**
 * `--security-opt systempaths=unconfined`, which the docker CLI turns into empty masked and
 * read-only path lists: /proc/sys becomes writable, as under --privileged. Since 26.x
 * libnetwork writes net.ipv6.conf.eth0.disable_ipv6 in the namespace of each RUN step, and a
 * read-only /proc/sys fails every RUN ("failed to disable IPv6 on container's interface").
 * Writes under /proc/sys/net stay inside the engine container's network namespaces.
 */
class EngineContainer extends LoopbackContainer {
  /** Set once the container exists, so a failed start can still show dockerd's log. */
  createdId: string | undefined;

  protected override async containerCreated(containerId: string): Promise<void> {
    this.createdId = containerId;
  }

  withUnconfinedSystemPaths(): this {
    this.hostConfig.MaskedPaths = [];
    this.hostConfig.ReadonlyPaths = [];
    return this;
  }
}

/** Drivers that copy whole layers instead of overlaying them: slow, and not what users run. */
const REFUSED_DRIVERS = new Set(["vfs", "native"]);

async function containerLogTail(id: string, lines = 15): Promise<string[]> {
  try {
    const buf = (await docker.getContainer(id).logs({ stdout: true, stderr: true, tail: lines })) as unknown as Buffer;
    return demuxedText(buf)
      .split("\n")
      .filter((l) => l.trim() !== "");
  } catch {
    return [];
  }
}

/** The text of a non-TTY log buffer: 8-byte frame headers (stream, 0, 0, 0, size) dropped. */
export function demuxedText(buf: Buffer): string {
  const parts: Buffer[] = [];
  let pos = 0;
  while (pos + 8 <= buf.length && (buf[pos] === 1 || buf[pos] === 2) && buf[pos + 1] === 0) {
    const size = buf.readUInt32BE(pos + 4);
    parts.push(buf.subarray(pos + 8, pos + 8 + size));
    pos += 8 + size;
  }
  return parts.length > 0 ? Buffer.concat(parts).toString("utf8") : buf.toString("utf8");
}

export async function startDockerd(opts: DockerdOptions): Promise<StartedDockerd> {
  const args = dockerdArgs({ registryHost: opts.registryHost });
  let container = new EngineContainer(opts.image.image.reference)
    .withNetwork(opts.network)
    .withLabels(resourceLabels())
    .withCopyContentToContainer([{ content: daemonJson(opts.imageStore ?? "default"), target: "/etc/docker/daemon.json" }])
    .withTmpFs({ [DOCKERD_DATA_ROOT]: `rw,exec,suid,dev,mode=0710,size=${opts.dataRootSize ?? "8g"}` })
    .withExposedPorts(PORT)
    .withWaitStrategy(Wait.forHttp("/_ping", PORT, { abortOnContainerExit: true }).forStatusCode(200))
    .withStartupTimeout(90_000);
  if (opts.privilege === "privileged") {
    container = container.withPrivilegedMode().withEntrypoint(args.slice(0, 1)).withCommand(args.slice(1));
  } else {
    container = container
      .withAddedCapabilities("ALL")
      .withDroppedCapabilities("SYS_RESOURCE")
      .withSecurityOpt("seccomp=unconfined", "apparmor=unconfined")
      .withUnconfinedSystemPaths()
      .withEntrypoint(["/bin/sh", "-c", REMOUNT_CGROUPS_THEN_EXEC, "dockerd-entrypoint"])
      .withCommand(args);
  }
  const started = Date.now();
  let running: StartedTestContainer;
  try {
    running = await container.start();
  } catch (err) {
    const logTail = container.createdId ? await containerLogTail(container.createdId) : [];
    throw new HarnessError(
      "DAEMON_NOT_READY",
      `dockerd (${opts.image.image.description}) did not answer /_ping: ${(err as Error).message}${logTail.length ? `\n  last log lines:\n    ${logTail.join("\n    ")}` : ""}`,
      "Read the log lines above; retry with BUILDKIT_REPRO_PRIVILEGED=0 if --privileged is refused on this host.",
      { cause: err },
    );
  }
  const port = running.getMappedPort(PORT);
  const client = new Dockerode({ host: "127.0.0.1", port, protocol: "http" });
  try {
    const [version, info] = await Promise.all([client.version(), client.info() as Promise<{ Driver?: string; DriverStatus?: Array<[string, string]> }>]);
    const storage = engineStorage(info);
    if (REFUSED_DRIVERS.has(storage.driver)) {
      throw new HarnessError(
        "SNAPSHOTTER_MISMATCH",
        `dockerd (${opts.image.image.description}) uses the "${storage.driver}" storage driver, not an overlay one; builds would differ from what users get.`,
        `Its data root ${DOCKERD_DATA_ROOT} must be on a filesystem overlayfs accepts as upper layer (a tmpfs or a volume, not the container's overlay root).`,
      );
    }
    return {
      container: running,
      url: `http://127.0.0.1:${port}`,
      client,
      serverVersion: version.Version,
      apiVersion: version.ApiVersion,
      storage,
      startToReadyMs: Date.now() - started,
    };
  } catch (err) {
    await running.stop().catch(() => undefined);
    throw err;
  }
}
