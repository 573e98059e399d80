/**
 * BuildKit's control.StatusResponse (api/services/control/control.proto) decoded from its
 * protobuf bytes into the JSON shape of client.SolveStatus, which `buildctl --progress=rawjson`
 * prints, so both paths fold into steps the same way. dockerd sends these bytes in the
 * `aux` of `moby.buildkit.trace` messages of a BuildKit build.
 *
 * Field numbers are those of every release from v0.8 (which had no warnings and no progress
 * groups) to today; fields a version lacks are simply absent.
 */
import { asBool, asBytes, asInt, asString, readFields } from "./protobuf-wire.ts";
import type { RawSolveStatus, RawVertex, RawVertexLog, RawVertexStatus, RawVertexWarning } from "./rawjson.ts";

/** google.protobuf.Timestamp → RFC 3339 with nanoseconds, as Go's time.Time marshals to JSON (UTC). */
export function decodeTimestamp(bytes: Uint8Array): string {
  let seconds = 0;
  let nanos = 0;
  for (const f of readFields(bytes)) {
    if (f.field === 1) seconds = asInt(f);
    else if (f.field === 2) nanos = asInt(f);
  }
  const whole = new Date(seconds * 1000).toISOString().slice(0, 19);
  if (nanos === 0) return `${whole}Z`;
  return `${whole}.${String(nanos).padStart(9, "0").replace(/0+$/, "")}Z`;
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

function decodeProgressGroup(bytes: Uint8Array): { id: string; name?: string; weak?: boolean } {
  const group: { id: string; name?: string; weak?: boolean } = { id: "" };
  for (const f of readFields(bytes)) {
    if (f.field === 1) group.id = asString(f);
    else if (f.field === 2) group.name = asString(f);
    else if (f.field === 3) group.weak = asBool(f);
  }
  return group;
}

function decodeVertex(bytes: Uint8Array): RawVertex {
  const v: RawVertex = { digest: "" };
  for (const f of readFields(bytes)) {
    switch (f.field) {
      case 1:
        v.digest = asString(f);
        break;
      case 2:
        v.inputs = [...(v.inputs ?? []), asString(f)];
        break;
      case 3:
        v.name = asString(f);
        break;
      case 4:
        v.cached = asBool(f);
        break;
      case 5:
        v.started = decodeTimestamp(asBytes(f));
        break;
      case 6:
        v.completed = decodeTimestamp(asBytes(f));
        break;
      case 7:
        v.error = asString(f);
        break;
      case 8:
        v.progressGroup = decodeProgressGroup(asBytes(f));
        break;
      default:
        break;
    }
  }
  return v;
}

function decodeVertexStatus(bytes: Uint8Array): RawVertexStatus {
  const s: RawVertexStatus = { id: "", vertex: "" };
  for (const f of readFields(bytes)) {
    switch (f.field) {
      case 1:
        s.id = asString(f);
        break;
      case 2:
        s.vertex = asString(f);
        break;
      case 3:
        s.name = asString(f);
        break;
      case 4:
        s.current = asInt(f);
        break;
      case 5:
        s.total = asInt(f);
        break;
      case 6:
        s.timestamp = decodeTimestamp(asBytes(f));
        break;
      case 7:
        s.started = decodeTimestamp(asBytes(f));
        break;
      case 8:
        s.completed = decodeTimestamp(asBytes(f));
        break;
      default:
        break;
    }
  }
  return s;
}

function decodeVertexLog(bytes: Uint8Array): RawVertexLog {
  const l: RawVertexLog = { vertex: "", stream: 0, data: "", timestamp: "" };
  for (const f of readFields(bytes)) {
    if (f.field === 1) l.vertex = asString(f);
    else if (f.field === 2) l.timestamp = decodeTimestamp(asBytes(f));
    else if (f.field === 3) l.stream = asInt(f);
    else if (f.field === 4) l.data = base64(asBytes(f));
  }
  return l;
}

function decodeVertexWarning(bytes: Uint8Array): RawVertexWarning {
  const w: RawVertexWarning = { vertex: "" };
  for (const f of readFields(bytes)) {
    if (f.field === 1) w.vertex = asString(f);
    else if (f.field === 2) w.level = asInt(f);
    else if (f.field === 3) w.short = base64(asBytes(f));
    else if (f.field === 4) w.detail = [...(w.detail ?? []), base64(asBytes(f))];
    else if (f.field === 5) w.url = asString(f);
  }
  return w;
}

/** Decodes one StatusResponse. Throws WireFormatError on bytes that are not one. */
export function decodeStatusResponse(bytes: Uint8Array): RawSolveStatus {
  const vertexes: RawVertex[] = [];
  const statuses: RawVertexStatus[] = [];
  const logs: RawVertexLog[] = [];
  const warnings: RawVertexWarning[] = [];
  for (const f of readFields(bytes)) {
    if (f.field === 1) vertexes.push(decodeVertex(asBytes(f)));
    else if (f.field === 2) statuses.push(decodeVertexStatus(asBytes(f)));
    else if (f.field === 3) logs.push(decodeVertexLog(asBytes(f)));
    else if (f.field === 4) warnings.push(decodeVertexWarning(asBytes(f)));
  }
  return {
    ...(vertexes.length > 0 ? { vertexes } : {}),
    ...(statuses.length > 0 ? { statuses } : {}),
    ...(logs.length > 0 ? { logs } : {}),
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}
