/**
 * Read `buildctl --progress=rawjson` output (client ≥ v0.13.0) into steps.
 *
 * Each JSON object is a SolveStatus (github.com/moby/buildkit/client.SolveStatus). Updates for
 * one vertex arrive in several objects keyed by digest; fields absent from an update keep
 * their earlier value, except `cached`, which is sticky here: a vertex is a cache hit if ANY
 * update said so (imported-cache hits are flagged first and later updates drop the flag).
 */
import { scanJsonStream } from "./json-stream.ts";
import { appendLog, describeVertexName, type ParsedProgress, parsedProgress, type StepResult, timestampMs } from "./step.ts";

/** client.Vertex as JSON. */
export interface RawVertex {
  digest: string;
  inputs?: string[];
  name?: string;
  started?: string;
  completed?: string;
  cached?: boolean;
  error?: string;
  progressGroup?: { id: string; name?: string; weak?: boolean };
}

export interface RawVertexStatus {
  id: string;
  vertex: string;
  name?: string;
  total?: number;
  current?: number;
  timestamp?: string;
  started?: string;
  completed?: string;
}

export interface RawVertexLog {
  vertex: string;
  stream: number;
  /** base64 ([]byte in Go's JSON). */
  data: string;
  timestamp: string;
}

export interface RawVertexWarning {
  vertex: string;
  level?: number;
  /** base64. */
  short?: string;
  detail?: string[];
  url?: string;
}

/** client.SolveStatus as JSON. */
export interface RawSolveStatus {
  vertexes?: RawVertex[];
  statuses?: RawVertexStatus[];
  logs?: RawVertexLog[];
  warnings?: RawVertexWarning[];
}

const SOLVE_STATUS_KEYS = ["vertexes", "statuses", "logs", "warnings"] as const;

function isSolveStatus(value: unknown): value is RawSolveStatus {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((k) => (SOLVE_STATUS_KEYS as readonly string[]).includes(k));
}

interface VertexState {
  digest: string;
  name: string;
  inputs?: string[];
  cached: boolean;
  error?: string;
  progressGroup?: { id: string; name?: string };
  /** started → completed (undefined while running); keyed like the progress UI does. */
  intervals: Map<string, string | undefined>;
  log?: string;
}

function applyVertex(state: VertexState, v: RawVertex): void {
  if (v.name) state.name = v.name;
  if (v.inputs && v.inputs.length > 0) state.inputs = v.inputs;
  if (v.cached) state.cached = true;
  if (v.error) state.error = v.error;
  if (v.progressGroup?.id) state.progressGroup = { id: v.progressGroup.id, name: v.progressGroup.name };
  if (v.started) {
    const prev = state.intervals.get(v.started);
    state.intervals.set(v.started, v.completed ?? prev);
  }
}

/** Total length of the union of [start, end] intervals, in ms. */
function busyMs(intervals: Map<string, string | undefined>): number | undefined {
  const spans = [...intervals]
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([s, c]) => [timestampMs(s), timestampMs(c)] as const)
    .filter(([s, c]) => Number.isFinite(s) && Number.isFinite(c))
    .sort((a, b) => a[0] - b[0]);
  if (spans.length === 0) return undefined;
  let total = 0;
  let [curStart, curEnd] = spans[0]!;
  for (const [s, c] of spans.slice(1)) {
    if (s <= curEnd) curEnd = Math.max(curEnd, c);
    else {
      total += curEnd - curStart;
      [curStart, curEnd] = [s, c];
    }
  }
  return total + (curEnd - curStart);
}

function toStep(state: VertexState): StepResult {
  // Vertices of a progress group (COPY --link: the copy and its "LINK COPY ..." merge) take
  // the instruction from the group's name, which is the Dockerfile step as the user wrote it.
  const groupName = state.progressGroup?.name;
  const described = groupName ? describeVertexName(groupName) : undefined;
  const step: StepResult = {
    vertex: state.digest,
    name: state.name,
    ...(described && !described.internal ? described : describeVertexName(state.name)),
    cached: state.cached,
  };
  if (state.error) {
    step.error = state.error;
    if (state.error.endsWith("context canceled")) step.canceled = true;
  }
  const starts = [...state.intervals.keys()].sort((a, b) => timestampMs(a) - timestampMs(b));
  const ends = [...state.intervals.values()].filter((c): c is string => c !== undefined).sort((a, b) => timestampMs(a) - timestampMs(b));
  if (starts.length > 0) step.startedAt = starts[0];
  if (ends.length > 0) step.completedAt = ends[ends.length - 1];
  const busy = busyMs(state.intervals);
  if (busy !== undefined) step.durationMs = Math.round(busy * 1000) / 1000;
  if (state.progressGroup) {
    step.progressGroup = state.progressGroup.id;
    if (state.progressGroup.name) step.progressGroupName = state.progressGroup.name;
  }
  if (state.inputs) step.inputs = state.inputs;
  if (state.log) step.log = state.log;
  return step;
}

function decodeBase64(data: string | undefined): string {
  return data ? Buffer.from(data, "base64").toString("utf8") : "";
}

/**
 * Folds SolveStatus updates, in the order they arrived, into one step per vertex (in order
 * of first appearance). Shared by the rawjson reader and dockerd's `moby.buildkit.trace`
 * messages, which carry the same updates as protobuf.
 */
export class SolveStatusSteps {
  private readonly vertices = new Map<string, VertexState>();
  readonly buildWarnings: string[] = [];
  readonly parseWarnings: string[] = [];

  /** `where` names the update in parse warnings, e.g. "line 12". */
  add(status: RawSolveStatus, where: string): void {
    for (const v of status.vertexes ?? []) {
      if (typeof v?.digest !== "string" || v.digest === "") {
        this.parseWarnings.push(`${where}: vertex without digest; ignored`);
        continue;
      }
      let state = this.vertices.get(v.digest);
      if (!state) {
        state = { digest: v.digest, name: v.name ?? v.digest, cached: false, intervals: new Map() };
        this.vertices.set(v.digest, state);
      }
      applyVertex(state, v);
    }
    for (const l of status.logs ?? []) {
      const state = typeof l?.vertex === "string" ? this.vertices.get(l.vertex) : undefined;
      if (state) appendLog(state, decodeBase64(l.data));
    }
    for (const w of status.warnings ?? []) {
      const short = decodeBase64(w.short).trim();
      if (short) this.buildWarnings.push(short);
    }
  }

  steps(): StepResult[] {
    return [...this.vertices.values()].map(toStep);
  }
}

/** Steps in order of first appearance of each vertex. */
export function parseRawJsonProgress(text: string): ParsedProgress {
  const { items, warnings } = scanJsonStream(text);
  const folded = new SolveStatusSteps();
  const otherLines: string[] = [];
  const nonStatus: string[] = [];

  for (const item of items) {
    if (item.kind === "text") {
      otherLines.push(item.text);
      continue;
    }
    if (!isSolveStatus(item.value)) {
      nonStatus.push(`line ${item.line}: JSON value is not a SolveStatus; ignored`);
      otherLines.push(JSON.stringify(item.value));
      continue;
    }
    folded.add(item.value, `line ${item.line}`);
  }
  const parseWarnings = [...warnings, ...nonStatus, ...folded.parseWarnings];
  if (otherLines.length > 0) {
    parseWarnings.push(`${otherLines.length} non-JSON line(s) in the rawjson stream (first: ${JSON.stringify(otherLines[0])})`);
  }

  return parsedProgress("rawjson", folded.steps(), { buildWarnings: folded.buildWarnings, otherLines, parseWarnings });
}
