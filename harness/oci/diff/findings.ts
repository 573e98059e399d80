import { CAUSES, type CauseTally, type Difference, type ExplainLimits, type PlaceTally } from "./types.ts";

const EXAMPLES_KEPT = 3;

interface Place {
  tally: PlaceTally;
  entries: Set<string>;
}

/**
 * Collects differences as the levels are compared: every one is counted by cause and
 * place, and only the first ones (per the limits) are kept for listing.
 */
export class Findings {
  readonly listed: Difference[] = [];
  omitted = 0;
  private documentListed = 0;
  private readonly entryListed = new Map<number, number>();
  private readonly perLayer = new Map<number, { found: number; omitted: number }>();
  private readonly places = new Map<string, Map<string, Place>>();

  constructor(private readonly limits: ExplainLimits) {}

  get count(): number {
    return this.listed.length + this.omitted;
  }

  add(difference: Difference): void {
    this.tally(difference);
    const layer = difference.layer;
    if (layer !== undefined) {
      const counts = this.perLayer.get(layer) ?? { found: 0, omitted: 0 };
      counts.found++;
      this.perLayer.set(layer, counts);
    }
    if (this.keep(difference)) {
      this.listed.push(difference);
    } else {
      this.omitted++;
      if (layer !== undefined) this.perLayer.get(layer)!.omitted++;
    }
  }

  /** Differences found inside one layer, and how many of them are not listed. */
  layerCounts(layer: number): { found: number; omitted: number } {
    return this.perLayer.get(layer) ?? { found: 0, omitted: 0 };
  }

  causes(): CauseTally[] {
    const tallies: CauseTally[] = [];
    for (const cause of CAUSES) {
      const places = this.places.get(cause);
      if (!places) continue;
      const list = [...places.values()].map(({ tally, entries }) => (entries.size > 0 ? { ...tally, entries: entries.size } : tally));
      tallies.push({ cause, differences: list.reduce((n, p) => n + p.differences, 0), places: list });
    }
    return tallies;
  }

  private keep(d: Difference): boolean {
    if (d.entry !== undefined && d.layer !== undefined) {
      const n = this.entryListed.get(d.layer) ?? 0;
      if (n >= this.limits.maxEntryDifferences) return false;
      this.entryListed.set(d.layer, n + 1);
      return true;
    }
    if (d.level === "layer") return true;
    if (this.documentListed >= this.limits.maxDocumentDifferences) return false;
    this.documentListed++;
    return true;
  }

  private tally(d: Difference): void {
    let byPlace = this.places.get(d.cause);
    if (!byPlace) {
      byPlace = new Map();
      this.places.set(d.cause, byPlace);
    }
    const key = `${d.level}|${d.layer ?? ""}`;
    let place = byPlace.get(key);
    if (!place) {
      place = { tally: { level: d.level, ...(d.layer !== undefined ? { layer: d.layer } : {}), differences: 0, examples: [] }, entries: new Set() };
      byPlace.set(key, place);
    }
    place.tally.differences++;
    if (d.entry !== undefined) place.entries.add(d.entry);
    else {
      const example = exampleOf(d);
      if (place.tally.examples.length < EXAMPLES_KEPT && !place.tally.examples.includes(example)) place.tally.examples.push(example);
    }
  }
}

function exampleOf(d: Difference): string {
  switch (d.change) {
    case "changed":
      return d.subject;
    case "removed":
      // Results of an inline cache record that are gone are what moby/buildkit#3009 calls "vanished".
      return `${d.subject} ${d.record !== undefined ? "vanished" : "removed"}`;
    case "added":
    case "reordered":
      return `${d.subject} ${d.change}`;
  }
}
