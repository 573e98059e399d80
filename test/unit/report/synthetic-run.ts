/**
 * Synthetic runs for the report writers' tests and benchmark: ScenarioResults shaped like
 * the runner's (real scenarios of the corpus, cloned to any count), with builds, steps,
 * image digests, daemon logs and, for failed digest assertions, an explanation, fed
 * through the RunRecorder like a real run.
 */
import { createHash } from "node:crypto";
import { resolve } from "node:path";
import type { Explanation } from "../../../harness/oci/diff/index.ts";
import type { ResultsDocument, VersionRecord } from "../../../harness/report/model.ts";
import { scenarioRecord } from "../../../harness/report/records.ts";
import type { RunRecorder } from "../../../harness/run/recorder.ts";
import type { AssertionOutcome } from "../../../harness/scenario/judge/outcome.ts";
import { LOUD_VERDICTS, type VerdictKind } from "../../../harness/scenario/judge/verdict.ts";
import { loadCorpus } from "../../../harness/scenario/load.ts";
import type { Scenario } from "../../../harness/scenario/model.ts";
import type { BuildObservation } from "../../../harness/scenario/observation.ts";
import type { ScenarioResult } from "../../../harness/scenario/run/scenario.ts";

const ROOT = resolve(import.meta.dirname, "../../..");

const digest = (...parts: unknown[]) => `sha256:${createHash("sha256").update(parts.join("/")).digest("hex")}`;

/** `count` scenarios: the corpus's, cloned under new ids when more are asked for. */
export function syntheticScenarios(count: number): Scenario[] {
  const corpus = loadCorpus(resolve(ROOT, "scenarios")).scenarios;
  return Array.from({ length: count }, (_, i) => {
    const s = corpus[i % corpus.length]!;
    return i < corpus.length ? s : { ...s, id: `${s.id}-${Math.floor(i / corpus.length)}` };
  });
}

export function syntheticVersions(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `v0.${10 + i}.${i % 3}`);
}

/** Every verdict kind shows up in a run of a few results; most are pass or known bug, like a real matrix. */
const SPREAD: readonly VerdictKind[] = [
  "pass",
  "known-bug-reproduced",
  "pass",
  "fail",
  "known-bug-reproduced",
  "not-applicable",
  "unexpected-pass",
  "pass",
  "inconclusive",
  "infrastructure-error",
  "pass",
  "known-bug-reproduced",
];

export function verdictFor(si: number, vi: number): VerdictKind {
  return SPREAD[(si * 7 + vi) % SPREAD.length]!;
}

function explanationOf(a: string, b: string, summary: string): Explanation {
  return {
    schemaVersion: 1,
    result: "different",
    summary,
    platform: "linux/amd64",
    a: { store: "http://registry:5000/s", reference: a, manifest: { digest: a, mediaType: "application/vnd.oci.image.manifest.v1+json", size: 500 } },
    b: { store: "http://registry:5000/s", reference: b, manifest: { digest: b, mediaType: "application/vnd.oci.image.manifest.v1+json", size: 500 } },
    levels: { index: "absent", manifest: "different", config: "different", layers: "same" },
    layers: [],
    causes: [
      { cause: "cache-metadata", differences: 1, places: [{ level: "config", differences: 1, examples: ["moby.buildkit.cache.v0 records[0].chains"] }] },
    ],
    differences: [
      {
        level: "config",
        cause: "cache-metadata",
        change: "removed",
        subject: "moby.buildkit.cache.v0 records[0a1b2c3d4e5f].chains",
        path: ["moby.buildkit.cache.v0", "records", 0, "chains"],
        before: [{ layers: [0] }],
      },
    ],
    omittedDifferences: 0,
    limits: { maxLayerBytes: 1, maxEntryDifferences: 1, maxDocumentDifferences: 1, maxValueChars: 1 },
  };
}

function builds(s: Scenario, version: string, n: number): BuildObservation[] {
  return Array.from({ length: n }, (_, i) => {
    const manifestDigest = digest(s.id, version, "manifest", i % 2);
    return {
      build: i === 0 ? "first" : "rebuild",
      ...(i > 0 ? { iteration: i } : {}),
      sequence: i + 1,
      command: ["buildctl", "build", "--frontend", "dockerfile.v0", "--local", "context=."],
      exitCode: 0,
      wallMs: 420,
      metadata: { "containerimage.digest": manifestDigest },
      steps: ["FROM registry:5000/busybox", "COPY app.txt /app/", "RUN echo built > /built"].map((step, j) => ({
        step,
        cached: i > 0 && j < 2,
        vertices: 1,
        cachedVertices: i > 0 && j < 2 ? 1 : 0,
        durationMs: 30 + j,
      })),
      warnings: [],
      outputs: [
        {
          index: 0,
          type: "image",
          image: {
            source: "registry",
            location: `registry:5000/${s.id}@${manifestDigest}`,
            repository: s.id,
            manifestDigest,
            manifest: {
              schemaVersion: 2,
              mediaType: "application/vnd.oci.image.manifest.v1+json",
              config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: digest(s.id, version, "config", i % 2), size: 900 },
              layers: [0, 1].map((l) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: digest(s.id, "layer", l), size: 1000 + l })),
            },
            configDigest: digest(s.id, version, "config", i % 2),
            config: {
              architecture: "amd64",
              os: "linux",
              created: "2026-01-01T00:00:00Z",
              rootfs: { type: "layers", diff_ids: [digest(s.id, "diff", 0), digest(s.id, "diff", 1)] },
              history: [{ created_by: "COPY app.txt /app/" }, { created_by: "RUN echo built > /built" }],
            },
            layers: [],
          },
        },
      ],
    };
  });
}

