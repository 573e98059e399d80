/**
 * One dockerd engine's part of a run (ids "dockerd:<build id>", e.g. dockerd:debian-bookworm):
 * make its image, start an isolated engine with a registry, run scenarios on it one after
 * another, stop it. The dockerd counterpart of VersionSession, with the same promises: an
 * engine that cannot be made or started gives its scenarios infrastructure-error results.
 */
import { DOCKERD_PREFIX } from "../builders/builder.ts";
import { DockerdBuilder, dockerdIdentity } from "../builders/dockerd.ts";
import { DockerdEnvironment } from "../environment/dockerd-environment.ts";
import { interrupted } from "../interruption.ts";
import { log } from "../log.ts";
import { lookupDockerdBuild } from "../provision/dockerd-builds.ts";
import { provisionDockerdImage } from "../provision/dockerd-image.ts";
import type { EngineInfo } from "../provision/engine.ts";
import { provisionRegistryImage } from "../provision/registry-image.ts";
import type { VersionRecord } from "../report/model.ts";
import { imageSourceRecord } from "../report/records.ts";
import { type Fault, infrastructureError, notRun } from "../scenario/judge/verdict.ts";
import type { Scenario } from "../scenario/model.ts";
import { faultOf, runScenario, type ScenarioResult } from "../scenario/run/scenario.ts";
import { unrunResult } from "./version-session.ts";

const INTERRUPTED: Fault = { code: "INTERRUPTED", message: "the run was interrupted before this scenario" };

export class DockerdSession {
  private env: DockerdEnvironment | undefined;
  private provisionFault: Fault | undefined;
  private startFault: Fault | undefined;
  private provisionMs = 0;

  constructor(readonly version: string) {}

  private get buildId(): string {
    return this.version.slice(DOCKERD_PREFIX.length);
  }

  async open(): Promise<void> {
    await this.provision();
    await this.start();
  }

  /** Makes the engine's image (Debian packages, or a Go module compile) and the registry's. */
  async provision(): Promise<void> {
    if (interrupted()) return;
    const started = Date.now();
    try {
      await Promise.all([provisionDockerdImage(lookupDockerdBuild(this.buildId)), provisionRegistryImage()]);
      this.provisionMs = Date.now() - started;
    } catch (err) {
      if (interrupted()) return;
      this.provisionFault = faultOf(err);
      log("run", `dockerd ${this.buildId} could not be made: ${this.provisionFault.message}`);
    }
  }

  async start(): Promise<void> {
    if (this.provisionFault || interrupted()) return;
    try {
      this.env = await DockerdEnvironment.start(this.buildId);
    } catch (err) {
      if (interrupted()) return;
      this.startFault = faultOf(err);
      log("run", `dockerd ${this.buildId} did not start: ${this.startFault.message}`);
    }
  }

  get record(): VersionRecord {
    const env = this.env;
    const fault = this.provisionFault ?? this.startFault;
    const status = this.provisionFault ? "provision-failed" : this.startFault ? "start-failed" : interrupted() && !env ? "interrupted" : "ran";
    return {
      version: this.version,
      status,
      ...(fault ? { fault: { ...fault } } : {}),
      ...(env
        ? {
            builder: { ...dockerdIdentity(env) },
            buildkit: imageSourceRecord(env.description.dockerd.image),
            registry: imageSourceRecord(env.description.registryImage),
            privilege: env.description.privilege,
            timings: { provisionMs: this.provisionMs, startToReadyMs: env.engine.daemon.startToReadyMs },
          }
        : {}),
    };
  }

  get engine(): EngineInfo | undefined {
    return this.env?.description.hostEngine;
  }

  async run(scenario: Scenario): Promise<ScenarioResult> {
    if (interrupted()) return unrunResult(scenario, this.version, notRun(INTERRUPTED));
    const cannot = this.provisionFault ?? this.startFault;
    if (cannot) return unrunResult(scenario, this.version, infrastructureError(cannot));
    if (!this.env) return unrunResult(scenario, this.version, notRun(INTERRUPTED));
    return runScenario(scenario, new DockerdBuilder(this.env));
  }

  async close(): Promise<void> {
    await this.env?.stop();
  }
}
