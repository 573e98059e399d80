import { posix } from "node:path";
import type { LayerEntry } from "../../oci/layer-entries.ts";
import type { ListedLayer } from "../observation.ts";

/** A path in the image as layer entries name it: "/a//b/./c/" → "a/b/c". */
function entryName(path: string): string {
  return posix.normalize(`/${path}`).replace(/^\/+/, "").replace(/\/+$/, "");
}

const ancestors = (name: string): string[] => {
  const parts = name.split("/");
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join("/"));
};

/** The entry at `name` and the index of the layer it comes from, or undefined. */
function lookup(layers: readonly ListedLayer[], name: string): { entry: LayerEntry; layer: number } | undefined {
  const above = ancestors(name);
  for (let i = layers.length - 1; i >= 0; i--) {
    const entries = layers[i]!.entries;
    const own = entries.find((e) => e.name === name && !e.whiteout);
    if (own) return { entry: own, layer: i };
    for (const e of entries) {
      if (e.whiteout?.kind === "file" && (e.whiteout.target === name || above.includes(e.whiteout.target))) return undefined;
      // An opaque whiteout at the root (dir "") hides every lower entry.
      if (e.whiteout?.kind === "opaque" && (e.whiteout.dir === "" || above.includes(e.whiteout.dir))) return undefined;
      if (!e.whiteout && e.type !== "directory" && above.includes(e.name)) return undefined;
    }
  }
  return undefined;
}

/**
 * The entry at `path` as the image's filesystem shows it, per the OCI image layer spec:
 * walking down from the top layer, a layer's own entry wins; a whiteout of the path or of
 * any folder above it deletes it; an opaque whiteout in a folder above it hides what the
 * layers below hold there (but not the opaque layer's own entries); a non-folder entry
 * where a folder above it should be hides it too. Undefined when the image has no such file.
 */
export function fileInImage(layers: readonly ListedLayer[], path: string): LayerEntry | undefined {
  return lookup(layers, entryName(path))?.entry;
}

/**
 * The regular file whose content `path` shows: the entry itself, or for a hardlink the file
 * it links to, as the hardlink's own layer saw it (a later layer replacing the target does
 * not change the hardlinked file). Undefined for anything else.
 */
export function regularFileInImage(layers: readonly ListedLayer[], path: string): LayerEntry | undefined {
  let found = lookup(layers, entryName(path));
  // A tar hardlink names an earlier regular entry; the bound only guards against malformed layers.
  for (let hops = 0; found?.entry.type === "hardlink" && found.entry.linkname !== undefined && hops < 8; hops++) {
    found = lookup(layers.slice(0, found.layer + 1), entryName(found.entry.linkname));
  }
  return found?.entry.type === "file" ? found.entry : undefined;
}

/** Whiteout entries in any layer that delete `path` itself, bottom layer first. */
export function whiteoutsOf(layers: readonly ListedLayer[], path: string): LayerEntry[] {
  const name = entryName(path);
  return layers.flatMap((l) => l.entries.filter((e) => e.whiteout?.kind === "file" && e.whiteout.target === name));
}

/** Whether any layer has an entry at `path` (deleted since or not). */
export function anyLayerHolds(layers: readonly ListedLayer[], path: string): boolean {
  const name = entryName(path);
  return layers.some((l) => l.entries.some((e) => !e.whiteout && e.name === name));
}
