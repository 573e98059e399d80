/**
 * junit.xml for CI test dashboards: one testsuite per version, one testcase per scenario
 * × version. JUnit has no expected-failure state, so every testcase carries its verdict in
 * <properties> (as vitest's annotations do); <failure> and <error> appear only for loud
 * verdicts, so a dashboard turns red exactly when the run does. A pair that never ran is a
 * testcase with verdict not-run.
 */
import type { ResultRecord, ResultsDocument } from "./model.ts";
import { bounded, observedLines } from "./observed.ts";
import { resultAnchor, resultIndex } from "./verdicts.ts";

type Kind = ResultRecord["verdict"]["kind"];

/** What a regression looks like: BuildKit did something other than declared. */
const FAILURES: ReadonlySet<Kind> = new Set(["fail", "unexpected-pass"]);
/** What says nothing about BuildKit: the harness could not observe, or did not run. */
const ERRORS: ReadonlySet<Kind> = new Set(["infrastructure-error", "inconclusive", "not-run"]);

// Characters XML 1.0 cannot hold at all, even escaped.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters removed
const INVALID_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

function xmlEscape(text: string): string {
  return text
    .replace(INVALID_XML, "\uFFFD")
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&apos;");
}

const attrs = (a: Record<string, string | number>) =>
  Object.entries(a)
    .map(([k, v]) => ` ${k}="${xmlEscape(String(v))}"`)
    .join("");
const seconds = (ms: number) => (ms / 1000).toFixed(3);

function properties(props: [string, string][], indent: string): string[] {
  if (props.length === 0) return [];
  return [`${indent}<properties>`, ...props.map(([name, value]) => `${indent}  <property${attrs({ name, value })}/>`), `${indent}</properties>`];
}

function observedText(r: ResultRecord): string {
  const lines = observedLines(r).map(
    (l) =>
      `${l.subject} (${l.status}): ${l.expected ? `expected ${bounded(l.expected, 500)}; ` : ""}observed ${bounded(l.actual, 2000)}${l.explanation ? `\n  why the digests differ: ${l.explanation}` : ""}`,
  );
  return [r.verdict.reason, ...lines].join("\n");
}

function testcase(scenario: string, version: string, r: ResultRecord | undefined, page: string): string[] {
  const kind: Kind = r?.verdict.kind ?? "not-run";
  const reason = r?.verdict.reason ?? "the run ended before this scenario ran on this version";
  const props: [string, string][] = [
    ["verdict", kind],
    ["loud", String(r?.verdict.loud ?? true)],
    ...(r?.verdict.bugs ?? []).map((b): [string, string] => ["known-bug", b]),
    ...(r?.verdict.fault ? [["fault", r.verdict.fault.code] as [string, string]] : []),
    ["details", `${page}#${resultAnchor(scenario, version)}`],
  ];
  const out = [
    `    <testcase${attrs({ classname: `buildkit-repro.${version}`, name: scenario, time: seconds(r?.wallMs ?? 0) })}>`,
    ...properties(props, "      "),
  ];
  const message = bounded(`${kind}: ${reason}`, 1000);
  if (FAILURES.has(kind)) out.push(`      <failure${attrs({ type: kind, message })}>${xmlEscape(r ? observedText(r) : reason)}</failure>`);
  else if (ERRORS.has(kind)) out.push(`      <error${attrs({ type: kind, message })}>${xmlEscape(r ? observedText(r) : reason)}</error>`);
  else if (kind === "not-applicable") out.push(`      <skipped${attrs({ message })}/>`);
  else out.push(`      <system-out>${xmlEscape(reason)}</system-out>`);
  out.push("    </testcase>");
  return out;
}

export function renderJunit(doc: ResultsDocument, page = "index.html"): string {
  const find = resultIndex(doc.results);
  const suites: string[] = [];
  const total = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  for (const v of doc.versions) {
    const cases = doc.scenarios.map((s) => ({ s, r: find(s.id, v.version) }));
    const kinds = cases.map((c) => c.r?.verdict.kind ?? "not-run");
    const counts = {
      tests: cases.length,
      failures: kinds.filter((k) => FAILURES.has(k)).length,
      errors: kinds.filter((k) => ERRORS.has(k)).length,
      skipped: kinds.filter((k) => k === "not-applicable").length,
    };
    for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += counts[k];
    const time = cases.reduce((sum, c) => sum + (c.r?.wallMs ?? 0), 0);
    const props: [string, string][] = [
      ["version.status", v.status],
      ...(v.buildkit ? [["buildkit", v.buildkit.description] as [string, string]] : []),
      ...(v.fault ? [["fault", `${v.fault.code}: ${v.fault.message}`] as [string, string]] : []),
    ];
    suites.push(
      `  <testsuite${attrs({ name: `BuildKit ${v.version}`, ...counts, time: seconds(time), timestamp: doc.run.startedAt })}>`,
      ...properties(props, "    "),
      ...cases.flatMap((c) => testcase(c.s.id, v.version, c.r, page)),
      "  </testsuite>",
    );
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attrs({ name: `buildkit-repro run ${doc.run.id}${doc.run.complete ? "" : " (interrupted)"}`, ...total })}>`,
    ...suites,
    "</testsuites>",
    "",
  ].join("\n");
}
