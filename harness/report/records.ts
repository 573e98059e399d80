/**
 * From what the runner observed and judged to the records of results.json. Layer entries
 * stay out (they are large and any difference is explained where it matters); the inline
 * cache is stored decoded instead of as the base64 it travels in.
 */
import { relative } from "node:path";
import { INLINE_CACHE_KEY } from "../oci/inline-cache.ts";
import type { ProvisionedImage } from "../provision/image-source.ts";
import { declaredBugs } from "../scenario/judge/verdict.ts";
import type { Scenario } from "../scenario/model.ts";
import type { BuildObservation, ImageObservation } from "../scenario/observation.ts";
import type { ScenarioResult } from "../scenario/run/scenario.ts";
import type { AttemptRecord, BuildRecord, ImageRecord, ResultRecord, ScenarioRecord } from "./model.ts";

export function scenarioRecord(s: Scenario, projectRoot: string): ScenarioRecord {
  const rel = relative(projectRoot, s.dir);
  return {
    id: s.id,
    title: s.title,
    upstream: [...s.upstream],
    tags: [...s.tags],
    expectation: s.expectation,
    applies: s.applies,
    folder: rel.startsWith("..") ? s.dir : rel,
    knownBugs: s.knownBugs.map((b) => ({
      versions: b.versions,
      ...(b.builder ? { builder: b.builder } : {}),
      ...(b.engine ? { engine: b.engine } : {}),
      status: b.status,
      ...(b.fixedIn ? { fixedIn: b.fixedIn } : {}),
      reference: b.reference,
      explains: b.explains.map((e) => ({ ...e })),
      ...(b.racy ? { racy: { ...b.racy } } : {}),
      ...(b.note ? { note: b.note } : {}),
    })),
  };
}

function imageRecord(image: ImageObservation): ImageRecord {
  const { [INLINE_CACHE_KEY]: _inline, ...config } = image.config;
  return {
    source: image.source,
    location: image.location,
    ...(image.indexDigest ? { indexDigest: image.indexDigest } : {}),
    manifestDigest: image.manifestDigest,
    ...(image.manifest.mediaType ? { manifestMediaType: image.manifest.mediaType } : {}),
    configDigest: image.configDigest,
    layers: image.manifest.layers.map((l) => ({
      mediaType: l.mediaType,
      digest: l.digest,
      size: l.size,
      ...(l.annotations ? { annotations: l.annotations } : {}),
    })),
    diffIds: image.config.rootfs?.diff_ids ?? [],
    ...(image.manifest.annotations ? { manifestAnnotations: image.manifest.annotations } : {}),
    config,
    ...(image.inlineCache && "decoded" in image.inlineCache ? { inlineCache: image.inlineCache.decoded } : {}),
    ...(image.inlineCache && "error" in image.inlineCache ? { inlineCacheError: image.inlineCache.error } : {}),
  };
}

function buildRecord(b: BuildObservation): BuildRecord {
  return {
    build: b.build,
    ...(b.iteration !== undefined ? { iteration: b.iteration } : {}),
    sequence: b.sequence,
    command: [...b.command],
    exitCode: b.exitCode,
    ...(b.error ? { error: b.error } : {}),
    ...(b.crash ? { crash: { exitCode: b.crash.exitCode, oomKilled: b.crash.oomKilled, ...(b.crash.panic ? { panic: [...b.crash.panic] } : {}) } } : {}),
    wallMs: Math.round(b.wallMs),
    metadata: b.metadata,
    steps: b.steps.map((s) => ({ ...s })),
    warnings: [...b.warnings],
    outputs: b.outputs.map((o) => ({
      index: o.index,
      type: o.type,
      ...(o.image ? { image: imageRecord(o.image) } : {}),
      ...(o.files ? { files: o.files.length } : {}),
      ...(o.unreadable ? { unreadable: o.unreadable } : {}),
    })),
  };
}

/** `logPath(attempt index, daemon index)` names where that daemon's log was written, relative to the report folder. */
export function resultRecord(result: ScenarioResult, logPath: (attempt: number, daemon: number) => string): ResultRecord {
  const explained = new Set(declaredBugs(result.scenario, result.builder).flatMap((b) => b.explains.map((e) => e.assertion)));
  const attempts: AttemptRecord[] = result.attempts.map((a, i) => ({
    ...(a.observation.attempt !== undefined ? { attempt: a.observation.attempt } : {}),
    outcomes: a.outcomes.map((o) => ({
      id: o.id,
      kind: o.kind,
      description: o.description,
      status: o.status,
      role: explained.has(o.id) ? "explained" : "control",
      expected: o.expected,
      actual: o.actual,
      ...(o.firstViolation ? { firstViolation: { ...o.firstViolation } } : {}),
      ...(o.differing ? { differing: o.differing.map((d) => ({ ...d })) } : {}),
      ...(o.explanation ? { explanation: o.explanation } : {}),
    })),
    builds: a.observation.builds.map(buildRecord),
    events: a.observation.events.map((e) => ({ ...e })),
    daemons: a.observation.daemons.map((d, j) => ({
      container: d.container,
      ...(d.generation !== undefined ? { generation: d.generation } : {}),
      log: logPath(i, j),
      logTruncated: d.logTruncated,
      ...(d.exit ? { exit: { exitCode: d.exit.exitCode, oomKilled: d.exit.oomKilled, ...(d.exit.panic ? { panic: [...d.exit.panic] } : {}) } } : {}),
    })),
    ...(a.observation.stoppedEarly ? { stoppedEarly: a.observation.stoppedEarly } : {}),
    wallMs: a.observation.wallMs,
    buildctlWallMs: a.observation.buildctlWallMs,
  }));
  const v = result.verdict;
  return {
    scenario: result.scenario.id,
    // The run's name for the builder: a BuildKit version, or dockerd:<engine>, whose
    // embedded BuildKit may be the same version as a standalone daemon's column.
    version: result.builder.id,
    buildkitVersion: result.buildkitVersion,
    verdict: { kind: v.kind, loud: v.loud, reason: v.reason, ...(v.bugs ? { bugs: [...v.bugs] } : {}), ...(v.fault ? { fault: { ...v.fault } } : {}) },
    attempts,
    wallMs: result.wallMs,
  };
}

export function imageSourceRecord(image: ProvisionedImage) {
  return { source: image.source, reference: image.reference, imageId: image.imageId, description: image.description, labels: { ...image.labels } };
}
