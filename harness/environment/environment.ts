import type { StartedNetwork } from "testcontainers";
import { interrupted } from "../interruption.ts";
import { log } from "../log.ts";
import type { EngineInfo } from "../provision/engine.ts";
import { provisionEnvironmentImages } from "../provision/environment-host.ts";
import type { ProvisionedImage } from "../provision/image-source.ts";
import { lookupVersion } from "../provision/versions.ts";
import { type BuildctlBinary, buildctlFromImage } from "./buildctl-binary.ts";
import { type StartedBuildkitd, startBuildkitd } from "./buildkitd-container.ts";
import { removeRunOnSignal, sweepOrphans, sweepRun } from "./cleanup.ts";
import { runId } from "./labels.ts";
import { startNetwork } from "./network.ts";
import { detectPrivilegeMode, type PrivilegeMode } from "./privilege.ts";
import { type StartedRegistry, startRegistry } from "./registry-container.ts";

process.env.TESTCONTAINERS_RYUK_DISABLED ??= "true"; // Ryuk's image cannot be pulled offline; cleanup.ts does its job.
// Ports are published on 127.0.0.1 only. Where /.dockerenv exists (a CI sandbox that is
// itself a container) testcontainers would otherwise wait on the bridge gateway's address.
process.env.TESTCONTAINERS_HOST_OVERRIDE ??= "127.0.0.1";

/** What a run used, for reports: which daemon, which registry, how they were made. */
export interface EnvironmentDescription {
  readonly buildkitVersion: string;
  readonly buildkitImage: ProvisionedImage;
  readonly buildctl: BuildctlBinary;
  readonly registryImage: ProvisionedImage;
  readonly privilege: PrivilegeMode;
  readonly engine: EngineInfo;
}

export interface EnvironmentTimings {
  /** From the call to start() until registry and daemon answer (images already provisioned). */
  startToReadyMs: number;
  provisionMs: number;
}

/**
 * One BuildKit version's world: a network, a registry, and a buildkitd that can be
 * replaced by a fresh one (empty state, like a new CI runner) at any time.
 */
export class BuildkitEnvironment implements AsyncDisposable {
  private stopped = false;

  private constructor(
    readonly description: EnvironmentDescription,
    readonly network: StartedNetwork,
    readonly registry: StartedRegistry,
    private current: StartedBuildkitd,
    readonly timings: EnvironmentTimings,
  ) {}

  get daemon(): StartedBuildkitd {
    return this.current;
  }

  static async start(version: string): Promise<BuildkitEnvironment> {
    const entry = lookupVersion(version);
    const provisionStarted = Date.now();
    const { engine, buildkitImage, registryImage } = await provisionEnvironmentImages(entry.version);
    removeRunOnSignal(runId());
    await sweepOrphans();
    const buildctl = await buildctlFromImage(buildkitImage);
    const privilege = await detectPrivilegeMode(buildkitImage.reference, ["/usr/bin/buildctl", "--version"]);
    const provisionMs = Date.now() - provisionStarted;

    const started = Date.now();
    const network = await startNetwork();
    let registry: StartedRegistry | undefined;
    try {
      registry = await startRegistry(registryImage, network);
      const description: EnvironmentDescription = { buildkitVersion: entry.version, buildkitImage, buildctl, registryImage, privilege, engine };
      const daemon = await startBuildkitd({ image: buildkitImage, network, registryHost: registry.hostInNetwork, privilege, buildctl });
      const timings = { startToReadyMs: Date.now() - started, provisionMs };
      log(
        "environment",
        `BuildKit ${entry.version} ready at ${daemon.addr} (${buildkitImage.description}); registry ${registry.urlFromHost} (${registryImage.description}); ${timings.startToReadyMs} ms`,
      );
      return new BuildkitEnvironment(description, network, registry, daemon, timings);
    } catch (err) {
      await registry?.container.stop().catch(() => undefined);
      await network.stop().catch(() => undefined);
      throw err;
    }
  }

  /** Replaces the daemon with a new one whose state is empty; the registry keeps its content. */
  async freshBuilder(): Promise<StartedBuildkitd> {
    await this.current.container.stop();
    const { buildkitImage, privilege, buildctl } = this.description;
    this.current = await startBuildkitd({ image: buildkitImage, network: this.network, registryHost: this.registry.hostInNetwork, privilege, buildctl });
    return this.current;
  }

  async stop(): Promise<void> {
    // After SIGINT/SIGTERM the signal handler is already removing everything of the run.
    if (this.stopped || interrupted()) return;
    this.stopped = true;
    const errors: unknown[] = [];
    for (const step of [() => this.current.container.stop(), () => this.registry.container.stop(), () => this.network.stop()]) {
      await step().catch((err: unknown) => errors.push(err));
    }
    // Whatever a failed stop left (or a helper container of this run) goes too.
    await sweepRun(runId()).catch((err: unknown) => errors.push(err));
    if (errors.length > 0) log("cleanup", `stopping the environment reported: ${errors.map((e) => (e as Error).message).join("; ")}`);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
