/**
 * The JSON message stream of POST /build with the BuildKit builder, read into steps.
 *
 * dockerd wraps BuildKit's progress: each SolveStatus update arrives as
 * `{"id":"moby.buildkit.trace","aux":"<base64 of a control.StatusResponse protobuf>"}`,
 * the built image as `{"id":"moby.image.id","aux":{"ID":"sha256:…"}}`, a failure as
 * `{"errorDetail":{"message":…},"error":…}`, and anything else as `{"stream":…}` text.
 * Per-step cache hits follow the rawjson rules (a vertex is cached if any update said so).
 */
import { scanJsonStream } from "../buildkit/progress/json-stream.ts";
import { SolveStatusSteps } from "../buildkit/progress/rawjson.ts";
import { decodeStatusResponse } from "../buildkit/progress/status-response.ts";
import type { StepResult } from "../buildkit/progress/step.ts";

const BUILDKIT_TRACE_ID = "moby.buildkit.trace";

export interface EngineBuildProgress {
  readonly steps: StepResult[];
  /** The image the build produced (sha256:…), absent when it failed. */
  readonly imageId?: string;
  /** The engine's error message for a failed build. */
  readonly error?: string;
  readonly buildWarnings: string[];
  /** `stream` texts and messages of other kinds, in order. */
  readonly messages: string[];
  /** Problems reading the stream; never fatal. */
  readonly parseWarnings: string[];
  /** How many `moby.buildkit.trace` updates were decoded. */
  readonly traceUpdates: number;
}

interface EngineMessage {
  id?: string;
  aux?: unknown;
  stream?: string;
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
}

export function parseEngineBuildStream(text: string): EngineBuildProgress {
  const { items, warnings } = scanJsonStream(text);
  const folded = new SolveStatusSteps();
  const parseWarnings = [...warnings];
  const messages: string[] = [];
  let imageId: string | undefined;
  let error: string | undefined;
  let traceUpdates = 0;
  for (const item of items) {
    if (item.kind === "text") {
      if (item.text.trim() !== "") parseWarnings.push(`line ${item.line}: not JSON: ${JSON.stringify(item.text.slice(0, 120))}`);
      continue;
    }
    const m = item.value as EngineMessage;
    if (m.id === BUILDKIT_TRACE_ID && typeof m.aux === "string") {
      try {
        folded.add(decodeStatusResponse(Buffer.from(m.aux, "base64")), `line ${item.line}`);
        traceUpdates++;
      } catch (err) {
        parseWarnings.push(`line ${item.line}: undecodable ${BUILDKIT_TRACE_ID}: ${(err as Error).message}`);
      }
      continue;
    }
    const auxId = typeof m.aux === "object" && m.aux !== null ? (m.aux as { ID?: unknown }).ID : undefined;
    if (typeof auxId === "string") {
      imageId = auxId;
      continue;
    }
    if (m.errorDetail || m.error) {
      error = m.errorDetail?.message ?? m.error;
      continue;
    }
    if (typeof m.stream === "string") messages.push(m.stream);
    else if (typeof m.status === "string") messages.push(m.status);
    else messages.push(JSON.stringify(m));
  }
  parseWarnings.push(...folded.parseWarnings);
  return {
    steps: folded.steps(),
    ...(imageId ? { imageId } : {}),
    ...(error !== undefined ? { error } : {}),
    buildWarnings: folded.buildWarnings,
    messages,
    parseWarnings,
    traceUpdates,
  };
}
