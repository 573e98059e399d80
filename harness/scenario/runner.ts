import { appendFile, chmod, copyFile, cp, mkdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import semver from "semver";
import { dir as tmpDir } from "tmp-promise";
import type { BuildRequest } from "../buildkit/build-request.ts";
import { Buildctl } from "../buildkit/buildctl.ts";
import type { BuildkitEnvironment } from "../environment/environment.ts";
import { HarnessError } from "../errors.ts";
import { interruption } from "../interruption.ts";
import { log } from "../log.ts";
import {
  decodeInlineCache,
  INLINE_CACHE_KEY,
  type InlineCacheConfig,
  recordsLosingResults,
  recordsWithChains,
  recordsWithLayers,
} from "../oci/inline-cache.ts";
import { listLayerEntries } from "../oci/layer-entries.ts";
import { RegistryClient } from "../oci/registry-client.ts";
import { type AssertionOutcome, buildsSucceeded, evaluate, type ListedLayer } from "./assertions.ts";
import type { BuildObservation, EventObservation, InlineCacheObservation } from "./observation.ts";
import { renderTemplate, type TemplateContext } from "./template.ts";
import { type BuildStep, type EditStep, LAYER_ASSERTIONS, type RepeatStep, type Scenario, type Step, type TypedAttrs } from "./types.ts";
import { applies, declaredBug, infrastructureError, judgeAttempts, notApplicable, type Verdict } from "./verdict.ts";

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
  /** Assertions not evaluated on this version (their `versions` range excludes it). */
  readonly skippedAssertions: number;
  readonly builds: readonly BuildObservation[];
  readonly events: readonly EventObservation[];
  readonly wallMs: number;
  /** Sum of the wall times of every buildctl invocation (builds, prunes): the rest is harness overhead. */
  readonly buildctlWallMs: number;
}

/** The repository part of an image name like "registry:5000/some/repo:tag" (digest or tag removed). */
function repositoryOf(name: string, registryHost: string): string | undefined {
  if (!name.startsWith(`${registryHost}/`)) return undefined;
  return name
    .slice(registryHost.length + 1)
    .replace(/@sha256:[0-9a-f]+$/, "")
    .replace(/:[^/:]+$/, "");
}

function renderMap(map: Readonly<Record<string, string>>, ctx: TemplateContext): Record<string, string> {
  return Object.fromEntries(Object.entries(map).map(([k, v]) => [k, renderTemplate(v, ctx)]));
}

function renderAttrs(spec: TypedAttrs, ctx: TemplateContext): TypedAttrs {
  return { type: spec.type, attrs: renderMap(spec.attrs, ctx) };
}

/** Runs one scenario's steps on a working copy of its folder and records what the builds did. */
class ScenarioExecution {
  readonly builds: BuildObservation[] = [];
  readonly events: EventObservation[] = [];
  private buildctlMs = 0;
  private readonly registry: RegistryClient;
  /** Listed layers per build sequence, kept out of the results (they can be large). */
  private readonly layers = new Map<number, ListedLayer[]>();
  /** diff_ids of the harness's base images, read once when an assertion needs layers. */
  private baseDiffIds: Promise<Set<string>> | undefined;
  private readonly needsLayers: boolean;
  private readonly assertions: Scenario["assertions"];

  constructor(
    private readonly scenario: Scenario,
    private readonly env: BuildkitEnvironment,
    private readonly images: ReadonlyMap<string, string>,
    /** A copy of the scenario folder: edits change it, never the repository. */
    private readonly folder: string,
    private readonly workDir: string,
    /** Set when the scenario runs several times; its images go to their own repositories. */
    private readonly attempt?: number,
  ) {
    this.registry = new RegistryClient(env.registry.urlFromHost);
    const version = semver.coerce(env.description.buildkitVersion)?.version ?? env.description.buildkitVersion;
    this.assertions = scenario.assertions.filter((a) => a.versions === undefined || semver.satisfies(version, a.versions));
    this.needsLayers = this.assertions.some((a) => LAYER_ASSERTIONS.has(a.kind));
  }

  get buildctlWallMs(): number {
    return this.buildctlMs;
  }

  get skippedAssertions(): number {
    return this.scenario.assertions.length - this.assertions.length;
  }

  private buildctl(): Buildctl {
    return new Buildctl({ binary: this.env.description.buildctl.path, addr: this.env.daemon.addr, clientVersion: this.env.description.buildctl.version });
  }

  private template(iteration: number | undefined): TemplateContext {
    const scenario = this.attempt !== undefined ? `${this.scenario.id}-attempt-${this.attempt}` : this.scenario.id;
    return { registry: this.env.registry.hostInNetwork, images: this.images, scenario, ...(iteration !== undefined ? { iteration } : {}) };
  }

  outcomes(): AssertionOutcome[] {
    const layersOf = (o: BuildObservation) => this.layers.get(o.sequence);
    return [buildsSucceeded(this.builds), ...this.assertions.map((a) => evaluate(a, this.builds, layersOf))];
  }

