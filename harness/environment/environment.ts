import type { StartedNetwork } from "testcontainers";
import type { MachineDiagnosis } from "../builders/builder.ts";
import { Buildctl } from "../buildkit/buildctl.ts";
import { HarnessError } from "../errors.ts";
import { interrupted } from "../interruption.ts";
import { log } from "../log.ts";
import type { EngineInfo } from "../provision/engine.ts";
import { prepareEnvironmentHost } from "../provision/environment-host.ts";
import { type ProvisionedImage, realizeImage } from "../provision/image-source.ts";
import { lookupVersion } from "../provision/versions.ts";
import type { DaemonRecord } from "../scenario/observation.ts";
import { withTimeout } from "../timeouts.ts";
import { type BuildctlBinary, buildctlFromImage } from "./buildctl-binary.ts";
import { type BuildkitdOptions, readyGeneration, type StartedBuildkitd, startBuildkitd } from "./buildkitd-container.ts";
import { environmentGone, environmentStarting, removeRunOnSignal, sweepOrphans } from "./cleanup.ts";
import { containerFate } from "./container-fate.ts";
import { DaemonRecords, type DiagnosisProbe, diagnoseFailure, registryAnswers } from "./diagnosis.ts";
import { askNextGeneration } from "./generations.ts";
import { runId } from "./labels.ts";
import { startNetwork } from "./network.ts";
import { detectPrivilegeMode, type PrivilegeMode } from "./privilege.ts";
import { RegistrySeat, type StartedRegistry } from "./registry-container.ts";
import { containerSpace, describeUse, hostNearlyOutOfSpace, hostSpace } from "./space.ts";

process.env.TESTCONTAINERS_RYUK_DISABLED ??= "true"; // Ryuk's image cannot be pulled offline; cleanup.ts does its job.
// Ports are published on 127.0.0.1 only. Where /.dockerenv exists (a CI sandbox that is
// itself a container) testcontainers would otherwise wait on the bridge gateway's address.
process.env.TESTCONTAINERS_HOST_OVERRIDE ??= "127.0.0.1";

/** What a run used, for reports: which daemon, which registry, how they were made. */
export interface EnvironmentDescription {
  readonly buildkitVersion: string;
  /** For a commit of master: the release its version ranges are judged by. */
  readonly judgedAs?: string;
  readonly buildkitImage: ProvisionedImage;
  readonly buildctl: BuildctlBinary;
  readonly registryImage: ProvisionedImage;
  readonly privilege: PrivilegeMode;
  readonly engine: EngineInfo;
}

export interface EnvironmentTimings {
  /** From the call to start() until registry and daemon answer (images already provisioned). */
  readonly startToReadyMs: number;
  readonly provisionMs: number;
}

/** The images and client one version needs, provisioned (pulled or built) before anything starts. */
export interface ProvisionedVersion {
  readonly version: string;
  readonly judgedAs?: string;
  readonly buildkitImage: ProvisionedImage;
  readonly registryImage: ProvisionedImage;
  readonly buildctl: BuildctlBinary;
  readonly privilege: PrivilegeMode;
  readonly engine: EngineInfo;
  readonly provisionMs: number;
}

/** Provisions one version's images; bounded in time (a cold BuildKit compile included). */
export async function provisionVersion(version: string): Promise<ProvisionedVersion> {
  const entry = lookupVersion(version);
  const started = Date.now();
  // The engine and every Debian package the builds below need, installed before any starts
  // (bounded by apt's own lock wait, not by the provision timeout).
  const { engine, buildkit, registry } = await prepareEnvironmentHost(entry.version);
  removeRunOnSignal(runId());
  await sweepOrphans();
  return withTimeout(
    "provision",
    `Provisioning BuildKit ${entry.version}`,
    (async () => {
      const [buildkitImage, registryImage] = await Promise.all([realizeImage(buildkit), realizeImage(registry)]);
      const buildctl = await buildctlFromImage(buildkitImage);
      const privilege = await detectPrivilegeMode(buildkitImage.reference, ["/usr/bin/buildctl", "--version"]);
      return {
        version: entry.version,
        ...(entry.judgedAs ? { judgedAs: entry.judgedAs } : {}),
        buildkitImage,
        registryImage,
        buildctl,
        privilege,
        engine,
        provisionMs: Date.now() - started,
      };
    })(),
  );
}

/**
 * One BuildKit version's world: a network, a registry, and a buildkitd. Each can be
 * replaced by an empty one at any time (a fresh builder is a new CI runner; a fresh
 * registry isolates a scenario from the ones before it). Daemons it retires are kept as
 * records (their log and how they ended), so a crash is evidence.
 */
export class BuildkitEnvironment {
  private stopped = false;
  private readonly daemons = new DaemonRecords();

  private constructor(
    readonly description: EnvironmentDescription,
    readonly network: StartedNetwork,
    private readonly registrySeat: RegistrySeat,
    private readonly daemonOptions: BuildkitdOptions,
    private current: StartedBuildkitd,
    readonly timings: EnvironmentTimings,
  ) {}

  get daemon(): StartedBuildkitd {
    return this.current;
  }

  get registry(): StartedRegistry {
    return this.registrySeat.current;
  }

