import { HarnessError } from "../../errors.ts";
import type { ContentStore } from "../content-store.ts";
import { type LayerEntry, listLayerEntries } from "../layer-entries.ts";
import type { Descriptor } from "../types.ts";
import { compareEntries } from "./entry-diff.ts";
import type { Findings } from "./findings.ts";
import type { ExplainLimits, LayerComparison, LayerSide } from "./types.ts";

export interface ImageLayers {
  store: ContentStore;
  descriptors: readonly Descriptor[];
  /** The config's rootfs.diff_ids, bottom first. */
  diffIds: readonly string[] | undefined;
}

function sideOf(layers: ImageLayers, i: number): LayerSide | undefined {
  const d = layers.descriptors[i];
  if (!d) return undefined;
  const diffId = layers.diffIds?.[i];
  return { digest: d.digest, mediaType: d.mediaType, size: d.size, ...(diffId ? { diffId } : {}) };
}

const brief = (s: LayerSide) => ({ digest: s.digest, mediaType: s.mediaType, size: s.size });

/**
 * Layer by layer (by index, bottom first): equal blobs are not read; the same diff_id
 * under another blob digest is compression only; other differing layers are listed (up
 * to a size limit) and their tar entries compared.
 */
export async function compareLayers(
  a: ImageLayers,
  b: ImageLayers,
  findings: Findings,
  limits: ExplainLimits,
  options: { configsEqual: boolean } = { configsEqual: false },
): Promise<LayerComparison[]> {
  const count = Math.max(a.descriptors.length, b.descriptors.length);
  const digestsA = a.descriptors.map((d) => d.digest);
  const digestsB = b.descriptors.map((d) => d.digest);
  const permuted =
    digestsA.length === digestsB.length && digestsA.some((d, i) => d !== digestsB[i]) && [...digestsA].sort().join() === [...digestsB].sort().join();
  if (permuted) {
    findings.add({
      level: "layer",
      cause: "ordering",
      change: "reordered",
      subject: "layers",
      before: digestsA,
      after: digestsB,
      note: "the same layers in another order",
    });
  }
  const comparisons: LayerComparison[] = [];
  for (let i = 0; i < count; i++) {
    const left = sideOf(a, i);
    const right = sideOf(b, i);
    const subject = `layers[${i}]`;
    if (!left || !right) {
      const present = (left ?? right)!;
      findings.add({
        level: "layer",
        cause: "content",
        change: left ? "removed" : "added",
        subject,
        layer: i,
        ...(left ? { before: brief(present) } : { after: brief(present) }),
      });
      comparisons.push({ index: i, status: left ? "removed" : "added", ...(left ? { a: left } : { b: right! }) });
      continue;
    }
    if (left.digest === right.digest) {
      if (left.diffId !== right.diffId) {
        findings.add({
          level: "layer",
          cause: "other",
          change: "changed",
          subject,
          layer: i,
          before: left.diffId ?? null,
          after: right.diffId ?? null,
          note: "the same blob under different diff_ids: one of the configs does not describe its layers",
        });
      }
      comparisons.push({ index: i, status: "same", a: left, b: right });
      continue;
    }
    if (permuted) {
      comparisons.push({ index: i, status: "different", a: left, b: right });
      continue;
    }
    const sameTar = options.configsEqual || (left.diffId !== undefined && left.diffId === right.diffId);
    comparisons.push(sameTar ? compressionOnly(i, left, right, findings) : await compareDifferingLayer(i, a.store, left, b.store, right, findings, limits));
  }
  return comparisons;
}

function compressionOnly(i: number, left: LayerSide, right: LayerSide, findings: Findings): LayerComparison {
  findings.add({
    level: "layer",
    cause: "media-type/compression",
    change: "changed",
    subject: `layers[${i}]`,
    layer: i,
    before: brief(left),
    after: brief(right),
    note: "same diff_id: the same tar, compressed differently",
  });
  return { index: i, status: "compression-only", a: left, b: right };
}

async function compareDifferingLayer(
  i: number,
  storeA: ContentStore,
  left: LayerSide,
  storeB: ContentStore,
  right: LayerSide,
  findings: Findings,
  limits: ExplainLimits,
): Promise<LayerComparison> {
  const largest = Math.max(left.size, right.size);
  if (largest > limits.maxLayerBytes) {
    findings.add({
      level: "layer",
      cause: "other",
      change: "changed",
      // The subject reads in a summary as "layer 3 too large to list".
      subject: `layers[${i}] too large to list`,
      layer: i,
      before: brief(left),
      after: brief(right),
      note: `not listed: ${largest} bytes is above the limit of ${limits.maxLayerBytes}; compared by digest only`,
    });
    return { index: i, status: "too-large", a: left, b: right };
  }
  const [entriesA, entriesB] = await Promise.all([listLayer(storeA, left, i, "a"), listLayer(storeB, right, i, "b")]);
  const found = compareEntries(i, entriesA, entriesB, (d) => findings.add(d));
  if (found === 0) {
    findings.add({
      level: "layer",
      cause: "other",
      change: "changed",
      subject: `layers[${i}] tar headers`,
      layer: i,
      note:
        left.diffId === undefined || right.diffId === undefined
          ? "no compared entry field differs, and a config names no diff_id for this layer: it may differ in compression only"
          : "the tars differ, but no compared entry field does (name, type, mode, uid, gid, mtime, content, link target): PAX records, xattrs or the header format differ",
    });
  }
  const counts = findings.layerCounts(i);
  return {
    index: i,
    status: "different",
    a: { ...left, entries: entriesA.length },
    b: { ...right, entries: entriesB.length },
    differences: counts.found,
    omitted: counts.omitted,
  };
}

async function listLayer(store: ContentStore, layer: LayerSide, i: number, side: "a" | "b"): Promise<LayerEntry[]> {
  const bytes = await store.blob(layer.digest);
  try {
    return await listLayerEntries(bytes, layer.mediaType);
  } catch (err) {
    if (err instanceof HarnessError) throw err;
    throw new HarnessError(
      "LAYER_FORMAT_UNSUPPORTED",
      `layer ${i} of ${side} (${layer.digest}, ${layer.mediaType}) in ${store.description} cannot be read as a tar: ${(err as Error).message}`,
      "The blob is not a (compressed) tar archive; check what pushed it.",
      { cause: err },
    );
  }
}
