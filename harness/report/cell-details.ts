/**
 * What the drill-down of one scenario × version shows, cut to what a reader needs: the
 * verdict, each assertion with expected and actual and the explanation of a digest
 * difference, every build's steps (cached or not) and digests per iteration, events, and
 * the end of each daemon's log. Embedded per cell in index.html and rendered on click.
 */
import type { ResultRecord, ScenarioRecord } from "./model.ts";

/** Differences of an explanation listed in the drill-down; the rest are in results.json. */
const DIFFERENCES_SHOWN = 40;
const VALUE_CHARS = 400;

export interface CellDetails {
  scenario: string;
  version: string;
  title?: string;
  upstream: string[];
  expectation?: string;
  tags: string[];
  verdict: ResultRecord["verdict"];
  ran: boolean;
  wallMs?: number;
  attempts: AttemptDetails[];
}

interface AttemptDetails {
  attempt?: number;
  stoppedEarly?: string;
  outcomes: {
    description: string;
    status: string;
    role: string;
    expected: string;
    actual: string;
    firstViolation?: { sequence: number; iteration?: number };
    explanation?: { result: string; summary: string; differences: unknown[]; omitted: number };
  }[];
  builds: {
    sequence: number;
    build: string;
    iteration?: number;
    exitCode: number;
    error?: string;
    wallMs: number;
    steps: { step: string; cached: boolean; durationMs?: number; error?: string }[];
    images: { output: number; index?: string; manifest: string; config: string; layers: string[] }[];
    warnings: string[];
  }[];
  events: { kind: string; detail?: string; afterSequence: number; iteration?: number }[];
  daemons: { container: string; log: string; excerpt?: string; exit?: string }[];
}

const cut = (v: unknown): unknown => {
  if (typeof v === "string") return v.length > VALUE_CHARS ? `${v.slice(0, VALUE_CHARS)}… (cut)` : v;
  if (v === undefined) return undefined;
  const text = JSON.stringify(v);
  return text.length > VALUE_CHARS ? `${text.slice(0, VALUE_CHARS)}… (cut)` : v;
};

function explanationDetails(e: unknown): AttemptDetails["outcomes"][number]["explanation"] {
  if (!e || typeof e !== "object") return undefined;
  const x = e as { result?: string; summary?: string; error?: { message?: string }; differences?: Record<string, unknown>[]; omittedDifferences?: number };
  const differences = (x.differences ?? []).slice(0, DIFFERENCES_SHOWN).map((d) => ({ ...d, before: cut(d.before), after: cut(d.after) }));
  const omitted = (x.differences?.length ?? 0) - differences.length + (x.omittedDifferences ?? 0);
  return { result: x.result ?? "?", summary: x.summary ?? x.error?.message ?? "", differences, omitted };
}

/** `excerpt(log path)`: the end of a daemon log written by the recorder, if it can be read. */
export function cellDetails(
  scenario: ScenarioRecord | undefined,
  version: string,
  r: ResultRecord | undefined,
  excerpt: (log: string) => string | undefined,
): CellDetails {
  const id = r?.scenario ?? scenario?.id ?? "?";
  return {
    scenario: id,
    version,
    ...(scenario ? { title: scenario.title, expectation: scenario.expectation } : {}),
    upstream: scenario?.upstream ?? [],
    tags: scenario?.tags ?? [],
    verdict: r?.verdict ?? { kind: "not-run", loud: true, reason: "the run ended before this scenario ran on this version" },
    ran: r !== undefined,
    ...(r ? { wallMs: r.wallMs } : {}),
    attempts: (r?.attempts ?? []).map((a) => ({
      ...(a.attempt !== undefined ? { attempt: a.attempt } : {}),
      ...(a.stoppedEarly ? { stoppedEarly: a.stoppedEarly } : {}),
      outcomes: a.outcomes.map((o) => {
        const explanation = explanationDetails(o.explanation);
        return {
          description: o.description,
          status: o.status,
          role: o.role,
          expected: o.expected,
          actual: o.actual,
          ...(o.firstViolation ? { firstViolation: o.firstViolation } : {}),
          ...(explanation ? { explanation } : {}),
        };
      }),
      builds: a.builds.map((b) => ({
        sequence: b.sequence,
        build: b.build,
        ...(b.iteration !== undefined ? { iteration: b.iteration } : {}),
        exitCode: b.exitCode,
        ...(b.error ? { error: b.error } : {}),
        wallMs: b.wallMs,
        steps: b.steps.map((s) => ({
          step: s.step,
          cached: s.cached,
          ...(s.durationMs !== undefined ? { durationMs: s.durationMs } : {}),
          ...(s.error ? { error: s.error } : {}),
        })),
        images: b.outputs.flatMap((o) =>
          o.image
            ? [
                {
                  output: o.index,
                  ...(o.image.indexDigest ? { index: o.image.indexDigest } : {}),
                  manifest: o.image.manifestDigest,
                  config: o.image.configDigest,
                  layers: o.image.layers.map((l) => l.digest),
                },
              ]
            : [],
        ),
        warnings: b.warnings,
      })),
      events: a.events.map((e) => ({
        kind: e.kind,
        ...(e.detail ? { detail: e.detail } : {}),
        afterSequence: e.afterSequence,
        ...(e.iteration !== undefined ? { iteration: e.iteration } : {}),
      })),
      daemons: a.daemons.map((d) => {
        const text = d.log ? excerpt(d.log) : undefined;
        return {
          container: d.generation !== undefined ? `${d.container}, buildkitd #${d.generation}` : d.container,
          log: d.log,
          ...(text !== undefined ? { excerpt: text } : {}),
          ...(d.exit
            ? { exit: `exit code ${d.exit.exitCode}${d.exit.oomKilled ? " (OOM-killed)" : ""}${d.exit.panic ? `: ${d.exit.panic.join(" ")}` : ""}` }
            : {}),
        };
      }),
    })),
  };
}
