/**
 * Shard results into one report: the results.json of runs over disjoint version × scenario
 * cells (shards, or one job per version) merged into the document a single run over all
 * of them writes, with each run's daemon logs copied along.
 */
import { readFileSync } from "node:fs";
import { cp, mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runId } from "../environment/labels.ts";
import { HarnessError } from "../errors.ts";
import { compareVersions } from "../provision/versions.ts";
import { renderMarkdown } from "../report/markdown.ts";
import type { ResultsDocument, VersionRecord } from "../report/model.ts";
import { resultsProblems } from "../report/schema.ts";
import { VERDICT_KINDS } from "../scenario/judge/verdict.ts";

/** Reads and checks one results.json; the error names the file and what is wrong. */
export function readResults(path: string): ResultsDocument {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new HarnessError("SCENARIO_INVALID", `${path} is not readable JSON: ${(err as Error).message}`, "Give the results.json of a run (or its folder).");
  }
  const problems = resultsProblems(doc);
  if (problems.length > 0) {
    throw new HarnessError(
      "SCENARIO_INVALID",
      `${path} is not a results.json of this harness's schema: ${problems.slice(0, 5).join("; ")}`,
      "Merge results written by the same harness version (schemaVersion must match).",
    );
  }
  return doc as ResultsDocument;
}

/** A version provisioned by several shards: the record of one that ran it, else the first. */
function pickVersion(records: readonly VersionRecord[]): VersionRecord {
  return records.find((r) => r.status === "ran") ?? records[0]!;
}

/** The merged document, as a single run over the same cells writes it; `id` names the merge. */
export function mergeResults(docs: readonly ResultsDocument[], id: string = runId()): ResultsDocument {
  if (docs.length === 0) throw new HarnessError("SCENARIO_INVALID", "Nothing to merge.", "Give one or more results.json files or report folders.");
  const harnesses = [...new Set(docs.map((d) => d.harness.version))];
  if (harnesses.length > 1) {
    throw new HarnessError(
      "VERSION_MISMATCH",
      `The results come from different harness versions (${harnesses.join(", ")}).`,
      "Merge the results of one checkout.",
    );
  }
  const seen = new Set<string>();
  for (const r of docs.flatMap((d) => d.results)) {
    const cell = `${r.version} × ${r.scenario}`;
    if (seen.has(cell))
      throw new HarnessError("SCENARIO_INVALID", `Two results for ${cell}: the inputs overlap.`, "Merge shards of one split (disjoint cells) only.");
    seen.add(cell);
  }
  const byVersion = new Map<string, VersionRecord[]>();
  for (const v of docs.flatMap((d) => d.versions)) byVersion.set(v.version, [...(byVersion.get(v.version) ?? []), v]);
  const versions = [...byVersion.keys()].sort(compareVersions).map((v) => pickVersion(byVersion.get(v)!));
  const scenarios = [...new Map(docs.flatMap((d) => d.scenarios).map((s) => [s.id, s])).values()];
  const invalidScenarios = [...new Map(docs.flatMap((d) => d.invalidScenarios).map((i) => [i.folder, i])).values()];
  const versionIndex = new Map(versions.map((v, i) => [v.version, i]));
  const scenarioIndex = new Map(scenarios.map((s, i) => [s.id, i]));
  const results = docs
    .flatMap((d) => d.results)
    .sort((a, b) => versionIndex.get(a.version)! - versionIndex.get(b.version)! || scenarioIndex.get(a.scenario)! - scenarioIndex.get(b.scenario)!);
  const engine = docs.find((d) => d.run.engine)?.run.engine;
  return {
    schemaVersion: docs[0]!.schemaVersion,
    harness: docs[0]!.harness,
    run: {
      id,
      startedAt: docs.map((d) => d.run.startedAt).sort()[0]!,
      finishedAt: docs
        .map((d) => d.run.finishedAt)
        .sort()
        .at(-1)!,
      host: [...new Set(docs.map((d) => d.run.host))].join(", "),
      ...(engine ? { engine } : {}),
      complete: docs.every((d) => d.run.complete),
    },
    versions,
    scenarios,
    invalidScenarios,
    results,
    counts: Object.fromEntries(VERDICT_KINDS.map((k) => [k, results.filter((r) => r.verdict.kind === k).length])),
  };
}

/** `dir` is a report folder or a results.json. */
function resultsPath(dir: string): string {
  return dir.endsWith(".json") ? dir : join(dir, "results.json");
}

/** Merges report folders into `out` (results.json, summary.md, the logs), mirrored to `<reportsRoot>/latest` when given. */
export async function mergeReportFolders(dirs: readonly string[], out: string, reportsRoot?: string): Promise<ResultsDocument> {
  const docs = dirs.map((d) => readResults(resultsPath(d)));
  const merged = mergeResults(docs);
  await mkdir(out, { recursive: true });
  for (const d of dirs) {
    const folder = d.endsWith(".json") ? join(d, "..") : d;
    // Log paths are logs/<version>/<scenario>/…: disjoint cells never collide.
    await cp(join(folder, "logs"), join(out, "logs"), { recursive: true, force: false, errorOnExist: false }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
  }
  await writeFile(join(out, "results.json"), `${JSON.stringify(merged, null, 2)}\n`);
  await writeFile(join(out, "summary.md"), renderMarkdown(merged));
  if (reportsRoot) {
    const latest = join(reportsRoot, "latest");
    await rm(latest, { recursive: true, force: true });
    await cp(out, latest, { recursive: true });
  }
  return merged;
}
