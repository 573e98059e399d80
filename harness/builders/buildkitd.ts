/**
 * A standalone buildkitd as a builder: builds are `buildctl build` on the host against the
 * daemon's published port, with every host path chosen by the harness (request.ts).
 */
import { Buildctl, type BuildResult } from "../buildkit/buildctl.ts";
import type { BuildkitEnvironment } from "../environment/environment.ts";
import type { StartedRegistry } from "../environment/registry-container.ts";
import { HarnessError } from "../errors.ts";
import type { Platform } from "../oci/types.ts";
import type { BuildStep } from "../scenario/model.ts";
import type { DaemonRecord } from "../scenario/observation.ts";
import { type BuildPaths, planBuild } from "../scenario/run/request.ts";
import type { TemplateContext } from "../scenario/template.ts";
import { timeoutMs } from "../timeouts.ts";
import type { BuilderBuild, BuilderIdentity, MachineDiagnosis, ScenarioBuilder } from "./builder.ts";

export class BuildkitdBuilder implements ScenarioBuilder {
  readonly identity: BuilderIdentity;

  constructor(readonly env: BuildkitEnvironment) {
    const d = env.description;
    this.identity = {
      kind: "buildkitd",
      id: d.buildkitVersion,
      buildkitVersion: d.buildkitVersion,
      ...(d.judgedAs ? { judgedAs: d.judgedAs } : {}),
      origin: d.buildkitImage.description,
    };
  }

  get registry(): StartedRegistry {
    return this.env.registry;
  }

  get platform(): Platform {
    return this.env.daemon.platform;
  }

  private buildctl(): Buildctl {
    const { buildctl } = this.env.description;
    return new Buildctl({ binary: buildctl.path, addr: this.env.daemon.addr, clientVersion: buildctl.version });
  }

  async freshRegistry(): Promise<void> {
    await this.env.freshRegistry();
  }

  async freshBuilder(): Promise<void> {
    await this.env.freshBuilder();
  }

  takeDaemonRecords(): Promise<DaemonRecord[]> {
    return this.env.takeDaemonRecords();
  }

  diagnose(evidence: string | undefined): Promise<MachineDiagnosis> {
    return this.env.diagnose(evidence);
  }

  async build(step: BuildStep, sequence: number, ctx: TemplateContext, paths: BuildPaths, signal: AbortSignal): Promise<BuilderBuild> {
    const plan = await planBuild(step, sequence, ctx, paths);
    let result: BuildResult;
    try {
      result = await this.buildctl().build(plan.request, { progress: "auto", signal, timeoutMs: timeoutMs("build") });
    } catch (err) {
      // buildctl could not reach the daemon: say why, if the machine knows.
      if (err instanceof HarnessError && err.code === "DAEMON_NOT_READY") {
        const diagnosis = await this.env.diagnose(err.message);
        if (diagnosis && "fault" in diagnosis) throw diagnosis.fault;
      }
      throw err;
    }
    const reported = result.metadata["containerimage.digest"];
    return {
      exitCode: result.exitCode,
      ...(result.error ? { error: result.error } : {}),
      steps: result.steps,
      metadata: result.metadata,
      ...(typeof reported === "string" ? { pushedDigest: reported } : {}),
      command: result.command,
      wallMs: result.wallMs,
      warnings: result.buildWarnings,
      outputs: plan.outputs,
    };
  }

  async prune(all: boolean): Promise<void> {
    await this.buildctl().prune({ all });
  }

  // A standalone buildkitd keeps no local images and resolves every image at build time:
  // the state these steps establish on an engine always holds here.
  removeImage(reference: string): Promise<string> {
    return Promise.resolve(`${reference}: a standalone buildkitd has no local image store (nothing to do)`);
  }

  pull(reference: string): Promise<string> {
    return Promise.resolve(`${reference}: a standalone buildkitd has no local image store (nothing to do)`);
  }

  stop(): Promise<void> {
    return this.env.stop();
  }
}
