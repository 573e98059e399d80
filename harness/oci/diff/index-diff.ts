import { platformString } from "../content-store.ts";
import { ATTESTATION_MANIFEST, type Descriptor, type Index, REFERENCE_TYPE_ANNOTATION } from "../types.ts";
import { documentCause } from "./document-cause.ts";
import type { Findings } from "./findings.ts";
import { boundValue, diffJson, formatPath, serialisationCause } from "./json-diff.ts";
import type { Cause, ExplainLimits, IndexEntryComparison } from "./types.ts";

/** Annotation on an attestation manifest's index entry naming the manifest it attests. */
const REFERENCE_DIGEST_ANNOTATION = "vnd.docker.reference.digest";

export interface IndexSide {
  index: Index;
  mediaType: string;
  bytes: Buffer;
  /** The platform manifest the explanation follows on this side. */
  followed?: string;
}

interface KeyedEntry {
  key: string;
  kind: IndexEntryComparison["kind"];
  descriptor: Descriptor;
}

/** Index entries keyed so the two sides match: by platform, attestations by the platform they attest. */
function keyEntries(index: Index): KeyedEntry[] {
  const platformOf = new Map(index.manifests.filter((d) => d.platform).map((d) => [d.digest, platformString(d.platform!)]));
  const keyed: KeyedEntry[] = [];
  const taken = new Set<string>();
  for (const [i, d] of index.manifests.entries()) {
    const attestation = d.annotations?.[REFERENCE_TYPE_ANNOTATION] === ATTESTATION_MANIFEST;
    const attested = attestation ? platformOf.get(d.annotations?.[REFERENCE_DIGEST_ANNOTATION] ?? "") : undefined;
    const kind = attestation ? "attestation" : d.platform ? "platform" : "other";
    let key = attestation ? (attested ? `attestation of ${attested}` : `attestation ${i}`) : d.platform ? platformString(d.platform) : `entry ${i}`;
    for (let n = 2; taken.has(key); n++) key = `${key.replace(/ #\d+$/, "")} #${n}`;
    taken.add(key);
    keyed.push({ key, kind, descriptor: d });
  }
  return keyed;
}

const PRESENCE_CAUSE: Record<IndexEntryComparison["kind"], Cause> = { platform: "platform", attestation: "build-info", other: "other" };

/**
 * Which entries of two indexes differ: platforms present on one side, attestation
 * manifests, entry annotations and media types, order; and the index's own fields. The
 * followed platform manifest is compared at the next level, so its digest is not a finding.
 */
export function compareIndexes(a: IndexSide, b: IndexSide, findings: Findings, limits: ExplainLimits): IndexEntryComparison[] {
  const before = findings.count;
  const bound = (v: unknown) => boundValue(v, limits.maxValueChars);
  const { manifests: _ma, mediaType: _ta, ...restA } = a.index;
  const { manifests: _mb, mediaType: _tb, ...restB } = b.index;
  for (const change of diffJson({ ...restA, mediaType: a.mediaType }, { ...restB, mediaType: b.mediaType })) {
    findings.add({
      level: "index",
      cause: documentCause(change.path),
      change: change.change,
      subject: formatPath(change.path),
      path: change.path,
      ...(change.before !== undefined ? { before: bound(change.before) } : {}),
      ...(change.after !== undefined ? { after: bound(change.after) } : {}),
    });
  }

  const left = keyEntries(a.index);
  const right = keyEntries(b.index);
  const rightByKey = new Map(right.map((e) => [e.key, e]));
  const leftByKey = new Map(left.map((e) => [e.key, e]));
  const comparisons: IndexEntryComparison[] = [];
  for (const e of left) {
    const other = rightByKey.get(e.key);
    const followed = e.descriptor.digest === a.followed || (other !== undefined && other.descriptor.digest === b.followed);
    comparisons.push({ key: e.key, kind: e.kind, a: e.descriptor.digest, ...(other ? { b: other.descriptor.digest } : {}), followed });
    const subject = `manifests[${e.key}]`;
    if (!other) {
      findings.add({ level: "index", cause: PRESENCE_CAUSE[e.kind], change: "removed", subject, before: bound(e.descriptor) });
      continue;
    }
    for (const change of diffJson(entryFields(e), entryFields(other))) {
      const path = ["manifests", e.key, ...change.path];
      findings.add({
        level: "index",
        cause: documentCause(change.path),
        change: change.change,
        subject: formatPath(path),
        path,
        ...(change.before !== undefined ? { before: bound(change.before) } : {}),
        ...(change.after !== undefined ? { after: bound(change.after) } : {}),
      });
    }
    if (e.descriptor.digest !== other.descriptor.digest && !followed) {
      findings.add({
        level: "index",
        cause: e.kind === "attestation" ? "build-info" : "other",
        change: "changed",
        subject,
        before: e.descriptor.digest,
        after: other.descriptor.digest,
        note: e.kind === "attestation" ? attestationNote(e, other, a, b) : "not followed: explain this platform to see why",
      });
    }
  }
  for (const e of right) {
    if (leftByKey.has(e.key)) continue;
    comparisons.push({ key: e.key, kind: e.kind, b: e.descriptor.digest, followed: e.descriptor.digest === b.followed });
    findings.add({ level: "index", cause: PRESENCE_CAUSE[e.kind], change: "added", subject: `manifests[${e.key}]`, after: bound(e.descriptor) });
  }

  const commonLeft = left.filter((e) => rightByKey.has(e.key)).map((e) => e.key);
  const commonRight = right.filter((e) => leftByKey.has(e.key)).map((e) => e.key);
  if (commonLeft.some((k, i) => commonRight[i] !== k)) {
    findings.add({ level: "index", cause: "ordering", change: "reordered", subject: "manifests", before: commonLeft, after: commonRight });
  }
  if (findings.count === before && !a.bytes.equals(b.bytes) && diffJson(a.index, b.index).length === 0) {
    findings.add({
      level: "index",
      cause: serialisationCause(a.index, b.index),
      change: "changed",
      subject: "(document)",
      note: "the same JSON, serialised differently (key order, whitespace or escaping)",
    });
  }
  return comparisons;
}

/** An entry's fields but its digest and size (a digest that differs is followed or reported on its own). */
function entryFields(e: KeyedEntry): Record<string, unknown> {
  const { digest: _d, size: _s, annotations, ...rest } = e.descriptor;
  if (!annotations) return rest;
  // An attestation names the manifest it attests: that digest differs whenever the manifest does.
  const { [REFERENCE_DIGEST_ANNOTATION]: _ref, ...others } = annotations;
  return { ...rest, annotations: e.kind === "attestation" ? others : annotations };
}

/** Whether an attestation differs along with the manifest it attests, or on its own (e.g. provenance build times). */
function attestationNote(left: KeyedEntry, right: KeyedEntry, a: IndexSide, b: IndexSide): string {
  const attested = (e: KeyedEntry) => e.descriptor.annotations?.[REFERENCE_DIGEST_ANNOTATION];
  const sameSubject = attested(left) !== undefined && attested(left) === attested(right);
  const followedSubject = attested(left) === a.followed && attested(right) === b.followed;
  if (sameSubject) return "the attestation manifest differs (not followed) although the manifest it attests is the same: its statements differ";
  if (followedSubject) return "the attestation manifest differs (not followed); it attests the followed manifest, which differs too";
  return "the attestation manifest differs (not followed)";
}
