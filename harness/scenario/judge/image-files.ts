import type { LayerEntry } from "../../oci/layer-entries.ts";
import type { ListedLayer } from "../observation.ts";

const ancestors = (name: string): string[] => {
  const parts = name.split("/");
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join("/"));
};

/**
 * The entry at `path` as the image's filesystem shows it, per the OCI image layer spec:
 * walking down from the top layer, a layer's own entry wins; a whiteout of the path or of
 * any folder above it deletes it; an opaque whiteout in a folder above it hides what the
 * layers below hold there (but not the opaque layer's own entries); a non-folder entry
 * where a folder above it should be hides it too. Undefined when the image has no such file.
 */
export function fileInImage(layers: readonly ListedLayer[], path: string): LayerEntry | undefined {
  const name = path.replace(/^\/+/, "").replace(/\/+$/, "");
  const above = ancestors(name);
  for (let i = layers.length - 1; i >= 0; i--) {
    const entries = layers[i]!.entries;
    const own = entries.find((e) => e.name === name && !e.whiteout);
    if (own) return own;
    for (const e of entries) {
      if (e.whiteout?.kind === "file" && (e.whiteout.target === name || above.includes(e.whiteout.target))) return undefined;
      if (e.whiteout?.kind === "opaque" && above.includes(e.whiteout.dir)) return undefined;
      if (!e.whiteout && e.type !== "directory" && above.includes(e.name)) return undefined;
    }
  }
  return undefined;
}

/** Whiteout entries in any layer that delete `path` itself. */
export function whiteoutsOf(layers: readonly ListedLayer[], path: string): LayerEntry[] {
  const name = path.replace(/^\/+/, "").replace(/\/+$/, "");
  return layers.flatMap((l) => l.entries.filter((e) => e.whiteout?.kind === "file" && e.whiteout.target === name));
}
