import type { Cause, CauseTally, PlaceTally } from "./types.ts";

/** How a cause reads in a sentence, and whether it takes "differ" or "differs". */
const CAUSE_LABELS: Record<Cause, { label: string; plural: boolean }> = {
  timestamp: { label: "timestamps", plural: true },
  "cache-metadata": { label: "cache metadata", plural: false },
  "build-info": { label: "build info", plural: false },
  content: { label: "content", plural: false },
  permission: { label: "permissions", plural: true },
  ownership: { label: "ownership", plural: false },
  ordering: { label: "order", plural: false },
  "history-text": { label: "history text", plural: false },
  "media-type/compression": { label: "media types or compression", plural: true },
  annotation: { label: "annotations", plural: true },
  platform: { label: "platforms", plural: true },
  other: { label: "other fields", plural: true },
};

/** "12 entries in layer 2", "config created, history[1].created", "layer 3 removed", "manifest layers[0].mediaType and 3 more". */
function describePlace(place: PlaceTally): string {
  if (place.entries !== undefined) return `${place.entries} ${place.entries === 1 ? "entry" : "entries"} in layer ${place.layer}`;
  const layerLevel = place.level === "layer";
  const where = layerLevel ? (place.layer !== undefined ? `layer ${place.layer}` : "") : place.level;
  // At the layer level the layer is already named: "layers[3] removed" reads "layer 3 removed".
  const examples = layerLevel ? place.examples.map((e) => e.replace(/^layers\[\d+\]\s*/, "")).filter(Boolean) : place.examples;
  const more = place.differences - place.examples.length;
  const listed = examples.length > 0 ? `${examples.join(", ")}${more > 0 ? ` and ${more} more` : ""}` : "";
  return [where, listed].filter(Boolean).join(" ");
}

function phrase(tally: CauseTally): string {
  return `${CAUSE_LABELS[tally.cause].label} (${tally.places.map(describePlace).join(", ")})`;
}

/**
 * The explanation in one line: "only timestamps differ (12 entries in layer 2, config
 * created)", or with several causes "timestamps and content differ: timestamps (…); content (…)".
 */
export function summarizeCauses(causes: readonly CauseTally[]): string {
  const [first, ...rest] = causes;
  if (!first) return "the digests differ, but no compared field does";
  if (rest.length === 0) {
    const { label, plural } = CAUSE_LABELS[first.cause];
    return `only ${label} ${plural ? "differ" : "differs"} (${first.places.map(describePlace).join(", ")})`;
  }
  const labels = causes.map((c) => CAUSE_LABELS[c.cause].label);
  const listed = `${labels.slice(0, -1).join(", ")} and ${labels[labels.length - 1]}`;
  return `${listed} differ: ${causes.map(phrase).join("; ")}`;
}
