/**
 * Tonight's results against last night's: which cells changed verdict, and which of those
 * need a person (a loud verdict that was not there before: a regression, an unexpected
 * pass, a new inconclusive, infrastructure error or cell that did not run). A loud verdict
 * that persists was reported the night it appeared; a cell that turned quiet is recorded.
 */
import type { ResultsDocument } from "../report/model.ts";

export interface VerdictChange {
  readonly cell: string;
  readonly scenario: string;
  readonly version: string;
  /** Absent: the cell is new tonight (or missing tonight when `to` is absent). */
  readonly from?: string;
  readonly to?: string;
  readonly needsPerson: boolean;
  readonly reason: string;
}

export interface Comparison {
  readonly changes: readonly VerdictChange[];
  readonly needsPerson: boolean;
}

const LOUD = new Set(["unexpected-pass", "fail", "inconclusive", "infrastructure-error", "not-run"]);

/**
 * `byScenario` keys cells by scenario alone: for `master`, whose version (a pseudo-version)
 * changes every night.
 */
export function compareResults(previous: ResultsDocument | undefined, current: ResultsDocument, opts: { byScenario?: boolean } = {}): Comparison {
  const key = (r: { scenario: string; version: string }) => (opts.byScenario ? r.scenario : `${r.version} ${r.scenario}`);
  const before = new Map((previous?.results ?? []).map((r) => [key(r), r]));
  const changes: VerdictChange[] = [];
  for (const r of current.results) {
    const was = before.get(key(r));
    before.delete(key(r));
    if (was?.verdict.kind === r.verdict.kind) continue;
    const loud = LOUD.has(r.verdict.kind);
    changes.push({
      cell: key(r),
      scenario: r.scenario,
      version: r.version,
      ...(was ? { from: was.verdict.kind } : {}),
      to: r.verdict.kind,
      needsPerson: loud,
      reason: loud ? `${r.verdict.kind}: ${r.verdict.reason}` : was ? `no longer ${was.verdict.kind}` : "new cell",
    });
  }
  // A cell that ran last night and is gone tonight: a version job that wrote nothing.
  for (const [cell, was] of before) {
    if (previous?.versions.some((v) => v.version === was.version) && !current.versions.some((v) => v.version === was.version) && !opts.byScenario) {
      changes.push({ cell, scenario: was.scenario, version: was.version, from: was.verdict.kind, needsPerson: true, reason: "no result tonight" });
    }
  }
  return { changes, needsPerson: changes.some((c) => c.needsPerson) };
}

/** The comparison as Markdown for the job summary. */
export function comparisonMarkdown(title: string, c: Comparison, previousRun: string | undefined): string {
  const lines = [
    `## ${title}`,
    "",
    previousRun ? `Compared with run ${previousRun}.` : "No previous night to compare with: every loud verdict counts as new.",
    "",
  ];
  if (c.changes.length === 0) return `${lines.join("\n")}No verdict changed.\n`;
  lines.push("| cell | before | tonight | needs a person | why |", "|---|---|---|---|---|");
  for (const ch of c.changes) {
    lines.push(
      `| ${ch.cell} | ${ch.from ?? "—"} | ${ch.to ?? "—"} | ${ch.needsPerson ? "**yes**" : "no"} | ${ch.reason.replace(/\|/g, "\\|").replace(/\n/g, " ")} |`,
    );
  }
  return `${lines.join("\n")}\n`;
}
