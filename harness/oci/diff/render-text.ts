import { changeMark, groups, levelLine, shortHex, valuesOf, whereOf } from "./format.ts";
import type { Explanation, LayerComparison } from "./types.ts";

function layerLine(l: LayerComparison): string {
  const side = (s: LayerComparison["a"]) => (s ? `${shortHex(s.digest)}${s.entries !== undefined ? ` (${s.entries} entries)` : ""}` : "(none)");
  const counts = l.differences ? `, ${l.differences} difference${l.differences === 1 ? "" : "s"}${l.omitted ? ` (${l.omitted} not listed)` : ""}` : "";
  return l.status === "same" ? `layer ${l.index}  same ${side(l.a)}` : `layer ${l.index}  ${l.status} ${side(l.a)} → ${side(l.b)}${counts}`;
}

/** The explanation as plain text, for a terminal or a log. */
export function renderExplanationText(e: Explanation): string {
  const lines = [`${e.result}: ${e.result === "error" ? e.error!.message : e.summary}`];
  if (e.error?.hint) lines.push(`  → ${e.error.hint}`);
  lines.push(`a: ${e.a.store} ${e.a.reference}`, `b: ${e.b.store} ${e.b.reference}`, `platform: ${e.platform}`);
  lines.push(`index     ${levelLine(e.levels.index, e.a.index?.digest, e.b.index?.digest)}`);
  lines.push(`manifest  ${levelLine(e.levels.manifest, e.a.manifest?.digest, e.b.manifest?.digest)}`);
  lines.push(`config    ${levelLine(e.levels.config, e.a.config?.digest, e.b.config?.digest)}`);
  const differing = e.layers.filter((l) => l.status !== "same").length;
  lines.push(`layers    ${e.levels.layers === "different" ? `different (${differing} of ${e.layers.length})` : levelLine(e.levels.layers)}`);
  for (const entry of e.indexEntries ?? []) {
    if (entry.a !== entry.b)
      lines.push(`  ${entry.key}: ${entry.a ? shortHex(entry.a) : "(none)"} → ${entry.b ? shortHex(entry.b) : "(none)"}${entry.followed ? " (followed)" : ""}`);
  }
  if (e.levels.layers === "different") for (const l of e.layers) if (l.status !== "same") lines.push(`  ${layerLine(l)}`);
  for (const group of groups(e)) {
    lines.push(`${group.title}:`);
    for (const d of group.differences) {
      const values = valuesOf(d);
      lines.push(`  ${changeMark(d)} ${whereOf(d)}${values ? `: ${values}` : ""}  [${d.cause}]${d.note ? `  (${d.note})` : ""}`);
    }
  }
  if (e.omittedDifferences > 0)
    lines.push(
      `… ${e.omittedDifferences} more differences not listed (limits: ${e.limits.maxEntryDifferences} per layer, ${e.limits.maxDocumentDifferences} in documents)`,
    );
  return `${lines.join("\n")}\n`;
}
