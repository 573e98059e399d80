import { InlineCacheFormatError } from "../inline-cache.ts";
import type { ImageConfig } from "../types.ts";
import type { Findings } from "./findings.ts";
import { boundValue } from "./json-diff.ts";
import type { Cause, ExplainLimits } from "./types.ts";

export type Decoded<T> = { state: "absent" } | { state: "decoded"; value: T } | { state: "malformed"; problem: string };

/** One of BuildKit's base64-JSON config keys, decoded; a malformed value is a finding, not a failure. */
export function decodeKey<T>(config: ImageConfig, key: string, decode: (config: ImageConfig) => T | undefined): Decoded<T> {
  if (config[key] === undefined || config[key] === null) return { state: "absent" };
  try {
    const value = decode(config);
    return value === undefined ? { state: "absent" } : { state: "decoded", value };
  } catch (err) {
    if (err instanceof InlineCacheFormatError) return { state: "malformed", problem: err.message };
    throw err;
  }
}

/**
 * Reports a key present on one side only, or undecodable on either side (then the raw
 * values are compared). Returns both decoded values when there is more to compare.
 */
export function comparePresence<T>(
  key: string,
  cause: Cause,
  a: Decoded<T>,
  b: Decoded<T>,
  raw: { a: unknown; b: unknown },
  findings: Findings,
  limits: ExplainLimits,
  /** What to show of a decoded value present on one side only. */
  shown: (value: T) => unknown = (value) => value,
): { a: T; b: T } | undefined {
  if (a.state === "decoded" && b.state === "decoded") return { a: a.value, b: b.value };
  if (a.state === "absent" && b.state === "absent") return undefined;
  const base = { level: "config" as const, cause, subject: key, path: [key] };
  if (a.state === "absent" || b.state === "absent") {
    const present = a.state === "absent" ? b : a;
    const value = present.state === "decoded" ? shown(present.value) : a.state === "absent" ? raw.b : raw.a;
    findings.add(
      a.state === "absent"
        ? { ...base, change: "added", after: boundValue(value, limits.maxValueChars) }
        : { ...base, change: "removed", before: boundValue(value, limits.maxValueChars) },
    );
    return undefined;
  }
  if (raw.a === raw.b) return undefined;
  const problems = [a, b].flatMap((side, i) => (side.state === "malformed" ? [`${i === 0 ? "a" : "b"}: ${side.problem}`] : []));
  findings.add({
    ...base,
    change: "changed",
    before: boundValue(raw.a, limits.maxValueChars),
    after: boundValue(raw.b, limits.maxValueChars),
    note: `compared as raw values: ${problems.join("; ")}`,
  });
  return undefined;
}
