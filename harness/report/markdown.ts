/**
 * summary.md, for a GitHub job summary or a PR comment: the verdict matrix, then only the
 * results that need attention with what was observed, each linking to its drill-down in
 * index.html. Everything else (every build, digest and step) is in index.html and
 * results.json. Stays under GitHub's job summary limit however large the run.
 */
import type { Comparison, VerdictChange } from "./compare.ts";
import type { ResultRecord, ResultsDocument } from "./model.ts";
import { bounded, observedLines } from "./observed.ts";
import { resultAnchor, resultIndex, VERDICT_ORDER, verdictLabel } from "./verdicts.ts";

/** GitHub refuses job summaries over 1 MiB; keep a margin for what a workflow adds. */
export const SUMMARY_MAX_BYTES = 900 * 1024;
/** A value in a line of the summary (an actual value, a message). */
const VALUE_CHARS = 300;
/** Observed lines per result; the rest are in index.html. */
const LINES_PER_RESULT = 4;

export interface MarkdownOptions {
  /** Lines placed at the top: the change since the previous run. */
  readonly preface?: readonly string[];
  /** Where index.html is, relative to summary.md. */
  readonly page?: string;
}

const cell = (text: string) =>
  text
    .replaceAll("\\", "\\\\")
    .replaceAll("|", "\\|")
    .replace(/\s*\n\s*/g, " ");
const mark = (kind: ResultRecord["verdict"]["kind"]) => verdictLabel(kind).mark;

function legend(doc: ResultsDocument): string {
  const used = new Set(doc.results.map((r) => r.verdict.kind));
  return VERDICT_ORDER.filter((k) => used.has(k))
    .map((k) => `${mark(k)} ${verdictLabel(k).label}`)
    .join(" · ");
}

/** Scenario rows × version columns. */
function verdictMatrix(doc: ResultsDocument): string[] {
  const versions = doc.versions.map((v) => v.version);
  const find = resultIndex(doc.results);
  return [
    `| scenario | ${versions.map(cell).join(" | ")} |`,
    `|---|${versions.map(() => ":-:").join("|")}|`,
    ...doc.scenarios.map((s) => `| ${cell(s.id)} | ${versions.map((v) => mark(find(s.id, v)?.verdict.kind ?? "not-run")).join(" | ")} |`),
    "",
    legend(doc),
    "",
  ];
}

function attentionEntry(r: ResultRecord, page: string): string[] {
  const v = verdictLabel(r.verdict.kind);
  const out = [`- ${v.mark} **${cell(r.scenario)}** on **${cell(r.version)}**: ${v.label}. [details](${page}#${resultAnchor(r.scenario, r.version)})`];
  const lines = observedLines(r);
  for (const l of lines.slice(0, LINES_PER_RESULT)) {
    const where = l.attempt !== undefined ? `attempt ${l.attempt}: ` : "";
    const expected = l.expected ? ` expected ${bounded(l.expected, VALUE_CHARS)};` : "";
    out.push(`  - ${where}${bounded(l.subject, VALUE_CHARS)} (${l.status}):${expected} observed ${bounded(l.actual, VALUE_CHARS)}`);
    if (l.explanation) out.push(`    - why the digests differ: ${bounded(l.explanation, VALUE_CHARS)}`);
  }
  if (lines.length > LINES_PER_RESULT) out.push(`  - and ${lines.length - LINES_PER_RESULT} more in the details`);
  if (lines.length === 0) out.push(`  - ${bounded(r.verdict.reason, VALUE_CHARS)}`);
  return out;
}

function versionLines(doc: ResultsDocument): string[] {
  const faulty = doc.versions.filter((v) => v.status !== "ran");
  if (faulty.length === 0) return [];
  return [
    "## Versions that did not run to the end",
    "",
    ...faulty.map((v) => `- **${cell(v.version)}** (${v.status})${v.fault ? `: ${v.fault.code}: ${bounded(v.fault.message, VALUE_CHARS)}` : ""}`),
    "",
  ];
}

const bytes = (lines: readonly string[]) => Buffer.byteLength(lines.join("\n")) + lines.length;

export function renderMarkdown(doc: ResultsDocument, options: MarkdownOptions = {}): string {
  const page = options.page ?? "index.html";
  const totals = VERDICT_ORDER.filter((k) => (doc.counts[k] ?? 0) > 0).map((k) => `${doc.counts[k]} ${verdictLabel(k).label}`);
  const head = [
    `# buildkit-repro run ${doc.run.id}${doc.run.complete ? "" : " (interrupted: what did not run is marked not run)"}`,
    "",
    `${doc.results.length} results, ${doc.scenarios.length} scenarios × ${doc.versions.length} versions: ${totals.join(", ") || "none"}. Every build, digest and step: [${page}](${page}).`,
    "",
    ...(options.preface ?? []),
    ...verdictMatrix(doc),
    ...versionLines(doc),
  ];
  if (doc.invalidScenarios.length > 0) {
    head.push(
      "## Scenarios refused before anything ran",
      "",
      ...doc.invalidScenarios.map((i) => `- ${cell(i.folder)}: ${bounded(i.message, VALUE_CHARS)}`),
      "",
    );
  }
  const loud = doc.results.filter((r) => r.verdict.loud);
  const out = [...head];
  if (loud.length === 0) {
    out.push("Nothing needs attention: every result is as the scenarios declare.");
    return `${out.join("\n")}\n`;
  }
  out.push(`## Needs attention (${loud.length})`, "");
  let used = bytes(out);
  const tail = (n: number) => `- … and ${n} more results that need attention: see [${page}](${page}) (filter by verdict).`;
  for (const [i, r] of loud.entries()) {
    const entry = attentionEntry(r, page);
    const size = bytes(entry);
    if (used + size + bytes([tail(loud.length)]) > SUMMARY_MAX_BYTES) {
      out.push(tail(loud.length - i));
      break;
    }
    out.push(...entry);
    used += size;
  }
  return `${out.join("\n")}\n`;
}

/** Changes listed in summary.md; the page lists them all. */
const CHANGES_LISTED = 200;

/** The "change since the previous run" section. */
export function comparisonMarkdown(c: Comparison, page = "index.html"): string[] {
  const out = ["## Change since the previous run", ""];
  if (c.status === "none") return [...out, `Nothing to compare with: ${c.reason}.`, ""];
  if (c.status === "unreadable") return [...out, `Could not compare with ${cell(c.path)}: ${bounded(c.reason, VALUE_CHARS)}.`, ""];
  const against = `run ${cell(c.previous.id)} (started ${cell(c.previous.startedAt)})`;
  if (c.changes.length === 0) return [...out, `No verdict changed since ${against}: ${c.unchanged} results compared.`, ""];
  const name = (k: VerdictChange["before"]) => (k ? `${verdictLabel(k).mark} ${verdictLabel(k).label}` : "(no result)");
  out.push(
    `${c.changes.length} verdicts changed since ${against}; ${c.unchanged} unchanged.`,
    "",
    "| scenario | version | before | now |",
    "|---|---|---|---|",
  );
  for (const ch of c.changes.slice(0, CHANGES_LISTED)) {
    const now = ch.after ? `[${name(ch.after)}](${page}#${resultAnchor(ch.scenario, ch.version)})` : name(undefined);
    out.push(`| ${cell(ch.scenario)} | ${cell(ch.version)} | ${name(ch.before)} | ${ch.loud ? `**${now}**` : now} |`);
  }
  if (c.changes.length > CHANGES_LISTED) out.push("", `… and ${c.changes.length - CHANGES_LISTED} more changes in [${page}](${page}).`);
  return [...out, ""];
}
