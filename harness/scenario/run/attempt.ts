/**
 * One attempt of a scenario: a fresh registry with the base images, a fresh builder, the
 * steps on a working copy of the folder, and everything the builds did recorded. It
 * judges nothing; a failed build is looked at once to tell a BuildKit crash (recorded, the
 * steps stop) from a fault of the machine (thrown: it is no finding about BuildKit).
 */
import { cp } from "node:fs/promises";
import { join } from "node:path";
import type { ScenarioBuilder } from "../../builders/builder.ts";
import { makeWorkDir } from "../../environment/work-dirs.ts";
import { HarnessError } from "../../errors.ts";
import { log } from "../../log.ts";
import { openImageArchive } from "../../oci/archive/open.ts";
import { pushArchiveImage } from "../../oci/archive/push.ts";
import { RegistryRepository, readConfig, resolveImage } from "../../oci/content-store.ts";
import { RegistryClient } from "../../oci/registry-client.ts";
import { BASE_IMAGES } from "../../provision/base-images.ts";
import { inspectFolder } from "../format/folder.ts";
import type { BuildStep, EditStep, RepeatStep, Scenario, Step } from "../model.ts";
import type { AttemptObservation, BaseImageObservation, BuildObservation, DaemonExit, EventObservation } from "../observation.ts";
import type { TemplateContext } from "../template.ts";
import { renderTemplate } from "../template.ts";
import { applyEdit } from "./edits.ts";
import { ImageReader, observeOutputs } from "./observe.ts";
import { stepObservations } from "./steps.ts";

/** Why a signal aborted: its own error (a deadline), else an interruption. */
function abortError(signal: AbortSignal): HarnessError {
  const reason: unknown = signal.reason;
  return reason instanceof HarnessError
    ? reason
    : new HarnessError("INTERRUPTED", `interrupted (${String(reason)})`, "Run again; everything this run created has been removed.");
}

/** Asked after each iteration of a repeat past `times`: may the loop stop here? */
export type StopWhen = (soFar: AttemptObservation) => boolean;

class Attempt {
  readonly builds: BuildObservation[] = [];
  readonly events: EventObservation[] = [];
  buildctlMs = 0;
  stoppedEarly: string | undefined;

  constructor(
    private readonly scenario: Scenario,
    private readonly builder: ScenarioBuilder,
    private readonly attempt: number | undefined,
    private readonly paths: { folder: string; work: string },
    private readonly images: ReadonlyMap<string, string>,
    readonly baseImages: Readonly<Record<string, BaseImageObservation>>,
    private readonly reader: ImageReader,
    private readonly signal: AbortSignal,
    private readonly stopWhen: StopWhen,
  ) {}

  private template(iteration: number | undefined): TemplateContext {
    return {
      registry: this.builder.registry.hostInNetwork,
      images: this.images,
      scenario: this.scenario.id,
      ...(iteration !== undefined ? { iteration } : {}),
    };
  }

  snapshot(wallMs: number, daemons: AttemptObservation["daemons"] = []): AttemptObservation {
    return {
      ...(this.attempt !== undefined ? { attempt: this.attempt } : {}),
      baseImages: this.baseImages,
      builds: [...this.builds],
      events: [...this.events],
      daemons,
      ...(this.stoppedEarly ? { stoppedEarly: this.stoppedEarly } : {}),
      wallMs,
      buildctlWallMs: this.buildctlMs,
    };
  }

  private event(kind: EventObservation["kind"], iteration: number | undefined, wallMs: number, detail?: string): void {
    this.events.push({ kind, afterSequence: this.builds.length, ...(iteration !== undefined ? { iteration } : {}), wallMs, ...(detail ? { detail } : {}) });
  }

