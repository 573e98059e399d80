import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { dir as tmpDir } from "tmp-promise";
import { Buildctl } from "../buildkit/buildctl.ts";
import type { BuildRequest } from "../buildkit/build-request.ts";
import type { BuildkitEnvironment } from "../environment/environment.ts";
import { HarnessError } from "../errors.ts";
import { interruption } from "../interruption.ts";
import { log } from "../log.ts";
import { INLINE_CACHE_KEY, type InlineCacheConfig, decodeInlineCache, recordsLosingResults, recordsWithChains, recordsWithLayers } from "../oci/inline-cache.ts";
import { RegistryClient } from "../oci/registry-client.ts";
import { buildsSucceeded, evaluate, type AssertionOutcome } from "./assertions.ts";
import type { BuildObservation, EventObservation, InlineCacheObservation } from "./observation.ts";
import { renderTemplate, type TemplateContext } from "./template.ts";
import type { BuildStep, RepeatStep, Scenario, Step, TypedAttrs } from "./types.ts";
import { applies, infrastructureError, judge, notApplicable, type Verdict } from "./verdict.ts";

export interface ScenarioRun {
  readonly scenario: string;
  readonly title: string;
  readonly upstream: readonly string[];
  /** What the scenario declares, so a report can say why a verdict is what it is. */
  readonly expectation: string;
  readonly knownBugs: Scenario["knownBugs"];
  readonly buildkitVersion: string;
  readonly verdict: Verdict;
  readonly outcomes: readonly AssertionOutcome[];
  readonly builds: readonly BuildObservation[];
  readonly events: readonly EventObservation[];
  readonly wallMs: number;
  /** Sum of the wall times of every buildctl invocation (builds, prunes): the rest is harness overhead. */
  readonly buildctlWallMs: number;
}

/** The repository part of an image name like "registry:5000/some/repo:tag" (digest or tag removed). */
function repositoryOf(name: string, registryHost: string): string | undefined {
  if (!name.startsWith(`${registryHost}/`)) return undefined;
  return name.slice(registryHost.length + 1).replace(/@sha256:[0-9a-f]+$/, "").replace(/:[^/:]+$/, "");
}

class ScenarioExecution {
  readonly builds: BuildObservation[] = [];
  readonly events: EventObservation[] = [];
  private buildctlMs = 0;
  private readonly registry: RegistryClient;

  constructor(
    private readonly scenario: Scenario,
    private readonly env: BuildkitEnvironment,
    private readonly images: ReadonlyMap<string, string>,
    private readonly workDir: string,
  ) {
    this.registry = new RegistryClient(env.registry.urlFromHost);
  }

  get buildctlWallMs(): number {
    return this.buildctlMs;
  }

  private buildctl(): Buildctl {
    return new Buildctl({ binary: this.env.description.buildctl.path, addr: this.env.daemon.addr, clientVersion: this.env.description.buildctl.version });
  }

  private template(iteration: number | undefined): TemplateContext {
    return { registry: this.env.registry.hostInNetwork, images: this.images, scenario: this.scenario.id, ...(iteration !== undefined ? { iteration } : {}) };
  }

  outcomes(): AssertionOutcome[] {
    return [buildsSucceeded(this.builds), ...this.scenario.assertions.map((a) => evaluate(a, this.builds))];
  }

  async runSteps(steps: readonly Step[], iteration?: number): Promise<void> {
    for (const step of steps) {
      switch (step.kind) {
        case "build":
          await this.build(step, iteration);
          break;
        case "prune": {
          const started = Date.now();
          await this.buildctl().prune({ all: step.all });
          const wallMs = Date.now() - started;
          this.buildctlMs += wallMs;
          this.events.push({ kind: "prune", afterSequence: this.builds.length, ...(iteration !== undefined ? { iteration } : {}), wallMs });
          break;
        }
        case "fresh-builder": {
          const started = Date.now();
          await this.env.freshBuilder();
          this.events.push({ kind: "fresh-builder", afterSequence: this.builds.length, ...(iteration !== undefined ? { iteration } : {}), wallMs: Date.now() - started });
          break;
        }
        case "repeat":
          await this.repeat(step);
          break;
      }
    }
  }

  private async repeat(step: RepeatStep): Promise<void> {
    for (let i = 1; i <= step.extendTo; i++) {
      await this.runSteps(step.steps, i);
      if (i >= step.times && this.outcomes().some((o) => !o.holds)) break;
    }
  }

  private renderAttrs(spec: TypedAttrs, ctx: TemplateContext): TypedAttrs {
    return { type: spec.type, attrs: Object.fromEntries(Object.entries(spec.attrs).map(([k, v]) => [k, renderTemplate(v, ctx)])) };
  }

