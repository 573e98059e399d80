import { BUILD_INFO_KEY, INLINE_CACHE_KEY } from "../inline-cache.ts";
import type { FetchedConfig } from "../registry-client.ts";
import type { ImageConfig } from "../types.ts";
import { compareBuildInfo } from "./build-info-diff.ts";
import type { Findings } from "./findings.ts";
import { compareInlineCache } from "./inline-cache-diff.ts";
import { boundValue, diffJson, formatPath, type JsonPath, serialisationCause } from "./json-diff.ts";
import type { Cause, ExplainLimits } from "./types.ts";

const PLATFORM_FIELDS = new Set(["architecture", "os", "variant", "os.version", "os.features"]);

/**
 * Compares two image configs field by field. BuildKit's inline cache and build info are
 * decoded and compared as what they mean; rootfs.diff_ids are left to the layer level,
 * which says why a layer differs.
 */
export function compareConfigs(a: FetchedConfig, b: FetchedConfig, findings: Findings, limits: ExplainLimits): void {
  const before = findings.count;
  for (const change of diffJson(plainPart(a.config), plainPart(b.config))) {
    findings.add({
      level: "config",
      cause: configCause(change.path),
      change: change.change,
      subject: formatPath(change.path),
      path: change.path,
      ...(change.before !== undefined ? { before: boundValue(change.before, limits.maxValueChars) } : {}),
      ...(change.after !== undefined ? { after: boundValue(change.after, limits.maxValueChars) } : {}),
    });
  }
  compareInlineCache(a.config, b.config, findings, limits);
  compareBuildInfo(a.config, b.config, findings, limits);
  if (findings.count === before && !a.bytes.equals(b.bytes) && sameDiffIds(a.config, b.config)) {
    findings.add({
      level: "config",
      cause: serialisationCause(a.config, b.config),
      change: "changed",
      subject: "(document)",
      note: "the same JSON, serialised differently (key order, whitespace or escaping)",
    });
  }
}

/** The config without the two BuildKit keys and without rootfs.diff_ids. */
function plainPart(config: ImageConfig): Record<string, unknown> {
  const { [INLINE_CACHE_KEY]: _cache, [BUILD_INFO_KEY]: _info, rootfs, ...rest } = config;
  if (rootfs === undefined || rootfs === null || typeof rootfs !== "object") return rootfs === undefined ? rest : { ...rest, rootfs };
  const { diff_ids: _ids, ...rootfsRest } = rootfs as unknown as Record<string, unknown>;
  return { ...rest, rootfs: rootfsRest };
}

function sameDiffIds(a: ImageConfig, b: ImageConfig): boolean {
  return JSON.stringify(a.rootfs?.diff_ids ?? null) === JSON.stringify(b.rootfs?.diff_ids ?? null);
}

/** The cause a config field's change points at, from where the field is. */
function configCause(path: JsonPath): Cause {
  const [top, second, third] = path;
  if (top === "created") return "timestamp";
  if (top === "history") return third === "created" ? "timestamp" : "history-text";
  if (typeof top === "string" && PLATFORM_FIELDS.has(top)) return "platform";
  // Labels are the config's key/value metadata, the counterpart of manifest annotations.
  if (top === "config" && second === "Labels") return "annotation";
  return "other";
}
