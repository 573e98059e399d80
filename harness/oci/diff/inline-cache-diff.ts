import { type CacheInput, type CacheRecord, decodeInlineCache, INLINE_CACHE_KEY, type InlineCacheConfig, summarizeInlineCache } from "../inline-cache.ts";
import type { ImageConfig } from "../types.ts";
import { comparePresence, decodeKey } from "./buildkit-key.ts";
import type { Findings } from "./findings.ts";
import { boundValue, diffJson, formatPath } from "./json-diff.ts";
import type { Difference, ExplainLimits } from "./types.ts";

/**
 * `moby.buildkit.cache.v0` compared as cache records rather than as a base64 string.
 * Records are matched by their cache key digest, and links (indexes into the records
 * array) are compared by the record they point at, so a record that lost its `chains`,
 * a changed `createdAt` and links renumbered because records moved are each named as such.
 */
export function compareInlineCache(a: ImageConfig, b: ImageConfig, findings: Findings, limits: ExplainLimits): void {
  const both = comparePresence(
    INLINE_CACHE_KEY,
    "cache-metadata",
    decodeKey(a, INLINE_CACHE_KEY, decodeInlineCache),
    decodeKey(b, INLINE_CACHE_KEY, decodeInlineCache),
    { a: a[INLINE_CACHE_KEY], b: b[INLINE_CACHE_KEY] },
    findings,
    limits,
    summarizeInlineCache,
  );
  if (both) compareCaches(both.a, both.b, findings, limits);
}

interface RecordView {
  key: string;
  record: CacheRecord;
}

/** Records keyed by digest; a digest listed twice gets "#2", "#3"… so every record is matched once. */
function viewsOf(cache: InlineCacheConfig): { byKey: Map<string, RecordView>; keys: string[] } {
  const byKey = new Map<string, RecordView>();
  const keys: string[] = [];
  const seen = new Map<string, number>();
  for (const record of cache.records) {
    const n = (seen.get(record.digest) ?? 0) + 1;
    seen.set(record.digest, n);
    const key = n === 1 ? record.digest : `${record.digest}#${n}`;
    byKey.set(key, { key, record });
    keys.push(key);
  }
  return { byKey, keys };
}

function shortDigest(digest: string): string {
  const [hex, suffix] = digest.replace(/^sha256:/, "").split("#");
  return `${hex!.slice(0, 12)}${suffix ? `#${suffix}` : ""}`;
}

function compareCaches(a: InlineCacheConfig, b: InlineCacheConfig, findings: Findings, limits: ExplainLimits): void {
  const left = viewsOf(a);
  const right = viewsOf(b);
  const bound = (v: unknown) => boundValue(v, limits.maxValueChars);
  const recordSubject = (key: string) => `${INLINE_CACHE_KEY} records[${shortDigest(key)}]`;
  const add = (key: string, d: Omit<Difference, "level" | "record">) => findings.add({ level: "config", record: key.split("#")[0]!, ...d });

  let addedOrRemoved = 0;
  for (const key of left.keys) {
    if (right.byKey.has(key)) continue;
    addedOrRemoved++;
    add(key, { cause: "cache-metadata", change: "removed", subject: recordSubject(key), before: bound(left.byKey.get(key)!.record) });
  }
  for (const key of right.keys) {
    if (left.byKey.has(key)) continue;
    addedOrRemoved++;
    add(key, { cause: "cache-metadata", change: "added", subject: recordSubject(key), after: bound(right.byKey.get(key)!.record) });
  }

  let renumbered = 0;
  for (const key of left.keys) {
    const other = right.byKey.get(key);
    if (!other) continue;
    const ra = left.byKey.get(key)!.record;
    const rb = other.record;
    const subject = recordSubject(key);
    for (const d of compareResults(ra.layers ?? [], rb.layers ?? [], (r) => String(r.layer), "layers", "layer results", subject, bound)) add(key, d);
    for (const d of compareResults(ra.chains ?? [], rb.chains ?? [], (c) => c.layers.join(","), "chains", "chains", subject, bound)) add(key, d);
    const inputs = compareInputs(ra.inputs ?? [], rb.inputs ?? [], a.records, b.records);
    renumbered += inputs.renumbered;
    for (const slot of inputs.changed) {
      add(key, {
        cause: "cache-metadata",
        change: "changed",
        subject: `${subject}.inputs${slot.index === undefined ? "" : `[${slot.index}]`}`,
        before: bound(slot.before),
        after: bound(slot.after),
      });
    }
  }

  const commonLeft = left.keys.filter((k) => right.byKey.has(k));
  const commonRight = right.keys.filter((k) => left.byKey.has(k));
  const moved = commonLeft.filter((k, i) => commonRight[i] !== k).length;
  if (moved > 0) {
    findings.add({
      level: "config",
      cause: "ordering",
      change: "reordered",
      subject: `${INLINE_CACHE_KEY} records`,
      note: `${moved} of ${commonLeft.length} records are at other positions`,
    });
  }
  if (renumbered > 0) {
    findings.add({
      level: "config",
      // Pure renumbering is an order change; with records added or removed it follows from those.
      cause: moved > 0 && addedOrRemoved === 0 ? "ordering" : "cache-metadata",
      change: "changed",
      subject: `${INLINE_CACHE_KEY} links`,
      note: `${renumbered} link${renumbered === 1 ? "" : "s"} renumbered: they point at the same records, at other positions`,
    });
  }
  if (a.layers !== undefined || b.layers !== undefined) {
    for (const change of diffJson(a.layers ?? [], b.layers ?? [])) {
      const path = [INLINE_CACHE_KEY, "layers", ...change.path];
      findings.add({
        level: "config",
        cause: change.path.includes("createdAt") ? "timestamp" : "cache-metadata",
        change: change.change,
        subject: formatPath(path),
        path,
        ...(change.before !== undefined ? { before: bound(change.before) } : {}),
        ...(change.after !== undefined ? { after: bound(change.after) } : {}),
      });
    }
  }
}

