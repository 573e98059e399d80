/**
 * One vertex of a build as the progress stream reported it, whichever progress format
 * (`rawjson` or `plain`) it was read from.
 *
 * How far `cached` can be trusted depends on the format:
 * - rawjson: `cached` is true when ANY update for the vertex said `"cached": true`. A vertex
 *   restored from an imported cache (registry/local cache importer) is reported cached first
 *   and later updates (blob pulls, extraction) may drop the flag.
 * - plain: the plain printer prints `#N CACHED` only if the vertex's LAST update was cached;
 *   otherwise `#N DONE`. A step restored from an imported cache can therefore print blob /
 *   extracting lines and `DONE`: plain UNDERCOUNTS cache hits. Prefer rawjson (client ≥ v0.13).
 *   Plain also merges a progress group (e.g. `COPY --link`) into one step, and has no digests.
 */
export interface StepResult {
  /** The vertex digest (rawjson), or `#N` (plain, which has no digests). */
  vertex: string;
  /** The name as shown, e.g. "[builder 2/3] RUN echo hi" or "[internal] load metadata for ...". */
  name: string;
  /** The Dockerfile text without the "[stage n/m]" prefix, e.g. "RUN echo hi". */
  instruction?: string;
  /** Stage name from the prefix ("builder", "stage-1"); absent for unnamed single stages. */
  stage?: string;
  /** Platform from the prefix of multi-platform builds ("linux/arm64"). */
  platform?: string;
  /** Position "n/m" of the step in its stage, as in the prefix. */
  stepIndex?: number;
  stepCount?: number;
  cached: boolean;
  /** The vertex's error, e.g. `process "/bin/sh -c ..." did not complete successfully: exit code: 1`. */
  error?: string;
  canceled?: boolean;
  /** RFC 3339 timestamps (rawjson only). */
  startedAt?: string;
  completedAt?: string;
  /** Busy time: the union of the vertex's run intervals (rawjson) or the `DONE 0.1s` figure (plain). */
  durationMs?: number;
  /** Progress group id (rawjson); vertices of one `COPY --link` share it. */
  progressGroup?: string;
  /** The group's display name, e.g. "[stage-1 1/3] COPY --link --from=builder /a /b". */
  progressGroupName?: string;
  /** Input vertex digests (rawjson). */
  inputs?: string[];
  /** What the step printed (a RUN's output), its last STEP_LOG_LIMIT characters. */
  log?: string;
  /** Not a Dockerfile instruction: "[internal] ...", "[auth] ...", "[context x] ...", exporting, pushing, cache import/export. */
  internal: boolean;
}

export type ProgressFormat = "rawjson" | "plain";

/** How much of a step's output is kept: the end, where errors are. */
const STEP_LOG_LIMIT = 8 * 1024;

export function appendLog(step: { log?: string }, text: string): void {
  const log = (step.log ?? "") + text;
  step.log = log.length > STEP_LOG_LIMIT ? log.slice(-STEP_LOG_LIMIT) : log;
}

/** A progress stream read into steps. */
/** Assembles a parse result; the build's error is the last `error:` line among the non-progress lines. */
export function parsedProgress(
  format: ProgressFormat,
  steps: StepResult[],
  lines: Pick<ParsedProgress, "buildWarnings" | "otherLines" | "parseWarnings">,
): ParsedProgress {
  const error = lastErrorLine(lines.otherLines);
  return { format, steps, ...lines, ...(error !== undefined ? { error } : {}) };
}

export interface ParsedProgress {
  format: ProgressFormat;
  steps: StepResult[];
  /** The build's final error (`error: failed to solve: ...` without `error: `), if any. */
  error?: string;
  /** Build warnings the frontend reported (lint checks etc.), as short text. */
  buildWarnings: string[];
  /** Lines that are not progress (Dockerfile excerpts of errors, client log lines). */
  otherLines: string[];
  /** Problems reading the stream (unparseable JSON, truncated objects). Never fatal. */
  parseWarnings: string[];
}

const STEP_PREFIX = /^\[(?:(?<label>[^\]]*?) )?(?<index>\d+)\/(?<count>\d+)\] (?<instruction>.*)$/s;

/** The parts of a vertex name: `[linux/amd64 builder 2/3] RUN x` → platform, stage, 2, 3, "RUN x". */
export function describeVertexName(name: string): Pick<StepResult, "instruction" | "stage" | "platform" | "stepIndex" | "stepCount" | "internal"> {
  const m = STEP_PREFIX.exec(name);
  if (!m?.groups) return { internal: true };
  const { label, index, count, instruction } = m.groups;
  const out: ReturnType<typeof describeVertexName> = {
    instruction,
    stepIndex: Number(index),
    stepCount: Number(count),
    internal: false,
  };
  if (label) {
    const words = label.split(" ");
    if (words.length > 1 && words[0]!.includes("/")) {
      out.platform = words[0];
      out.stage = words.slice(1).join(" ");
    } else if (words.length === 1 && words[0]!.includes("/")) {
      out.platform = words[0];
    } else {
      out.stage = label;
    }
  }
  return out;
}

/**
 * Milliseconds since the epoch of an RFC 3339 timestamp, keeping the sub-millisecond part
 * that Date.parse drops (BuildKit timestamps have nanoseconds). NaN when unparseable.
 */
export function timestampMs(ts: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(ts);
  if (!m) return Date.parse(ts);
  const whole = Date.parse(m[1]! + m[3]!);
  const fraction = m[2] ? Number(`0.${m[2]}`) * 1000 : 0;
  return whole + fraction;
}

/** The last `error: ...` line of buildctl's stderr, without the prefix. */
export function lastErrorLine(lines: readonly string[]): string | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (line.startsWith("error: ")) return line.slice("error: ".length);
  }
  return undefined;
}

/**
 * Collapse each progress group (the two vertices of a `COPY --link`) into one step named
 * after the group, the way the plain printer shows it: cached iff every member is cached,
 * the first member error wins, times span all members. Steps without a group pass through.
 */
export function collapseProgressGroups(steps: readonly StepResult[]): StepResult[] {
  const out: StepResult[] = [];
  const groups = new Map<string, StepResult>();
  for (const step of steps) {
    if (!step.progressGroup) {
      out.push(step);
      continue;
    }
    const group = groups.get(step.progressGroup);
    if (!group) {
      const name = step.progressGroupName ?? step.name;
      const merged: StepResult = { ...step, name, ...describeVertexName(name) };
      groups.set(step.progressGroup, merged);
      out.push(merged);
      continue;
    }
    group.cached = group.cached && step.cached;
    group.error ??= step.error;
    if (step.log) appendLog(group, step.log);
    if (step.canceled) group.canceled = true;
    if (step.startedAt && (!group.startedAt || timestampMs(step.startedAt) < timestampMs(group.startedAt))) {
      group.startedAt = step.startedAt;
    }
    if (step.completedAt && (!group.completedAt || timestampMs(step.completedAt) > timestampMs(group.completedAt))) {
      group.completedAt = step.completedAt;
    }
    if (step.durationMs !== undefined) group.durationMs = (group.durationMs ?? 0) + step.durationMs;
    group.inputs = [...new Set([...(group.inputs ?? []), ...(step.inputs ?? [])])];
  }
  return out;
}