  async runSteps(steps: readonly Step[], iteration?: number): Promise<void> {
    for (const step of steps) {
      if (this.stoppedEarly) return;
      if (this.signal.aborted) throw abortError(this.signal);
      const started = Date.now();
      switch (step.kind) {
        case "build":
          await this.build(step, iteration);
          break;
        case "prune": {
          await this.builder.prune(step.all);
          const wallMs = Date.now() - started;
          this.buildctlMs += wallMs;
          this.event("prune", iteration, wallMs);
          break;
        }
        case "fresh-builder":
          await this.builder.freshBuilder();
          this.event("fresh-builder", iteration, Date.now() - started);
          break;
        case "remove-image":
        case "pull": {
          const ref = renderTemplate(step.ref, this.template(iteration));
          const detail = await (step.kind === "pull" ? this.builder.pull(ref) : this.builder.removeImage(ref));
          this.event(step.kind, iteration, Date.now() - started, detail);
          break;
        }
        case "wait":
          await new Promise((r) => setTimeout(r, step.seconds * 1000));
          this.event("wait", iteration, Date.now() - started, `${step.seconds} s`);
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
    for (let i = 1; i <= step.extendTo && !this.stoppedEarly; i++) {
      await this.runSteps(step.steps, i);
      if (i >= step.times && this.stopWhen(this.snapshot(0))) break;
    }
  }

  private edit(step: EditStep, iteration: number | undefined): Promise<void> {
    const content = step.op === "write" || step.op === "append" ? renderTemplate(step.content, this.template(iteration)) : undefined;
    return applyEdit(this.paths.folder, step, content);
  }

  private async build(step: BuildStep, iteration: number | undefined): Promise<void> {
    const sequence = this.builds.length + 1;
    const result = await this.builder.build(step, sequence, this.template(iteration), this.paths, this.signal);
    this.buildctlMs += result.wallMs;
    let crash: DaemonExit | undefined;
    if (result.exitCode !== 0) {
      const evidence = [result.error ?? "", ...result.steps.filter((s) => s.error).map((s) => s.log ?? "")].join("\n");
      const diagnosis = await this.builder.diagnose(evidence);
      if (diagnosis && "fault" in diagnosis) throw diagnosis.fault;
      if (diagnosis) {
        crash = diagnosis.crash;
        this.stoppedEarly = `BuildKit crashed during build "${step.name}"${iteration !== undefined ? ` (iteration ${iteration})` : ""}`;
      }
    }
    const outputs = result.exitCode === 0 ? await observeOutputs(result.outputs, result.pushedDigest, this.reader) : [];
    if (outputs.some((o) => o.unreadable)) {
      // An output the build reported but the harness cannot read: the machine, or an observation gap.
      const diagnosis = await this.builder.diagnose(undefined);
      if (diagnosis && "fault" in diagnosis) throw diagnosis.fault;
    }
    const observation: BuildObservation = {
      build: step.name,
      ...(this.attempt !== undefined ? { attempt: this.attempt } : {}),
      ...(iteration !== undefined ? { iteration } : {}),
      sequence,
      command: result.command,
      exitCode: result.exitCode,
      ...(result.error ? { error: result.error } : {}),
      ...(crash ? { crash } : {}),
      wallMs: result.wallMs,
      metadata: result.metadata,
      steps: stepObservations(result.steps),
      warnings: result.warnings,
      outputs,
    };
    this.builds.push(observation);
    const image = outputs.find((o) => o.image)?.image;
    const cache = image?.inlineCache && "decoded" in image.inlineCache ? image.inlineCache.decoded : undefined;
    log(
      this.scenario.id,
      `${step.name}${iteration !== undefined ? ` #${iteration}` : ""}: exit ${result.exitCode}${crash ? " (BuildKit crashed)" : ""}, config ${image?.configDigest.slice(7, 19) ?? "-"}, ` +
        `${observation.steps.filter((s) => s.cached).length}/${observation.steps.length} steps cached` +
        (cache ? `, inline cache: ${cache.records.length} records` : "") +
        `, ${Math.round(result.wallMs)} ms`,
    );
  }
}

/**
 * Pushes the scenario's own images (byte for byte, from its archives) into the fresh
 * registry, which holds the harness's base images already, and reads back what scenarios
 * will see.
 */
async function pushImages(
  scenario: Scenario,
  env: ScenarioBuilder,
  folder: string,
): Promise<{ images: Map<string, string>; observed: Record<string, BaseImageObservation> }> {
  const client = new RegistryClient(env.registry.urlFromHost);
  const host = env.registry.hostInNetwork;
  const images = new Map<string, string>();
  const observed: Record<string, BaseImageObservation> = {};
  for (const [name, image] of env.registry.baseImages) {
    images.set(name, image.reference);
    const resolved = await resolveImage(new RegistryRepository(client, image.repo), image.digest, env.platform);
    observed[name] = {
      reference: image.reference,
      manifestDigest: resolved.manifestDigest,
      manifest: resolved.manifest,
      origin: BASE_IMAGES.find((b) => b.name === name)!.description,
    };
  }
  for (const own of scenario.images) {
    const archive = await openImageArchive(join(folder, own.path), { description: own.path });
    const pushed = await pushArchiveImage(client, archive, { repo: `scenario/${own.name}`, platform: env.platform });
    const reference = `${host}/${pushed.repo}@${pushed.digest}`;
    images.set(own.name, reference);
    const resolved = await resolveImage(new RegistryRepository(client, pushed.repo), pushed.digest, env.platform);
    observed[own.name] = { reference, manifestDigest: resolved.manifestDigest, manifest: resolved.manifest, origin: `${own.path}: ${pushed.description}` };
  }
  return { images, observed };
}

export interface AttemptResult {
  readonly observation: AttemptObservation;
  /** What stopped the attempt, when something did (a fault of the machine, an interruption, a harness error). */
  readonly error?: unknown;
}

/**
 * Runs the steps of one attempt and returns what they did, also when something stopped it
 * (then with the error, and the daemons' logs as evidence). The work folder is always removed.
 */
export async function runAttempt(
  scenario: Scenario,
  env: ScenarioBuilder,
  attempt: number | undefined,
  signal: AbortSignal,
  stopWhen: StopWhen,
): Promise<AttemptResult> {
  const started = Date.now();
  const work = await makeWorkDir("scenario");
  let run: Attempt | undefined;
  try {
    const folder = join(work.path, "scenario");
    await cp(scenario.dir, folder, { recursive: true, verbatimSymlinks: true });
    const copyProblems = inspectFolder(folder).problems;
    if (copyProblems.length > 0)
      throw new HarnessError(
        "SCENARIO_INVALID",
        `the working copy of ${scenario.id} is unsafe: ${copyProblems.map((p) => `${p.path}: ${p.message}`).join("; ")}`,
      );
    await env.freshRegistry();
    await env.freshBuilder();
    // Daemons retired before this attempt belong to earlier scenarios.
    await env.takeDaemonRecords();
    const { images, observed } = await pushImages(scenario, env, folder);
    const client = new RegistryClient(env.registry.urlFromHost);
    const baseDiffIds = new Set<string>();
    for (const image of Object.values(observed)) {
      const repo = image.reference.slice(env.registry.hostInNetwork.length + 1).split("@")[0]!;
      const { config } = await readConfig(new RegistryRepository(client, repo), image.manifest.config);
      for (const id of config.rootfs?.diff_ids ?? []) baseDiffIds.add(id);
    }
    const reader = new ImageReader(client, env.registry.hostInNetwork, env.platform, baseDiffIds);
    run = new Attempt(scenario, env, attempt, { folder, work: join(work.path, "work") }, images, observed, reader, signal, stopWhen);
    await run.runSteps(scenario.steps);
    return { observation: run.snapshot(Date.now() - started, await env.takeDaemonRecords()) };
  } catch (thrown) {
    // What the harness hit may have been the machine: a registry gone makes its own client fail too.
    const diagnosis =
      thrown instanceof HarnessError && thrown.code !== "INTERRUPTED" && thrown.code !== "TIMEOUT"
        ? await env.diagnose(undefined).catch(() => undefined)
        : undefined;
    const error = diagnosis && "fault" in diagnosis ? diagnosis.fault : thrown;
    const daemons = await env.takeDaemonRecords().catch(() => []);
    const observation = run?.snapshot(Date.now() - started, daemons) ?? {
      baseImages: {},
      builds: [],
      events: [],
      daemons,
      wallMs: Date.now() - started,
      buildctlWallMs: 0,
    };
    return { observation, error };
  } finally {
    await work.remove();
  }
}