/** Results (`layers`) or chained results (`chains`) of one record, matched by the layers they name. */
function compareResults<T extends { createdAt?: string }>(
  a: readonly T[],
  b: readonly T[],
  keyOf: (r: T) => string,
  field: "layers" | "chains",
  what: string,
  subject: string,
  bound: (v: unknown) => unknown,
): Omit<Difference, "level" | "record">[] {
  const at = `${subject}.${field}`;
  if (a.length > 0 && b.length === 0) return [{ cause: "cache-metadata", change: "removed", subject: at, before: bound(a), note: `${what} vanished` }];
  if (a.length === 0 && b.length > 0) return [{ cause: "cache-metadata", change: "added", subject: at, after: bound(b), note: `${what} appeared` }];
  const out: Omit<Difference, "level" | "record">[] = [];
  const right = new Map(b.map((r) => [keyOf(r), r]));
  const leftKeys = new Set(a.map(keyOf));
  const label = (r: T) => `${at}[${field === "layers" ? "layer" : "layers"} ${keyOf(r)}]`;
  for (const r of a) {
    const other = right.get(keyOf(r));
    if (!other) out.push({ cause: "cache-metadata", change: "removed", subject: label(r), before: bound(r) });
    else if ((r.createdAt ?? null) !== (other.createdAt ?? null))
      out.push({ cause: "timestamp", change: "changed", subject: `${label(r)}.createdAt`, before: r.createdAt ?? null, after: other.createdAt ?? null });
  }
  for (const r of b) if (!leftKeys.has(keyOf(r))) out.push({ cause: "cache-metadata", change: "added", subject: label(r), after: bound(r) });
  return out;
}

interface ResolvedLink {
  selector?: string;
  record: string;
}

/** Inputs compared by the records their links point at; links that point at the same record under another number are only counted. */
function compareInputs(
  a: readonly CacheInput[][],
  b: readonly CacheInput[][],
  recordsA: readonly CacheRecord[],
  recordsB: readonly CacheRecord[],
): { changed: { index?: number; before: unknown; after: unknown }[]; renumbered: number } {
  const resolve = (links: readonly CacheInput[], records: readonly CacheRecord[]): ResolvedLink[] =>
    links.map((l) => ({ ...(l.selector ? { selector: l.selector } : {}), record: records[l.link]?.digest ?? `(no record ${l.link})` }));
  const text = (links: ResolvedLink[]) => links.map((l) => `${l.selector ?? ""}>${l.record}`).sort();
  const show = (links: ResolvedLink[]) => links.map((l) => ({ ...l, record: shortDigest(l.record) }));
  if (a.length !== b.length) {
    return {
      changed: [{ before: a.map((slot) => show(resolve(slot, recordsA))), after: b.map((slot) => show(resolve(slot, recordsB))) }],
      renumbered: 0,
    };
  }
  const changed: { index?: number; before: unknown; after: unknown }[] = [];
  let renumbered = 0;
  for (const [i, slotA] of a.entries()) {
    const slotB = b[i]!;
    const resolvedA = resolve(slotA, recordsA);
    const resolvedB = resolve(slotB, recordsB);
    if (JSON.stringify(text(resolvedA)) !== JSON.stringify(text(resolvedB))) {
      changed.push({ index: i, before: show(resolvedA), after: show(resolvedB) });
      continue;
    }
    const numbersA = new Map(resolvedA.map((l, j) => [`${l.selector ?? ""}>${l.record}`, slotA[j]!.link]));
    renumbered += resolvedB.filter((l, j) => numbersA.get(`${l.selector ?? ""}>${l.record}`) !== slotB[j]!.link).length;
  }
  return { changed, renumbered };
}
