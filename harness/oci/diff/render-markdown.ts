import { changeMark, formatValue, groups, shortHex } from "./format.ts";
import type { Difference, Explanation, LayerComparison } from "./types.ts";

/** Text for a table cell: pipes escaped, newlines flattened. */
function cell(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

function code(text: string): string {
  if (!text) return "";
  // A span holding backticks needs a longer fence and, per CommonMark, a space inside each end.
  return text.includes("`") ? `\`\` ${cell(text)} \`\`` : `\`${cell(text)}\``;
}

function layerRow(l: LayerComparison): string {
  const side = (s: LayerComparison["a"]) => (s ? `${code(shortHex(s.digest))}${s.entries !== undefined ? ` (${s.entries} entries)` : ""}` : "–");
  const found = l.differences !== undefined ? `${l.differences}${l.omitted ? ` (${l.omitted} not listed)` : ""}` : "";
  return `| ${l.index} | ${l.status} | ${side(l.a)} | ${side(l.b)} | ${found} |`;
}

function differenceRow(d: Difference): string {
  const where = d.field ? `${code(d.subject)} ${d.field}` : code(d.subject);
  const before = d.change === "added" ? "" : code(formatValue(d.before, d.field));
  const after = d.change === "removed" ? "" : code(formatValue(d.after, d.field));
  return `| ${changeMark(d)} | ${where} | ${d.cause} | ${before} | ${after} | ${cell(d.note ?? "")} |`;
}

/** The explanation as GitHub-flavoured Markdown, for summary.md and PR comments. */
export function renderExplanationMarkdown(e: Explanation): string {
  const out: string[] = [];
  out.push(`**${e.result}**: ${cell(e.result === "error" ? e.error!.message : e.summary)}`);
  if (e.error?.hint) out.push("", `> ${cell(e.error.hint)}`);
  out.push("", "| level | status | a | b |", "|---|---|---|---|");
  out.push(`| reference | | ${code(`${e.a.store} ${e.a.reference}`)} | ${code(`${e.b.store} ${e.b.reference}`)} |`);
  const row = (level: string, status: Explanation["levels"]["index"], a?: string, b?: string) =>
    `| ${level} | ${status === "not-compared" ? "not compared" : status} | ${a ? code(shortHex(a)) : ""} | ${b ? code(shortHex(b)) : ""} |`;
  out.push(row("index", e.levels.index, e.a.index?.digest, e.b.index?.digest));
  out.push(row(`manifest (${e.platform})`, e.levels.manifest, e.a.manifest?.digest, e.b.manifest?.digest));
  out.push(row("config", e.levels.config, e.a.config?.digest, e.b.config?.digest));
  out.push(
    `| layers | ${e.levels.layers === "different" ? `different (${e.layers.filter((l) => l.status !== "same").length} of ${e.layers.length})` : e.levels.layers === "not-compared" ? "not compared" : e.levels.layers} | | |`,
  );

  const entries = (e.indexEntries ?? []).filter((x) => x.a !== x.b);
  if (entries.length > 0) {
    out.push("", "| index entry | a | b | |", "|---|---|---|---|");
    for (const x of entries)
      out.push(`| ${cell(x.key)} | ${x.a ? code(shortHex(x.a)) : "–"} | ${x.b ? code(shortHex(x.b)) : "–"} | ${x.followed ? "followed" : ""} |`);
  }
  if (e.levels.layers === "different") {
    out.push("", "| layer | status | a | b | differences |", "|---|---|---|---|---|");
    for (const l of e.layers) if (l.status !== "same") out.push(layerRow(l));
  }
  for (const group of groups(e)) {
    out.push("", `#### ${group.title}`, "", "| | where | cause | a | b | note |", "|---|---|---|---|---|---|");
    for (const d of group.differences) out.push(differenceRow(d));
  }
  if (e.omittedDifferences > 0) {
    out.push(
      "",
      `_${e.omittedDifferences} more differences are counted above but not listed (limits: ${e.limits.maxEntryDifferences} per layer, ${e.limits.maxDocumentDifferences} in documents)._`,
    );
  }
  return `${out.join("\n")}\n`;
}