  static async start(provisioned: ProvisionedVersion): Promise<BuildkitEnvironment> {
    const { version, judgedAs, buildkitImage, registryImage, buildctl, privilege, engine } = provisioned;
    const started = Date.now();
    // Counted from the first container on: another environment stopping meanwhile must not sweep it.
    environmentStarting();
    const network = await startNetwork().catch(async (err: unknown) => {
      await environmentGone(runId()).catch(() => undefined);
      throw err;
    });
    let registry: RegistrySeat | undefined;
    let daemon: StartedBuildkitd | undefined;
    try {
      return await withTimeout(
        "environmentStart",
        `Starting the environment of BuildKit ${version}`,
        (async () => {
          registry = await RegistrySeat.open(registryImage, network);
          const description: EnvironmentDescription = {
            buildkitVersion: version,
            ...(judgedAs ? { judgedAs } : {}),
            buildkitImage,
            buildctl,
            registryImage,
            privilege,
            engine,
          };
          const options = { image: buildkitImage, network, registryHost: registry.current.hostInNetwork, privilege, buildctl, version };
          daemon = await startBuildkitd(options);
          const timings = { startToReadyMs: Date.now() - started, provisionMs: provisioned.provisionMs };
          log(
            "environment",
            `BuildKit ${version} ready at ${daemon.addr} (${buildkitImage.description}); registry ${registry.current.urlFromHost} (${registryImage.description}); ${timings.startToReadyMs} ms`,
          );
          return new BuildkitEnvironment(description, network, registry, options, daemon, timings);
        })(),
      );
    } catch (err) {
      await daemon?.container.stop({ timeout: 0 }).catch(() => undefined);
      await registry?.close().catch(() => undefined);
      await network.stop().catch(() => undefined);
      await environmentGone(runId()).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Replaces the daemon with one whose state is empty: the next buildkitd of the same
   * container, or a new container when the current one is gone. The registry keeps its
   * content.
   */
  async freshBuilder(): Promise<StartedBuildkitd> {
    const old = this.current;
    await this.daemons.retire(old.container.getId(), old.generation);
    this.current = await withTimeout("environmentStart", "Starting a fresh buildkitd", this.nextDaemon(old));
    return this.current;
  }

  private async nextDaemon(old: StartedBuildkitd): Promise<StartedBuildkitd> {
    if (!(await containerFate(old.container.getId())).running) {
      await old.container.stop({ timeout: 0 }).catch(() => undefined);
      return startBuildkitd(this.daemonOptions);
    }
    const started = Date.now();
    const generation = await askNextGeneration(old.container.getId(), old.generation);
    // From here the container runs that generation, answering or not: its log and a crash are its own.
    this.current = { ...old, generation };
    return readyGeneration(this.daemonOptions, old.container, old.addr, generation, old.workerId, started);
  }

  /** Replaces the registry with a fresh one (only the base images) under the same name, so builders need no change. */
  freshRegistry(): Promise<StartedRegistry> {
    return this.registrySeat.fresh();
  }

  /** The daemons retired since the last call, and the current one's log so far. */
  async takeDaemonRecords(): Promise<DaemonRecord[]> {
    return this.daemons.take(this.current.container.getId(), this.current.generation);
  }

  /**
   * After a failed build: was it the machine? A daemon that exited on its own crashed (a
   * finding); one killed, a registry gone, or a nearly full filesystem is a fault.
   */
  diagnose(evidence: string | undefined): Promise<MachineDiagnosis> {
    return diagnoseFailure(this.probe(), evidence);
  }

  private probe(): DiagnosisProbe {
    const { buildctl } = this.description;
    const daemon = this.current;
    return {
      daemonName: "buildkitd",
      daemonContainerId: daemon.container.getId(),
      daemonGeneration: daemon.generation,
      daemonAnswers: () =>
        new Buildctl({ binary: buildctl.path, addr: daemon.addr, clientVersion: buildctl.version }).debugWorkers({ timeoutMs: 5_000 }).then(
          () => true,
          () => false,
        ),
      registryUrl: this.registry.urlFromHost,
      spaces: async () => [
        await containerSpace(daemon.container, "/var/lib/buildkit", "the daemon's state"),
        await containerSpace(this.registry.container, "/var/lib/registry", "the registry's storage"),
      ],
      spaceHint: "Free space on the host, or raise BUILDKIT_REPRO_DAEMON_STATE_SIZE (the daemon's state is capped, default 4g) / BUILDKIT_REPRO_REGISTRY_SIZE.",
    };
  }

  /** Before a scenario: the daemon and registry answer and have room; else the fault. */
  async healthProblem(): Promise<HarnessError | undefined> {
    const fate = await containerFate(this.current.container.getId());
    if (!fate.running) return new HarnessError("DAEMON_LOST", "buildkitd is no longer running.", "It will be replaced by a fresh one for the next scenario.");
    if (!(await registryAnswers(this.registry.urlFromHost)))
      return new HarnessError("REGISTRY_LOST", "The test registry does not answer.", "It will be replaced by a fresh one.");
    const host = hostSpace();
    if (hostNearlyOutOfSpace(host)) return new HarnessError("OUT_OF_SPACE", `${describeUse(host)}.`, "Free space on the host.");
    return undefined;
  }

  async stop(): Promise<void> {
    // After SIGINT/SIGTERM the signal handler is already removing everything of the run.
    if (this.stopped || interrupted()) return;
    this.stopped = true;
    const errors: unknown[] = [];
    for (const step of [() => this.current.container.stop({ timeout: 0 }), () => this.registrySeat.close(), () => this.network.stop()]) {
      await step().catch((err: unknown) => errors.push(err));
    }
    // Whatever a failed stop left (or a helper container of this run) goes too, once no
    // other environment of the run is up.
    await environmentGone(runId()).catch((err: unknown) => errors.push(err));
    if (errors.length > 0) log("cleanup", `stopping the environment reported: ${errors.map((e) => (e as Error).message).join("; ")}`);
  }
}