/** What the judge would have said for `kind`, with the outcomes that say why. */
function outcomes(kind: VerdictKind, s: Scenario, version: string, noisy: boolean): AssertionOutcome[] {
  const a = digest(s.id, version, "manifest", 0);
  const b = digest(s.id, version, "manifest", 1);
  const pad = noisy ? ` ${"x".repeat(2000)}` : "";
  const control: AssertionOutcome = {
    id: "*every-build-succeeds",
    kind: "every-build-succeeds",
    description: "every build succeeds",
    status: "holds",
    expected: "exit 0",
    actual: "4 builds exited 0",
  };
  const digestOutcome = (status: AssertionOutcome["status"]): AssertionOutcome => {
    const summary = "only cache metadata differs (config moby.buildkit.cache.v0 records[0a1b2c3d4e5f].chains)";
    return {
      id: "a1",
      kind: "digest-stable",
      description: 'config digest of build "rebuild" is the same in every run',
      status,
      expected: "one config digest",
      actual:
        status === "fails"
          ? `2 digests: ${a.slice(7, 19)} (first at iteration 1), ${b.slice(7, 19)} (first at iteration 2)${pad}; ${summary}`
          : status === "holds"
            ? `1 digest: ${a.slice(7, 19)}`
            : `no image of build "rebuild" was read${pad}`,
      ...(status === "fails"
        ? {
            firstViolation: { sequence: 2, iteration: 2 },
            differing: [
              { sequence: 1, output: 0 },
              { sequence: 2, output: 0 },
            ] as const,
            explanation: explanationOf(a, b, summary),
          }
        : {}),
    };
  };
  switch (kind) {
    case "fail":
    case "known-bug-reproduced":
      return [control, digestOutcome("fails")];
    case "inconclusive":
      return [control, digestOutcome("inconclusive")];
    case "pass":
    case "unexpected-pass":
      return [control, digestOutcome("holds")];
    default:
      return [];
  }
}

export interface SyntheticOptions {
  /** Every result needs attention and carries long observed values: the worst case for summary.md. */
  readonly noisy?: boolean;
  /** Results per version actually run before an interruption (the rest were never judged). */
  readonly stopAfter?: number;
  /** Overrides the verdict kind of a result. */
  readonly verdict?: (scenario: string, version: string, si: number, vi: number) => VerdictKind;
  readonly buildsPerResult?: number;
}

function syntheticResult(s: Scenario, version: string, kind: VerdictKind, options: SyntheticOptions = {}): ScenarioResult {
  const n = options.buildsPerResult ?? 4;
  const ran = !["not-applicable", "not-run", "infrastructure-error"].includes(kind);
  const fault =
    kind === "infrastructure-error"
      ? { code: "DAEMON_LOST" as const, message: `buildkitd stopped answering during build 2${options.noisy ? ` ${"y".repeat(2000)}` : ""}` }
      : kind === "not-run"
        ? { code: "INTERRUPTED" as const, message: "the run was interrupted before this scenario" }
        : undefined;
  const bugs = kind === "known-bug-reproduced" || kind === "unexpected-pass" ? s.knownBugs.map((b) => b.reference) : undefined;
  return {
    scenario: s,
    builder: { kind: "buildkitd", id: version, buildkitVersion: version, origin: "synthetic" },
    buildkitVersion: version,
    verdict: {
      kind,
      loud: LOUD_VERDICTS.has(kind),
      reason: `synthetic ${kind}`,
      ...(bugs && bugs.length > 0 ? { bugs } : {}),
      ...(fault ? { fault } : {}),
    },
    attempts: ran
      ? [
          {
            observation: {
              baseImages: {},
              builds: builds(s, version, n),
              events: [{ kind: "prune", afterSequence: 1, wallMs: 12 }],
              daemons: [
                { container: `buildkitd-${version}`, log: 'time=… level=info msg="running server on /run/buildkit/buildkitd.sock"\n', logTruncated: false },
              ],
              wallMs: 2000,
              buildctlWallMs: 1700,
            },
            outcomes: outcomes(kind, s, version, options.noisy ?? false),
          },
        ]
      : [],
    wallMs: 2100,
  };
}

function versionRecord(version: string, status: VersionRecord["status"]): VersionRecord {
  return {
    version,
    status,
    buildkit: {
      source: "local-build",
      reference: `buildkit-repro/buildkit:${version}-local`,
      imageId: digest("image", version),
      description: `local build of ${version}`,
      labels: {},
    },
    buildctl: version,
  };
}

/** Feeds a synthetic scenarios × versions run through `recorder` and finishes it. */
export async function recordSyntheticRun(
  recorder: RunRecorder,
  scenarioCount: number,
  versionCount: number,
  options: SyntheticOptions = {},
): Promise<ResultsDocument> {
  const scenarios = syntheticScenarios(scenarioCount);
  const versions = syntheticVersions(versionCount);
  const interrupted = options.stopAfter !== undefined;
  for (const [vi, version] of versions.entries()) {
    for (const [si, s] of scenarios.entries()) {
      if (interrupted && si >= options.stopAfter!) break;
      const kind =
        options.verdict?.(s.id, version, si, vi) ??
        (options.noisy ? (["fail", "infrastructure-error", "inconclusive"] as const)[(si + vi) % 3]! : verdictFor(si, vi));
      await recorder.add(syntheticResult(s, version, kind, options));
    }
  }
  return recorder.finish({
    versions: versions.map((v) => versionRecord(v, interrupted ? "interrupted" : "ran")),
    scenarios: scenarios.map((s) => scenarioRecord(s, ROOT)),
    invalidScenarios: [],
    complete: !interrupted,
  });
}
