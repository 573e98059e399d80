import microdiff from "microdiff";
import { canonicalJson } from "../canonical-json.ts";
import type { Change } from "./types.ts";

export type JsonPath = (string | number)[];

export interface JsonChange {
  path: JsonPath;
  change: Change;
  before?: unknown;
  after?: unknown;
}

/**
 * Field-level differences between two parsed JSON documents. Arrays are compared index by
 * index, except that an array holding the same elements in another order is reported once,
 * as "reordered", instead of as a change at every index.
 */
export function diffJson(a: unknown, b: unknown): JsonChange[] {
  if (!isContainer(a) || !isContainer(b) || Array.isArray(a) !== Array.isArray(b)) {
    return canonicalJson(a ?? null) === canonicalJson(b ?? null) ? [] : [{ path: [], change: "changed", before: a, after: b }];
  }
  const changes: JsonChange[] = [];
  const reordered = new Map<string, JsonPath | null>();
  const reported = new Set<string>();
  for (const d of microdiff(a, b, { cyclesFix: false })) {
    const permuted = permutedAncestor(a, b, d.path, reordered);
    if (permuted) {
      const key = JSON.stringify(permuted);
      if (!reported.has(key)) {
        reported.add(key);
        changes.push({ path: permuted, change: "reordered", before: valueAt(a, permuted), after: valueAt(b, permuted) });
      }
      continue;
    }
    switch (d.type) {
      case "CREATE":
        changes.push({ path: d.path, change: "added", after: d.value });
        break;
      case "REMOVE":
        changes.push({ path: d.path, change: "removed", before: d.oldValue });
        break;
      case "CHANGE":
        changes.push({ path: d.path, change: "changed", before: d.oldValue, after: d.value });
        break;
    }
  }
  return changes;
}

/** The shortest ancestor of `path` (or `path` itself) that is an array holding the same elements on both sides in another order. */
function permutedAncestor(a: unknown, b: unknown, path: JsonPath, memo: Map<string, JsonPath | null>): JsonPath | undefined {
  for (let length = 0; length <= path.length; length++) {
    const prefix = path.slice(0, length);
    const key = JSON.stringify(prefix);
    let known = memo.get(key);
    if (known === undefined) {
      known = isPermutation(valueAt(a, prefix), valueAt(b, prefix)) ? prefix : null;
      memo.set(key, known);
    }
    if (known) return known;
  }
  return undefined;
}

function isPermutation(a: unknown, b: unknown): boolean {
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length || a.length < 2) return false;
  const left = a.map((v) => canonicalJson(v ?? null));
  const right = b.map((v) => canonicalJson(v ?? null));
  if (left.every((v, i) => v === right[i])) return false;
  return canonicalJson([...left].sort()) === canonicalJson([...right].sort());
}

function valueAt(doc: unknown, path: JsonPath): unknown {
  let node = doc;
  for (const key of path) {
    if (!isContainer(node)) return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}

function isContainer(v: unknown): v is Record<string, unknown> | unknown[] {
  return typeof v === "object" && v !== null;
}

const IDENTIFIER = /^[A-Za-z_$][\w$.-]*$/;

/** `history[2].created`, `config.Labels["org.opencontainers.image.created"]`; top-level keys are written as they are. */
export function formatPath(path: JsonPath): string {
  let out = "";
  for (const [i, key] of path.entries()) {
    if (typeof key === "number") out += `[${key}]`;
    else if (i === 0) out += key;
    else if (IDENTIFIER.test(key) && !key.includes(".")) out += `.${key}`;
    else out += `[${JSON.stringify(key)}]`;
  }
  return out || "(document)";
}

/** A value as stored in a difference: strings and documents longer than `maxChars` are cut, saying by how much. */
export function boundValue(value: unknown, maxChars: number): unknown {
  if (typeof value === "string") return value.length > maxChars ? `${value.slice(0, maxChars)}… (${value.length - maxChars} more characters)` : value;
  if (!isContainer(value)) return value;
  const text = canonicalJson(value);
  return text.length > maxChars ? `${text.slice(0, maxChars)}… (${text.length - maxChars} more characters)` : value;
}

/**
 * Two documents whose bytes differ although they parse to the same JSON: keys in another
 * order ("ordering"), or whitespace and escaping ("other").
 */
export function serialisationCause(a: unknown, b: unknown): "ordering" | "other" {
  return JSON.stringify(a) !== JSON.stringify(b) ? "ordering" : "other";
}
