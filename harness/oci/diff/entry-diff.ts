import type { LayerEntry } from "../layer-entries.ts";
import type { Cause, Difference, EntryField } from "./types.ts";

const FIELD_CAUSE: Record<EntryField, Cause> = {
  type: "content",
  content: "content",
  size: "content",
  linkname: "content",
  mode: "permission",
  uid: "ownership",
  gid: "ownership",
  mtime: "timestamp",
};

/** The mode as people write it, e.g. "0755" or "4755". */
function octalMode(mode: number): string {
  return mode.toString(8).padStart(4, "0");
}

/**
 * The entries of one layer's two versions, matched by name: added, removed, and for each
 * entry in both, every field that differs. Returns how many differences it reported.
 */
export function compareEntries(layer: number, a: readonly LayerEntry[], b: readonly LayerEntry[], report: (d: Difference) => void): number {
  let found = 0;
  const emit = (d: Difference) => {
    found++;
    report(d);
  };
  const left = keyed(a);
  const right = keyed(b);
  for (const [key, entry] of left) {
    const other = right.get(key);
    if (!other) emit(presence(layer, entry, "removed"));
    else for (const d of compareEntry(layer, entry, other)) emit(d);
  }
  for (const [key, entry] of right) if (!left.has(key)) emit(presence(layer, entry, "added"));
  const order = orderChange(layer, [...left.keys()], [...right.keys()], left);
  if (order) emit(order);
  return found;
}

/** Entries by name; a name written twice in one tar (the later one wins on extraction) gets "#2". */
function keyed(entries: readonly LayerEntry[]): Map<string, LayerEntry> {
  const map = new Map<string, LayerEntry>();
  for (const entry of entries) {
    let key = entry.name;
    for (let n = 2; map.has(key); n++) key = `${entry.name}#${n}`;
    map.set(key, entry);
  }
  return map;
}

function presence(layer: number, entry: LayerEntry, change: "added" | "removed"): Difference {
  const summary = { type: entry.type, mode: octalMode(entry.mode), uid: entry.uid, gid: entry.gid, mtime: entry.mtime, size: entry.size };
  return {
    level: "layer",
    cause: "content",
    change,
    subject: entry.name,
    layer,
    entry: entry.name,
    ...(entry.whiteout ? { whiteout: entry.whiteout, note: whiteoutNote(entry.whiteout) } : {}),
    ...(change === "added" ? { after: summary } : { before: summary }),
  };
}

function whiteoutNote(w: NonNullable<LayerEntry["whiteout"]>): string {
  return w.kind === "opaque" ? `opaque whiteout: hides everything below in ${w.dir || "/"}` : `whiteout: deletes ${w.target}`;
}

function compareEntry(layer: number, a: LayerEntry, b: LayerEntry): Difference[] {
  const out: Difference[] = [];
  const whiteout = a.whiteout ?? b.whiteout;
  const field = (f: EntryField, before: unknown, after: unknown, note?: string) => {
    const notes = [note, whiteout ? whiteoutNote(whiteout) : undefined].filter(Boolean).join("; ");
    out.push({
      level: "layer",
      cause: FIELD_CAUSE[f],
      change: "changed",
      subject: a.name,
      layer,
      entry: a.name,
      field: f,
      before,
      after,
      ...(whiteout ? { whiteout } : {}),
      ...(notes ? { note: notes } : {}),
    });
  };
  if (a.type !== b.type) field("type", a.type, b.type);
  if (a.mode !== b.mode) field("mode", octalMode(a.mode), octalMode(b.mode));
  if (a.uid !== b.uid) field("uid", a.uid, b.uid);
  if (a.gid !== b.gid) field("gid", a.gid, b.gid);
  if (a.mtime !== b.mtime) field("mtime", a.mtime, b.mtime);
  if (a.type !== b.type) return out;
  if (a.contentDigest !== b.contentDigest) field("content", { size: a.size, digest: a.contentDigest }, { size: b.size, digest: b.contentDigest });
  else if (a.size !== b.size) field("size", a.size, b.size);
  if ((a.linkname ?? null) !== (b.linkname ?? null)) field("linkname", a.linkname ?? null, b.linkname ?? null, `${a.type} target`);
  return out;
}

/** One difference when the entries both layers have are written in another order. */
function orderChange(layer: number, keysA: string[], keysB: string[], left: ReadonlyMap<string, LayerEntry>): Difference | undefined {
  const inB = new Set(keysB);
  const inA = new Set(keysA);
  const commonA = keysA.filter((k) => inB.has(k));
  const commonB = keysB.filter((k) => inA.has(k));
  const first = commonA.findIndex((k, i) => commonB[i] !== k);
  if (first === -1) return undefined;
  const name = left.get(commonA[first]!)!.name;
  return {
    level: "layer",
    cause: "ordering",
    change: "reordered",
    subject: "entries",
    layer,
    before: commonA.slice(first, first + 3),
    after: commonB.slice(first, first + 3),
    note: `${commonA.filter((k, i) => commonB[i] !== k).length} of ${commonA.length} common entries are at other positions; first: ${name}`,
  };
}