  private event(kind: EventObservation["kind"], iteration: number | undefined, wallMs: number, detail?: string): void {
    this.events.push({ kind, afterSequence: this.builds.length, ...(iteration !== undefined ? { iteration } : {}), wallMs, ...(detail ? { detail } : {}) });
  }

  async runSteps(steps: readonly Step[], iteration?: number): Promise<void> {
    for (const step of steps) {
      const started = Date.now();
      switch (step.kind) {
        case "build":
          await this.build(step, iteration);
          break;
        case "prune": {
          await this.buildctl().prune({ all: step.all });
          const wallMs = Date.now() - started;
          this.buildctlMs += wallMs;
          this.event("prune", iteration, wallMs);
          break;
        }
        case "fresh-builder":
          await this.env.freshBuilder();
          this.event("fresh-builder", iteration, Date.now() - started);
          break;
        case "repeat":
          await this.repeat(step);
          break;
        case "edit":
          await this.edit(step, iteration);
          this.event("edit", iteration, Date.now() - started, `${step.op} ${step.path}`);
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

  private async edit(step: EditStep, iteration: number | undefined): Promise<void> {
    const target = join(this.folder, step.path);
    switch (step.op) {
      case "write":
      case "append": {
        await mkdir(dirname(target), { recursive: true });
        const content = renderTemplate(step.content, this.template(iteration));
        await (step.op === "write" ? writeFile(target, content) : appendFile(target, content));
        break;
      }
      case "touch":
        await utimes(target, step.time, step.time);
        break;
      case "chmod":
        await chmod(target, step.mode);
        break;
      case "delete":
        await rm(target, { recursive: true });
        break;
      case "copy":
        await mkdir(dirname(target), { recursive: true });
        await copyFile(join(this.folder, step.from), target);
        break;
    }
  }

  /** Writes a templated copy of a scenario file (Dockerfile, policy) into the work directory. */
  private async rendered(file: string, ctx: TemplateContext, dest: string): Promise<string> {
    await mkdir(dirname(dest), { recursive: true });
    await writeFile(dest, renderTemplate(await readFile(join(this.folder, file), "utf8"), ctx));
    return dest;
  }

  private async build(step: BuildStep, iteration: number | undefined): Promise<void> {
    const ctx = this.template(iteration);
    const sequence = this.builds.length + 1;
    const dockerfileDir = join(this.workDir, `build-${sequence}`);
    await this.rendered(step.dockerfile, ctx, join(dockerfileDir, "Dockerfile"));
    const output = renderAttrs(step.output, ctx);
    const request: BuildRequest = {
      frontend: "dockerfile.v0",
      locals: { context: join(this.folder, step.context), dockerfile: dockerfileDir },
      frontendOpts: renderMap(step.frontendOpts, ctx),
      buildArgs: renderMap(step.buildArgs, ctx),
      importCache: step.importCache.map((c) => renderAttrs(c, ctx)),
      exportCache: step.exportCache.map((c) => renderAttrs(c, ctx)),
      outputs: [output],
      noCache: step.noCache,
      metadataFile: join(this.workDir, `metadata-${sequence}.json`),
      ...(step.sourcePolicy ? { sourcePolicyFile: await this.rendered(step.sourcePolicy, ctx, join(this.workDir, `policy-${sequence}.json`)) } : {}),
    };
    const result = await this.buildctl().build(request, { progress: "auto", signal: interruption.signal });
    this.buildctlMs += result.wallMs;
    const imageDigest = typeof result.metadata["containerimage.digest"] === "string" ? result.metadata["containerimage.digest"] : undefined;
    const configDigest = typeof result.metadata["containerimage.config.digest"] === "string" ? result.metadata["containerimage.config.digest"] : undefined;
    const repo = output.attrs.name ? repositoryOf(output.attrs.name, this.env.registry.hostInNetwork) : undefined;
    const pushed = result.exitCode === 0 && imageDigest !== undefined && repo !== undefined && output.attrs.push === "true";
    const previous = this.builds.findLast((b) => b.build === step.name)?.inlineCache?.decoded;
    const image = pushed ? await this.observeImage(repo, imageDigest, previous, sequence) : undefined;
    const observation: BuildObservation = {
      build: step.name,
      ...(this.attempt !== undefined ? { attempt: this.attempt } : {}),
      ...(iteration !== undefined ? { iteration } : {}),
      sequence,
      exitCode: result.exitCode,
      ...(result.error ? { error: result.error } : {}),
      wallMs: result.wallMs,
      ...(imageDigest ? { imageDigest } : {}),
      ...(configDigest ? { configDigest } : {}),
      ...image,
      metadata: result.metadata,
      steps: result.steps
        .filter((s) => !s.internal)
        .map((s) => ({
          step: s.instruction ?? s.name,
          cached: s.cached,
          ...(s.error ? { error: s.error } : {}),
          ...(s.durationMs !== undefined ? { durationMs: s.durationMs } : {}),
        })),
      command: result.command,
    };
    this.builds.push(observation);
    const ic = observation.inlineCache;
    log(
      this.scenario.id,
      `${step.name}${iteration !== undefined ? ` #${iteration}` : ""}: exit ${result.exitCode}, config ${configDigest?.slice(7, 19) ?? "-"}, ` +
        `${observation.steps.filter((s) => s.cached).length}/${observation.steps.length} steps cached` +
        (ic
          ? `, inline cache: ${ic.records} records, ${ic.recordsWithChains} with chains${ic.lostSincePreviousRun.length > 0 ? `, ${ic.lostSincePreviousRun.length} lost results` : ""}`
          : "") +
        `, ${Math.round(result.wallMs)} ms`,
    );
  }

  private async readBaseDiffIds(): Promise<Set<string>> {
    const ids = new Set<string>();
    for (const reference of this.images.values()) {
      const [repo, digest] = reference.slice(this.env.registry.hostInNetwork.length + 1).split("@") as [string, string];
      const image = await this.registry.resolveImageManifest(repo, digest);
      const { config } = await this.registry.getConfig(repo, image.manifest);
      for (const id of config.rootfs?.diff_ids ?? []) ids.add(id);
    }
    return ids;
  }

  private async observeImage(
    repo: string,
    imageDigest: string,
    previous: InlineCacheConfig | undefined,
    sequence: number,
  ): Promise<Pick<BuildObservation, "manifestDigest" | "diffIds" | "config" | "inlineCache">> {
    const image = await this.registry.resolveImageManifest(repo, imageDigest);
    const { config } = await this.registry.getConfig(repo, image.manifest);
    if (this.needsLayers) {
      this.baseDiffIds ??= this.readBaseDiffIds();
      const base = await this.baseDiffIds;
      const diffIds = config.rootfs?.diff_ids ?? [];
      const listed: ListedLayer[] = [];
      for (const [i, layer] of image.manifest.layers.entries()) {
        const entries = await listLayerEntries(await this.registry.getBlob(repo, layer.digest), layer.mediaType);
        listed.push({ entries, fromBaseImage: base.has(diffIds[i] ?? "") });
      }
      this.layers.set(sequence, listed);
    }
    const { [INLINE_CACHE_KEY]: _inline, ...rest } = config;
    const cache = decodeInlineCache(config);
    const inlineCache: InlineCacheObservation | undefined = cache && {
      records: cache.records.length,
      recordsWithLayers: recordsWithLayers(cache).length,
      recordsWithChains: recordsWithChains(cache).length,
      lostSincePreviousRun: previous ? recordsLosingResults(previous, cache) : [],
      decoded: cache,
    };
    return { manifestDigest: image.manifestDigest, diffIds: config.rootfs?.diff_ids ?? [], config: rest, ...(inlineCache ? { inlineCache } : {}) };
  }
}

/**
 * Runs a scenario on a started environment and judges it. It starts on a fresh builder
 * and works on a copy of the scenario folder. Infrastructure failures (daemon died,
 * registry down) become an infrastructure-error verdict, never a verdict about BuildKit.
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
    return {
      ...base,
      verdict: notApplicable(scenario, version),
      outcomes: [],
      skippedAssertions: scenario.assertions.length,
      builds: [],
      events: [],
      wallMs: 0,
      buildctlWallMs: 0,
    };
  }
  const started = Date.now();
  const racy = declaredBug(scenario, version);
  const attempts = racy?.status === "reproduces" && racy.racy ? racy.racy.of : 1;
  const executions: ScenarioExecution[] = [];
  const outcomes: AssertionOutcome[][] = [];
  const finish = (verdict: Verdict): ScenarioRun => ({
    ...base,
    verdict,
    outcomes: outcomes.flatMap((list, i) => (attempts === 1 ? list : list.map((o) => ({ ...o, description: `attempt ${i + 1}: ${o.description}` })))),
    skippedAssertions: executions[0]?.skippedAssertions ?? 0,
    builds: executions.flatMap((e) => e.builds),
    events: executions.flatMap((e) => e.events),
    wallMs: Date.now() - started,
    buildctlWallMs: executions.reduce((sum, e) => sum + e.buildctlWallMs, 0),
  });
  try {
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const work = await tmpDir({ unsafeCleanup: true, prefix: `buildkit-repro-${scenario.id}-` });
      try {
        const folder = join(work.path, "scenario");
        await cp(scenario.dir, folder, { recursive: true, verbatimSymlinks: true });
        const execution = new ScenarioExecution(scenario, env, images, folder, join(work.path, "work"), attempts > 1 ? attempt : undefined);
        executions.push(execution);
        await env.freshBuilder();
        await execution.runSteps(scenario.steps);
        outcomes.push(execution.outcomes());
      } finally {
        await work.cleanup();
      }
    }
    return finish(judgeAttempts(scenario, version, outcomes));
  } catch (err) {
    // A HarnessError here is the machinery failing (daemon, registry, buildctl); anything else is a harness bug.
    if (!(err instanceof HarnessError)) throw err;
    outcomes.length = 0;
    return finish(infrastructureError(err.describe()));
  }
}
