import { canonicalJson } from "../canonical-json.ts";
import type { Difference, Explanation, LevelStatus } from "./types.ts";

const SHOWN_CHARS = 120;

export function shortHex(digest: string): string {
  const colon = digest.indexOf(":");
  return colon === -1 ? digest : `${digest.slice(0, colon + 1)}${digest.slice(colon + 1, colon + 13)}`;
}

/** A value of a difference for a one-line display. */
export function formatValue(value: unknown, field?: Difference["field"]): string {
  if (value === undefined || value === null) return "(none)";
  if (field === "content" && typeof value === "object") {
    const { size, digest } = value as { size?: number; digest?: string };
    return `${size ?? "?"} bytes${digest ? ` ${shortHex(digest)}` : ""}`;
  }
  const text = typeof value === "string" ? value : canonicalJson(value);
  return text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS)}…` : text;
}

const MARKS: Record<Difference["change"], string> = { added: "+", removed: "-", changed: "~", reordered: "↕" };

export function changeMark(d: Difference): string {
  return MARKS[d.change];
}

/** "hello mtime", "history[1].created", "layers[2]". */
export function whereOf(d: Difference): string {
  return d.field ? `${d.subject} ${d.field}` : d.subject;
}

/** "a → b", "added: x", "removed: y", or "" when a note says everything. */
export function valuesOf(d: Difference): string {
  switch (d.change) {
    case "added":
      return d.after === undefined ? "" : formatValue(d.after, d.field);
    case "removed":
      return d.before === undefined ? "" : formatValue(d.before, d.field);
    case "changed":
    case "reordered":
      return d.before === undefined && d.after === undefined ? "" : `${formatValue(d.before, d.field)} → ${formatValue(d.after, d.field)}`;
  }
}

/** Differences grouped for display: index, manifest, config, then each layer. */
export function groups(e: Explanation): { title: string; differences: Difference[] }[] {
  const out = new Map<string, Difference[]>();
  const titleOf = (d: Difference) => (d.level === "layer" ? (d.layer !== undefined ? `layer ${d.layer}` : "layers") : d.level);
  for (const d of e.differences) {
    const title = titleOf(d);
    const list = out.get(title) ?? [];
    list.push(d);
    out.set(title, list);
  }
  return [...out].map(([title, differences]) => ({ title, differences }));
}

export function levelLine(status: LevelStatus, a?: string, b?: string): string {
  switch (status) {
    case "same":
      return `same${a ? ` ${shortHex(a)}` : ""}`;
    case "different":
      return `different${a && b ? ` ${shortHex(a)} → ${shortHex(b)}` : ""}`;
    case "absent":
      return "absent (no index on either side)";
    case "not-compared":
      return "not compared";
  }
}
