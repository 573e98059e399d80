/** How each verdict reads in every report format, and where a result is found in index.html. */
import type { ResultRecord } from "./model.ts";

type Kind = ResultRecord["verdict"]["kind"];

export interface VerdictLabel {
  mark: string;
  label: string;
  colour: string;
}

const LABELS: Record<Kind, VerdictLabel> = {
  pass: { mark: "✅", label: "pass", colour: "#2e7d32" },
  "known-bug-reproduced": { mark: "🐛", label: "known bug", colour: "#6a5acd" },
  "unexpected-pass": { mark: "❗", label: "unexpected pass", colour: "#ef6c00" },
  fail: { mark: "❌", label: "fail", colour: "#c62828" },
  inconclusive: { mark: "❔", label: "inconclusive", colour: "#f9a825" },
  "not-applicable": { mark: "➖", label: "n/a", colour: "#9e9e9e" },
  "infrastructure-error": { mark: "⚠️", label: "infra error", colour: "#5d4037" },
  "not-run": { mark: "⏹️", label: "not run", colour: "#616161" },
};

export const VERDICT_ORDER = Object.keys(LABELS) as Kind[];

export function verdictLabel(kind: Kind): VerdictLabel {
  return LABELS[kind] ?? { mark: "?", label: kind, colour: "#000" };
}

/** The fragment of index.html that opens one scenario × version (ids keep only characters safe in a URL fragment). */
export function resultAnchor(scenario: string, version: string): string {
  return `r-${scenario.replace(/[^A-Za-z0-9_-]/g, "_")}--${version.replace(/[^A-Za-z0-9_-]/g, "_")}`;
}

/** A results lookup by scenario and version: a run holds at most one result per pair. */
export function resultIndex(results: readonly ResultRecord[]): (scenario: string, version: string) => ResultRecord | undefined {
  const map = new Map(results.map((r) => [`${r.scenario}\u0000${r.version}`, r]));
  return (scenario, version) => map.get(`${scenario}\u0000${version}`);
}
