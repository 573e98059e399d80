/**
 * Change since the previous run: which scenario × version verdicts differ from those of an
 * earlier results.json (by default the newest other run in the same reports folder). Only
 * scenario, version and verdict kind are read from it, so a results.json of an older
 * schema version still compares; one that cannot be read is reported, never fatal.
 */
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import type { ResultsDocument } from "./model.ts";

type Kind = ResultsDocument["results"][number]["verdict"]["kind"];

export interface VerdictChange {
  scenario: string;
  version: string;
  /** Absent: the previous run had no result for this pair. */
  before?: Kind;
  /** Absent: this run has no result for this pair. */
  after?: Kind;
  /** The change needs attention: the verdict now is loud. */
  loud: boolean;
}

export type Comparison =
  | { status: "none"; reason: string }
  | { status: "unreadable"; path: string; reason: string }
  | {
      status: "compared";
      path: string;
      previous: { id: string; startedAt: string };
      changes: VerdictChange[];
      /** Pairs present in both runs with the same verdict. */
      unchanged: number;
    };

interface PreviousRun {
  id: string;
  startedAt: string;
  verdicts: Map<string, { scenario: string; version: string; kind: Kind }>;
}

const key = (scenario: string, version: string) => `${scenario}\u0000${version}`;

function parsePrevious(text: string): PreviousRun | string {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return `not JSON: ${(e as Error).message}`;
  }
  const d = doc as { run?: { id?: unknown; startedAt?: unknown }; results?: unknown };
  if (!d || typeof d !== "object" || !Array.isArray(d.results)) return "no results array: not a buildkit-repro results.json";
  const verdicts = new Map<string, { scenario: string; version: string; kind: Kind }>();
  for (const r of d.results as { scenario?: unknown; version?: unknown; verdict?: { kind?: unknown } }[]) {
    if (typeof r?.scenario !== "string" || typeof r.version !== "string" || typeof r.verdict?.kind !== "string") {
      return "a result without scenario, version or verdict.kind";
    }
    verdicts.set(key(r.scenario, r.version), { scenario: r.scenario, version: r.version, kind: r.verdict.kind as Kind });
  }
  return {
    id: typeof d.run?.id === "string" ? d.run.id : "unknown",
    startedAt: typeof d.run?.startedAt === "string" ? d.run.startedAt : "unknown",
    verdicts,
  };
}

/** The newest run folder under `reportsRoot` other than `currentDir` (and latest/) that holds a results.json. */
export async function previousResultsPath(reportsRoot: string, currentDir: string): Promise<string | undefined> {
  const current = basename(resolve(currentDir));
  const entries = await readdir(reportsRoot, { withFileTypes: true }).catch(() => []);
  // Run folders are named <ISO start time>-<run id>, so their names sort by start time.
  const runs = entries
    .filter((e) => e.isDirectory() && e.name !== "latest" && e.name !== current)
    .map((e) => e.name)
    .sort()
    .reverse();
  return runs.map((name) => join(reportsRoot, name, "results.json")).find((p) => existsSync(p));
}

export async function compareWithPrevious(current: ResultsDocument, path: string | undefined): Promise<Comparison> {
  if (!path) return { status: "none", reason: "no earlier run in this reports folder" };
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    return { status: "unreadable", path, reason: (e as Error).message };
  }
  const previous = parsePrevious(text);
  if (typeof previous === "string") return { status: "unreadable", path, reason: previous };
  return { status: "compared", path, previous: { id: previous.id, startedAt: previous.startedAt }, ...diffVerdicts(previous.verdicts, current) };
}

function diffVerdicts(before: PreviousRun["verdicts"], current: ResultsDocument): { changes: VerdictChange[]; unchanged: number } {
  const changes: VerdictChange[] = [];
  let unchanged = 0;
  const seen = new Set<string>();
  for (const r of current.results) {
    const k = key(r.scenario, r.version);
    seen.add(k);
    const was = before.get(k)?.kind;
    if (was === r.verdict.kind) unchanged++;
    else changes.push({ scenario: r.scenario, version: r.version, ...(was ? { before: was } : {}), after: r.verdict.kind, loud: r.verdict.loud });
  }
  for (const [k, was] of before) {
    if (!seen.has(k)) changes.push({ scenario: was.scenario, version: was.version, before: was.kind, loud: false });
  }
  // What needs attention first, then by scenario and version.
  changes.sort((a, b) => Number(b.loud) - Number(a.loud) || a.scenario.localeCompare(b.scenario) || a.version.localeCompare(b.version));
  return { changes, unchanged };
}
