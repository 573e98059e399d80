import type { Descriptor, Manifest } from "../types.ts";
import { documentCause } from "./document-cause.ts";
import type { Findings } from "./findings.ts";
import { boundValue, diffJson, formatPath, serialisationCause } from "./json-diff.ts";
import type { ExplainLimits } from "./types.ts";

export interface ManifestSide {
  manifest: Manifest;
  /** As served (Content-Type) or as the document says. */
  mediaType: string;
  bytes: Buffer;
}

/**
 * Media types, descriptors and annotations of two image manifests. Digests and sizes of
 * the config and layers are left out: the config and layer levels say why they differ.
 * A layer present on one side only is the layer level's to report too.
 */
export function compareManifests(a: ManifestSide, b: ManifestSide, findings: Findings, limits: ExplainLimits): void {
  const before = findings.count;
  const shared = Math.min(a.manifest.layers.length, b.manifest.layers.length);
  for (const change of diffJson(project(a), project(b))) {
    if (change.path[0] === "layers" && typeof change.path[1] === "number" && change.path[1] >= shared) continue;
    findings.add({
      level: "manifest",
      cause: change.change === "reordered" ? "ordering" : documentCause(change.path),
      change: change.change,
      subject: formatPath(change.path),
      path: change.path,
      ...(change.before !== undefined ? { before: boundValue(change.before, limits.maxValueChars) } : {}),
      ...(change.after !== undefined ? { after: boundValue(change.after, limits.maxValueChars) } : {}),
    });
  }
  if (findings.count === before && !a.bytes.equals(b.bytes) && diffJson(a.manifest, b.manifest).length === 0) {
    findings.add({
      level: "manifest",
      cause: serialisationCause(a.manifest, b.manifest),
      change: "changed",
      subject: "(document)",
      note: "the same JSON, serialised differently (key order, whitespace or escaping)",
    });
  }
}

function withoutDigest(d: Descriptor): Omit<Descriptor, "digest" | "size"> {
  const { digest: _digest, size: _size, ...rest } = d;
  return rest;
}

function project(side: ManifestSide): Record<string, unknown> {
  const { config, layers, mediaType: _declared, ...rest } = side.manifest;
  return { ...rest, mediaType: side.mediaType, config: withoutDigest(config), layers: layers.map(withoutDigest) };
}
