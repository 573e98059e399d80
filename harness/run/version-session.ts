/**
 * One BuildKit version's part of a run: provision its images, start its environment, run
 * scenarios on it one after another, stop it. A version that cannot be provisioned or
 * started gives its scenarios infrastructure-error results and the run goes on; an
 * environment lost mid-run (engine restarted, network gone) is started again once, and if
 * that fails the scenarios left are not run, each saying why.
 */
import { DOCKERD_PREFIX } from "../builders/builder.ts";
import { BuildkitdBuilder } from "../builders/buildkitd.ts";
import { BuildkitEnvironment, type ProvisionedVersion, provisionVersion } from "../environment/environment.ts";
import { interrupted } from "../interruption.ts";
import { log } from "../log.ts";
import type { VersionRecord } from "../report/model.ts";
import { imageSourceRecord } from "../report/records.ts";
import { type Fault, infrastructureError, notRun, type Verdict } from "../scenario/judge/verdict.ts";
import type { Scenario } from "../scenario/model.ts";
import { faultOf, runScenario, type ScenarioResult } from "../scenario/run/scenario.ts";

/** A result for a scenario that did not run on this version, with why. */
export function unrunResult(scenario: Scenario, version: string, verdict: Verdict): ScenarioResult {
  const kind = version.startsWith(DOCKERD_PREFIX) ? ("dockerd" as const) : ("buildkitd" as const);
  const builder = { kind, id: version, buildkitVersion: kind === "dockerd" ? "(unknown: the engine did not start)" : version, origin: "(not started)" };
  return { scenario, builder, buildkitVersion: version, verdict, attempts: [], wallMs: 0 };
}

const INTERRUPTED: Fault = { code: "INTERRUPTED", message: "the run was interrupted before this scenario" };

export class VersionSession {
  private env: BuildkitEnvironment | undefined;
  /** Set once the environment is lost for good: every later scenario is not run, for this reason. */
  private lost: Fault | undefined;
  private provisioned: ProvisionedVersion | undefined;
  private startFault: Fault | undefined;
  private provisionFault: Fault | undefined;

  constructor(readonly version: string) {}

  /** Provisions and starts; a failure is recorded, not thrown (its scenarios will say so). */
  async open(): Promise<void> {
    await this.provision();
    await this.start();
  }

  /** Pulls or builds the version's images; a failure is recorded, not thrown. */
  async provision(): Promise<void> {
    if (interrupted()) return;
    try {
      this.provisioned = await provisionVersion(this.version);
    } catch (err) {
      if (interrupted()) return;
      this.provisionFault = faultOf(err);
      log("run", `BuildKit ${this.version} could not be provisioned: ${this.provisionFault.message}`);
    }
  }

  /** Starts the environment of a provisioned version; a failure is recorded, not thrown. */
  async start(): Promise<void> {
    if (!this.provisioned || interrupted()) return;
    try {
      this.env = await BuildkitEnvironment.start(this.provisioned);
    } catch (err) {
      if (interrupted()) return;
      this.startFault = faultOf(err);
      log("run", `BuildKit ${this.version}'s environment did not start: ${this.startFault.message}`);
    }
  }

  get record(): VersionRecord {
    const p = this.provisioned;
    const fault = this.provisionFault ?? this.startFault;
    const status = this.provisionFault ? "provision-failed" : this.startFault ? "start-failed" : interrupted() && !this.env ? "interrupted" : "ran";
    return {
      version: this.version,
      ...(p?.judgedAs ? { judgedAs: p.judgedAs } : {}),
      status,
      ...(fault ? { fault: { ...fault } } : {}),
      ...(p
        ? {
            buildkit: imageSourceRecord(p.buildkitImage),
            buildctl: p.buildctl.version,
            registry: imageSourceRecord(p.registryImage),
            privilege: p.privilege,
          }
        : {}),
      ...(this.env
        ? {
            platform: [this.env.daemon.platform.os, this.env.daemon.platform.architecture, this.env.daemon.platform.variant].filter(Boolean).join("/"),
            timings: { provisionMs: this.env.timings.provisionMs, startToReadyMs: this.env.timings.startToReadyMs },
          }
        : {}),
    };
  }

  get engine(): ProvisionedVersion["engine"] | undefined {
    return this.provisioned?.engine;
  }

  async run(scenario: Scenario): Promise<ScenarioResult> {
    if (interrupted()) return unrunResult(scenario, this.version, notRun(INTERRUPTED));
    const cannot = this.provisionFault ?? this.startFault;
    if (cannot) return unrunResult(scenario, this.version, infrastructureError(cannot));
    if (this.lost) return unrunResult(scenario, this.version, notRun(this.lost));
    const result = await runScenario(scenario, new BuildkitdBuilder(this.env!));
    if (result.verdict.kind === "infrastructure-error" && !interrupted()) await this.recoverIfLost();
    return result;
  }

  /** After a fault: can the environment still give a fresh registry and builder? Else start it again, once. */
  private async recoverIfLost(): Promise<void> {
    const env = this.env!;
    try {
      await env.freshRegistry();
      await env.freshBuilder();
      return;
    } catch (err) {
      log("run", `BuildKit ${this.version}'s environment is lost (${(err as Error).message}); starting it again`);
    }
    await env.stop().catch(() => undefined);
    try {
      this.env = await BuildkitEnvironment.start(this.provisioned!);
    } catch (err) {
      const fault = faultOf(err);
      this.lost = { code: fault.code, message: `the environment was lost and could not be started again: ${fault.message}` };
      this.env = undefined;
      log("run", `BuildKit ${this.version}: ${this.lost.message}; its remaining scenarios are not run`);
    }
  }

  async close(): Promise<void> {
    await this.env?.stop();
  }
}
