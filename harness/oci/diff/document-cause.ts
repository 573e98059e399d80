import type { JsonPath } from "./json-diff.ts";
import type { Cause } from "./types.ts";

/** The cause of a change in an index or a manifest (descriptors and their annotations), from its path. */
export function documentCause(path: JsonPath): Cause {
  if (path.includes("annotations")) return "annotation";
  if (path.includes("platform")) return "platform";
  if (path[path.length - 1] === "mediaType") return "media-type/compression";
  return "other";
}
