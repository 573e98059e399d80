/**
 * What was observed that makes a result need attention, in a few bounded lines: the
 * fault, the assertions that failed or could not be judged with their actual values and
 * the explanation of a digest difference, or the bug-explained assertions that held.
 */
import type { OutcomeRecord, ResultRecord } from "./model.ts";

/** A cut that says it cut. */
export function bounded(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

export interface ObservedLine {
  /** The assertion (or "fault"), in words. */
  subject: string;
  status: string;
  expected?: string;
  actual: string;
  /** The explainer's one-line summary of why two digests differ. */
  explanation?: string;
  attempt?: number;
}

function explanationSummary(o: OutcomeRecord): string | undefined {
  const e = o.explanation as { summary?: unknown; result?: unknown; error?: { message?: unknown } } | undefined;
  if (!e || typeof e !== "object") return undefined;
  if (e.result === "error" && typeof e.error?.message === "string") return `could not explain: ${e.error.message}`;
  return typeof e.summary === "string" ? e.summary : undefined;
}

function line(o: OutcomeRecord, attempt: number | undefined): ObservedLine {
  const explanation = explanationSummary(o);
  // explain.ts appends the summary to `actual`; say it once, under its own name.
  const actual = explanation && o.actual.endsWith(`; ${explanation}`) ? o.actual.slice(0, -explanation.length - 2) : o.actual;
  return {
    subject: o.description,
    status: o.status,
    expected: o.expected,
    actual,
    ...(explanation ? { explanation } : {}),
    ...(attempt !== undefined ? { attempt } : {}),
  };
}

export function observedLines(r: ResultRecord): ObservedLine[] {
  const v = r.verdict;
  const lines: ObservedLine[] = [];
  if (v.fault) lines.push({ subject: `fault ${v.fault.code}`, status: v.kind, actual: v.fault.message });
  const all = r.attempts.flatMap((a) => a.outcomes.map((o) => ({ o, attempt: a.attempt })));
  const wanted =
    v.kind === "unexpected-pass"
      ? all.filter(({ o }) => o.role === "explained" && o.status === "holds")
      : all.filter(({ o }) => o.status === "fails" || o.status === "inconclusive");
  for (const { o, attempt } of wanted) lines.push(line(o, attempt));
  const crashed = r.attempts.flatMap((a) => a.daemons.filter((d) => d.exit).map((d) => d.exit!));
  for (const exit of crashed) {
    lines.push({
      subject: "daemon exit",
      status: exit.oomKilled ? "oom-killed" : "exited",
      actual: `exit code ${exit.exitCode}${exit.panic?.length ? `: ${exit.panic[0]}` : ""}`,
    });
  }
  return lines;
}
