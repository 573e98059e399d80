/**
 * One dockerd build's world: a network, a registry, and an isolated engine that can be
 * replaced by a fresh one (empty data root: no images, no builder cache). The dockerd
 * counterpart of BuildkitEnvironment; every resource carries the run's labels, so the
 * sweeps of cleanup.ts remove it after a crash too.
 */
import type { StartedNetwork } from "testcontainers";
import type { MachineDiagnosis } from "../builders/builder.ts";
import { EngineBuilder } from "../dockerd/engine-builder.ts";
import { interrupted } from "../interruption.ts";
import { log } from "../log.ts";
import { lookupDockerdBuild } from "../provision/dockerd-builds.ts";
import { type DockerdImage, provisionDockerdImage } from "../provision/dockerd-image.ts";
import { type EngineInfo, ensureEngine } from "../provision/engine.ts";
import type { ProvisionedImage } from "../provision/image-source.ts";
import { provisionRegistryImage } from "../provision/registry-image.ts";
import type { DaemonRecord } from "../scenario/observation.ts";
import { withTimeout } from "../timeouts.ts";
import { environmentGone, environmentStarting, removeRunOnSignal, sweepOrphans } from "./cleanup.ts";
import { DaemonRecords, diagnoseFailure } from "./diagnosis.ts";
import { DOCKERD_DATA_ROOT, type ImageStoreChoice, type StartedDockerd, startDockerd } from "./dockerd-container.ts";
import { runId } from "./labels.ts";
import { startNetwork } from "./network.ts";
import { detectPrivilegeMode, type PrivilegeMode } from "./privilege.ts";
import { RegistrySeat, type StartedRegistry } from "./registry-container.ts";
import { containerSpace } from "./space.ts";

process.env.TESTCONTAINERS_RYUK_DISABLED ??= "true"; // as in environment.ts: cleanup.ts does Ryuk's job
process.env.TESTCONTAINERS_HOST_OVERRIDE ??= "127.0.0.1";

/** What a run used, for reports: which engine (and its embedded BuildKit), which registry. */
export interface DockerdEnvironmentDescription {
  readonly dockerd: DockerdImage;
  readonly imageStore: ImageStoreChoice;
  readonly registryImage: ProvisionedImage;
  readonly privilege: PrivilegeMode;
  /** The host engine the containers run on (never the one builds go to). */
  readonly hostEngine: EngineInfo;
}

export interface StartedEngine {
  readonly daemon: StartedDockerd;
  readonly builder: EngineBuilder;
}

export class DockerdEnvironment implements AsyncDisposable {
  private stopped = false;
  private readonly engines = new DaemonRecords();

  private constructor(
    readonly description: DockerdEnvironmentDescription,
    readonly network: StartedNetwork,
    private readonly registrySeat: RegistrySeat,
    private current: StartedEngine,
  ) {}

  get engine(): StartedEngine {
    return this.current;
  }

  get registry(): StartedRegistry {
    return this.registrySeat.current;
  }

  /** Replaces the registry with a fresh one (only the base images) under the same name, which the engine already trusts. */
  freshRegistry(): Promise<StartedRegistry> {
    return this.registrySeat.fresh();
  }

  /** The engines replaced since the last call, and the current one's log so far. */
  async takeDaemonRecords(): Promise<DaemonRecord[]> {
    return this.engines.take(this.current.daemon.container.getId());
  }

  /** After a failed build: did the engine die (a crash, a finding), or was it the machine (a fault)? */
  diagnose(evidence: string | undefined): Promise<MachineDiagnosis> {
    const { daemon } = this.current;
    return diagnoseFailure(
      {
        daemonName: "the dockerd engine",
        daemonContainerId: daemon.container.getId(),
        daemonAnswers: () =>
          Promise.race([daemon.client.version().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5_000).unref())]).catch(() => false),
        registryUrl: this.registry.urlFromHost,
        spaces: async () => [
          await containerSpace(daemon.container, DOCKERD_DATA_ROOT, "the engine's data root"),
          await containerSpace(this.registry.container, "/var/lib/registry", "the registry's storage"),
        ],
        spaceHint: "Free space on the host; the engine's data root is a capped tmpfs.",
      },
      evidence,
    );
  }

  static async start(buildId: string, opts: { imageStore?: ImageStoreChoice } = {}): Promise<DockerdEnvironment> {
    const build = lookupDockerdBuild(buildId);
    const hostEngine = await ensureEngine();
    removeRunOnSignal(runId());
    await sweepOrphans();
    const [dockerd, registryImage] = await Promise.all([provisionDockerdImage(build), provisionRegistryImage()]);
    const privilege = await detectPrivilegeMode(dockerd.image.reference, ["dockerd", "--version"]);
    const description: DockerdEnvironmentDescription = { dockerd, imageStore: opts.imageStore ?? "default", registryImage, privilege, hostEngine };
    environmentStarting();
    const network = await startNetwork().catch(async (err: unknown) => {
      await environmentGone(runId()).catch(() => undefined);
      throw err;
    });
    let registry: RegistrySeat | undefined;
    try {
      registry = await RegistrySeat.open(registryImage, network);
      const engine = await startEngine(description, network, registry.current);
      log(
        "environment",
        `${dockerd.image.description} ready at ${engine.daemon.url} (${engine.daemon.storage.imageStore} image store, ${engine.daemon.storage.driver}); registry ${registry.current.urlFromHost}; ${engine.daemon.startToReadyMs} ms`,
      );
      return new DockerdEnvironment(description, network, registry, engine);
    } catch (err) {
      await registry?.close().catch(() => undefined);
      await network.stop().catch(() => undefined);
      await environmentGone(runId()).catch(() => undefined);
      throw err;
    }
  }

  /** Replaces the engine with one whose data root is empty; the registry keeps its content. */
  async freshEngine(): Promise<StartedEngine> {
    await this.engines.retire(this.current.daemon.container.getId());
    await this.current.daemon.container.stop();
    this.current = await withTimeout("environmentStart", "Starting a fresh dockerd", startEngine(this.description, this.network, this.registry));
    return this.current;
  }

  async stop(): Promise<void> {
    if (this.stopped || interrupted()) return;
    this.stopped = true;
    const errors: unknown[] = [];
    for (const step of [() => this.current.daemon.container.stop(), () => this.registrySeat.close(), () => this.network.stop()]) {
      await step().catch((err: unknown) => errors.push(err));
    }
    await environmentGone(runId()).catch((err: unknown) => errors.push(err));
    if (errors.length > 0) log("cleanup", `stopping the dockerd environment reported: ${errors.map((e) => (e as Error).message).join("; ")}`);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

async function startEngine(d: DockerdEnvironmentDescription, network: StartedNetwork, registry: StartedRegistry): Promise<StartedEngine> {
  const daemon = await startDockerd({ image: d.dockerd, network, registryHost: registry.hostInNetwork, privilege: d.privilege, imageStore: d.imageStore });
  return { daemon, builder: new EngineBuilder(daemon.client, `dockerd ${daemon.serverVersion} at ${daemon.url}`) };
}
