import { BUILD_INFO_KEY, decodeBuildInfo } from "../inline-cache.ts";
import type { ImageConfig } from "../types.ts";
import { comparePresence, decodeKey } from "./buildkit-key.ts";
import type { Findings } from "./findings.ts";
import { boundValue, diffJson, formatPath } from "./json-diff.ts";
import type { ExplainLimits } from "./types.ts";

/** `moby.buildkit.buildinfo.v1` (v0.10 to v0.11), decoded from base64 and compared as JSON. */
export function compareBuildInfo(a: ImageConfig, b: ImageConfig, findings: Findings, limits: ExplainLimits): void {
  const both = comparePresence(
    BUILD_INFO_KEY,
    "build-info",
    decodeKey(a, BUILD_INFO_KEY, decodeBuildInfo),
    decodeKey(b, BUILD_INFO_KEY, decodeBuildInfo),
    { a: a[BUILD_INFO_KEY], b: b[BUILD_INFO_KEY] },
    findings,
    limits,
  );
  if (!both) return;
  for (const change of diffJson(both.a, both.b)) {
    const path = [BUILD_INFO_KEY, ...change.path];
    findings.add({
      level: "config",
      cause: "build-info",
      change: change.change,
      subject: formatPath(path),
      path,
      ...(change.before !== undefined ? { before: boundValue(change.before, limits.maxValueChars) } : {}),
      ...(change.after !== undefined ? { after: boundValue(change.after, limits.maxValueChars) } : {}),
    });
  }
}
