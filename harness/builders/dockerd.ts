/**
 * A dockerd engine as a builder: its embedded BuildKit builds through the engine API the
 * way `docker build -f <Dockerfile> --cache-from … --build-arg BUILDKIT_INLINE_CACHE=1 -t
 * <name> <context>` does, then `docker push` sends the image to the test registry, where
 * it is read exactly like a standalone buildkitd's. Prune, rmi and pull are the engine's.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { dockerBuildCommand, type EngineBuildRequest } from "../dockerd/build-request.ts";
import type { DockerdEnvironment } from "../environment/dockerd-environment.ts";
import type { StartedRegistry } from "../environment/registry-container.ts";
import { HarnessError } from "../errors.ts";
import type { Platform } from "../oci/types.ts";
import { dockerdBuildProblems } from "../scenario/format/dockerd-builds.ts";
import type { BuildStep } from "../scenario/model.ts";
import type { DaemonRecord } from "../scenario/observation.ts";
import { type BuildPaths, checkDockerfile, inTestRegistry, type PlannedOutput } from "../scenario/run/request.ts";
import { renderTemplate, type TemplateContext } from "../scenario/template.ts";
import { timeoutMs } from "../timeouts.ts";
import { type BuilderBuild, type BuilderIdentity, DOCKERD_PREFIX, type MachineDiagnosis, type ScenarioBuilder } from "./builder.ts";

/**
 * The name the Dockerfile travels under in the context tar. The docker CLI does the same
 * for a Dockerfile outside the context (with a random suffix) and lists it, with
 * .dockerignore itself, in the context's .dockerignore.
 */
export const CONTEXT_DOCKERFILE = ".dockerfile.buildkit-repro";

const GO_ARCH: Readonly<Record<string, string>> = { x64: "amd64", arm64: "arm64", arm: "arm", ppc64: "ppc64le", s390x: "s390x" };

export function dockerdIdentity(env: DockerdEnvironment): BuilderIdentity {
  const d = env.description.dockerd;
  return {
    kind: "dockerd",
    id: `${DOCKERD_PREFIX}${d.build.id}`,
    buildkitVersion: d.buildkit.version,
    engineVersion: d.dockerdVersion,
    origin: `${d.origin}; embedded BuildKit ${d.buildkit.version} (${d.buildkit.evidence})`,
  };
}

/** The engine request for a build step; the loader already refused what docker build cannot say. */
export async function engineBuildRequest(
  step: BuildStep,
  ctx: TemplateContext,
  paths: BuildPaths,
): Promise<{ request: EngineBuildRequest; output: PlannedOutput }> {
  const problems = dockerdBuildProblems(step);
  if (problems.length > 0) {
    throw new HarnessError("SCENARIO_INVALID", `build "${step.name}" cannot run on dockerd: ${problems.map((p) => `${p.field}: ${p.message}`).join("; ")}`);
  }
  const out = step.outputs[0]!;
  if (out.type !== "image") throw new HarnessError("HARNESS_BUG", `build "${step.name}": dockerdBuildProblems let a ${out.type} output through`);
  const name = inTestRegistry(renderTemplate(out.name, ctx), ctx, "output name");
  const render = (v: string) => renderTemplate(v, ctx);
  const cacheFrom = step.importCache.flatMap((c) => (c.type === "registry" ? [inTestRegistry(render(c.ref), ctx, "import cache")] : []));
  const buildArgs = Object.fromEntries(Object.entries(step.buildArgs).map(([k, v]) => [k, render(v)]));
  if (step.exportCache.some((c) => c.type === "inline")) buildArgs.BUILDKIT_INLINE_CACHE = "1";
  const target = step.frontendOpts.target;
  const dockerfileContent = render(await readFile(join(paths.folder, step.dockerfile), "utf8"));
  checkDockerfile(dockerfileContent, step, ctx);
  const request: EngineBuildRequest = {
    contextDir: join(paths.folder, step.context),
    dockerfile: CONTEXT_DOCKERFILE,
    dockerfileContent,
    tags: [name],
    buildArgs,
    cacheFrom,
    ...(target !== undefined ? { target: render(target) } : {}),
    noCache: step.noCache,
  };
  return { request, output: { index: 0, type: "image", name, push: true, tarball: false } };
}

export class DockerdBuilder implements ScenarioBuilder {
  readonly identity: BuilderIdentity;
  // The engine runs in a container on this host: it builds for the host's architecture.
  readonly platform: Platform = { os: "linux", architecture: GO_ARCH[process.arch] ?? process.arch };

  constructor(readonly env: DockerdEnvironment) {
    this.identity = dockerdIdentity(env);
  }

  get registry(): StartedRegistry {
    return this.env.registry;
  }

  async freshRegistry(): Promise<void> {
    await this.env.freshRegistry();
  }

  async freshBuilder(): Promise<void> {
    await this.env.freshEngine();
  }

  takeDaemonRecords(): Promise<DaemonRecord[]> {
    return this.env.takeDaemonRecords();
  }

  diagnose(evidence: string | undefined): Promise<MachineDiagnosis> {
    return this.env.diagnose(evidence);
  }

  async build(step: BuildStep, _sequence: number, ctx: TemplateContext, paths: BuildPaths, signal: AbortSignal): Promise<BuilderBuild> {
    const { request, output } = await engineBuildRequest(step, ctx, paths);
    const { builder } = this.env.engine;
    const built = await builder.build(request, { timeoutMs: timeoutMs("build"), signal });
    // As a person would type it: -f names the scenario's Dockerfile (its {{…}} resolved in the request).
    const command = dockerBuildCommand({ ...request, dockerfile: join(paths.folder, step.dockerfile) });
    const failed = built.error !== undefined || built.imageId === undefined;
    if (failed) {
      return {
        exitCode: 1,
        error: built.error ?? "the engine reported no image for the build",
        steps: built.steps,
        metadata: {},
        command,
        wallMs: built.wallMs,
        warnings: built.buildWarnings,
        outputs: [output],
      };
    }
    const pushed = await builder.push(output.name!, timeoutMs("build"));
    return {
      exitCode: pushed.error === undefined ? 0 : 1,
      ...(pushed.error !== undefined ? { error: `docker push ${output.name}: ${pushed.error}` } : {}),
      steps: built.steps,
      metadata: { "moby.image.id": built.imageId },
      ...(pushed.digest !== undefined ? { pushedDigest: pushed.digest } : {}),
      command: [...command, "&&", "docker", "push", output.name!],
      wallMs: built.wallMs,
      warnings: built.buildWarnings,
      outputs: [output],
    };
  }

  async prune(all: boolean): Promise<void> {
    await this.env.engine.builder.pruneBuilderCache({ all });
  }

  async removeImage(reference: string): Promise<string> {
    const removed = await this.env.engine.builder.removeImage(reference, { force: true });
    return removed ? `docker rmi --force ${reference}: removed` : `docker rmi --force ${reference}: the engine had no such image`;
  }

  async pull(reference: string): Promise<string> {
    const pulled = await this.env.engine.builder.pull(reference, timeoutMs("build"));
    if (pulled.error !== undefined) throw new HarnessError("REGISTRY_ERROR", `docker pull ${reference} failed: ${pulled.error}`);
    return `docker pull ${reference}: done`;
  }

  stop(): Promise<void> {
    return this.env.stop();
  }
}