  private async build(step: BuildStep, iteration: number | undefined): Promise<void> {
    const ctx = this.template(iteration);
    const sequence = this.builds.length + 1;
    const dockerfileDir = join(this.workDir, `dockerfile-${sequence}`);
    await mkdir(dockerfileDir, { recursive: true });
    await writeFile(join(dockerfileDir, "Dockerfile"), renderTemplate(await readFile(join(this.scenario.dir, step.dockerfile), "utf8"), ctx));
    const output = this.renderAttrs(step.output, ctx);
    const request: BuildRequest = {
      frontend: "dockerfile.v0",
      locals: { context: join(this.scenario.dir, step.context), dockerfile: dockerfileDir },
      frontendOpts: Object.fromEntries(Object.entries(step.frontendOpts).map(([k, v]) => [k, renderTemplate(v, ctx)])),
      buildArgs: Object.fromEntries(Object.entries(step.buildArgs).map(([k, v]) => [k, renderTemplate(v, ctx)])),
      importCache: step.importCache.map((c) => this.renderAttrs(c, ctx)),
      exportCache: step.exportCache.map((c) => this.renderAttrs(c, ctx)),
      outputs: [output],
      noCache: step.noCache,
      metadataFile: join(this.workDir, `metadata-${sequence}.json`),
    };
    const result = await this.buildctl().build(request, { progress: "auto", signal: interruption.signal });
    this.buildctlMs += result.wallMs;
    const imageDigest = typeof result.metadata["containerimage.digest"] === "string" ? result.metadata["containerimage.digest"] : undefined;
    const configDigest = typeof result.metadata["containerimage.config.digest"] === "string" ? result.metadata["containerimage.config.digest"] : undefined;
    let inlineCache: InlineCacheObservation | undefined;
    let config: Record<string, unknown> | undefined;
    const repo = output.attrs.name ? repositoryOf(output.attrs.name, this.env.registry.hostInNetwork) : undefined;
    if (result.exitCode === 0 && imageDigest && repo && output.attrs.push === "true") {
      const previous = this.builds.findLast((b) => b.build === step.name)?.inlineCache?.decoded;
      ({ inlineCache, config } = await this.observeImage(repo, imageDigest, previous));
    }
    const observation: BuildObservation = {
      build: step.name,
      ...(iteration !== undefined ? { iteration } : {}),
      sequence,
      exitCode: result.exitCode,
      ...(result.error ? { error: result.error } : {}),
      wallMs: result.wallMs,
      ...(imageDigest ? { imageDigest } : {}),
      ...(configDigest ? { configDigest } : {}),
      steps: result.steps
        .filter((s) => !s.internal)
        .map((s) => ({ step: s.instruction ?? s.name, cached: s.cached, ...(s.error ? { error: s.error } : {}), ...(s.durationMs !== undefined ? { durationMs: s.durationMs } : {}) })),
      ...(inlineCache ? { inlineCache } : {}),
      ...(config ? { config } : {}),
      command: result.command,
    };
    this.builds.push(observation);
    log(
      this.scenario.id,
      `${step.name}${iteration !== undefined ? ` #${iteration}` : ""}: exit ${result.exitCode}, config ${configDigest?.slice(7, 19) ?? "-"}, ` +
        `${observation.steps.filter((s) => s.cached).length}/${observation.steps.length} steps cached` +
        (inlineCache ? `, inline cache: ${inlineCache.records} records, ${inlineCache.recordsWithChains} with chains${inlineCache.lostSincePreviousRun.length > 0 ? `, ${inlineCache.lostSincePreviousRun.length} lost results` : ""}` : "") +
        `, ${result.wallMs} ms`,
    );
  }

  private async observeImage(
    repo: string,
    imageDigest: string,
    previous: InlineCacheConfig | undefined,
  ): Promise<{ inlineCache?: InlineCacheObservation; config: Record<string, unknown> }> {
    const image = await this.registry.resolveImageManifest(repo, imageDigest);
    const { config } = await this.registry.getConfig(repo, image.manifest);
    const { [INLINE_CACHE_KEY]: _inline, ...rest } = config;
    const cache = decodeInlineCache(config);
    if (!cache) return { config: rest };
    return {
      config: rest,
      inlineCache: {
        records: cache.records.length,
        recordsWithLayers: recordsWithLayers(cache).length,
        recordsWithChains: recordsWithChains(cache).length,
        lostSincePreviousRun: previous ? recordsLosingResults(previous, cache) : [],
        decoded: cache,
      },
    };
  }
}

/**
 * Runs a scenario on a started environment and judges it. Infrastructure failures
 * (daemon died, registry down) become an infrastructure-error verdict, never a verdict
 * about BuildKit.
 */
export async function runScenario(scenario: Scenario, env: BuildkitEnvironment, images: ReadonlyMap<string, string>): Promise<ScenarioRun> {
  const version = env.description.buildkitVersion;
  const base = {
    scenario: scenario.id,
    title: scenario.title,
    upstream: scenario.upstream,
    expectation: scenario.expectation,
    knownBugs: scenario.knownBugs,
    buildkitVersion: version,
  };
  if (!applies(scenario, version)) {
    return { ...base, verdict: notApplicable(scenario, version), outcomes: [], builds: [], events: [], wallMs: 0, buildctlWallMs: 0 };
  }
  const started = Date.now();
  const work = await tmpDir({ unsafeCleanup: true, prefix: `buildkit-repro-${scenario.id}-` });
  const execution = new ScenarioExecution(scenario, env, images, work.path);
  try {
    await env.freshBuilder();
    await execution.runSteps(scenario.steps);
    const outcomes = execution.outcomes();
    return { ...base, verdict: judge(scenario, version, outcomes), outcomes, builds: execution.builds, events: execution.events, wallMs: Date.now() - started, buildctlWallMs: execution.buildctlWallMs };
  } catch (err) {
    // A HarnessError here is the machinery failing (daemon, registry, buildctl); anything else is a harness bug.
    if (!(err instanceof HarnessError)) throw err;
    return {
      ...base,
      verdict: infrastructureError(err.describe()),
      outcomes: [],
      builds: execution.builds,
      events: execution.events,
      wallMs: Date.now() - started,
      buildctlWallMs: execution.buildctlWallMs,
    };
  } finally {
    await work.cleanup();
  }
}
