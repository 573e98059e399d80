/**
 * Keeps a run's report folder up to date while the run goes: each result is appended to
 * results.ndjson (and its daemons' logs written) the moment it is judged, so an interrupted
 * or crashed run still shows what it finished; results.json, summary.md, junit.xml and
 * index.html are written at the end, also for an interrupted run (what did not run is
 * marked so).
 */
import { readFileSync } from "node:fs";
import { appendFile, cp, mkdir, rm, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { runId } from "../environment/labels.ts";
import { compareWithPrevious, previousResultsPath } from "../report/compare.ts";
import { renderHtml } from "../report/html.ts";
import { renderJunit } from "../report/junit.ts";
import { logExcerpt } from "../report/log-excerpt.ts";
import { comparisonMarkdown, renderMarkdown } from "../report/markdown.ts";
import { RESULTS_SCHEMA_VERSION, type ResultRecord, type ResultsDocument, type ScenarioRecord, type VersionRecord } from "../report/model.ts";
import { resultRecord } from "../report/records.ts";
import { VERDICT_KINDS } from "../scenario/judge/verdict.ts";
import type { ScenarioResult } from "../scenario/run/scenario.ts";

const PROJECT_ROOT = resolve(import.meta.dirname, "../..");

function harnessVersion(): string {
  return (JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")) as { version: string }).version;
}

const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, "_");

export class RunRecorder {
  private readonly results: ResultRecord[] = [];

  private constructor(
    /** reports/<start time>-<run id>/ */
    readonly dir: string,
    private readonly reportsRoot: string,
    private readonly startedAt: Date,
    private readonly previous: string | undefined,
  ) {}

  /** `previous`: the results.json to compare with (default: the newest other run in `reportsRoot`). */
  static async create(reportsRoot: string, options: { previous?: string } = {}): Promise<RunRecorder> {
    const startedAt = new Date();
    const dir = join(reportsRoot, `${startedAt.toISOString().replace(/[:.]/g, "-")}-${runId()}`);
    await mkdir(dir, { recursive: true });
    return new RunRecorder(dir, reportsRoot, startedAt, options.previous);
  }

  /** Records one judged scenario: its daemons' logs as files, then a line of results.ndjson. */
  async add(result: ScenarioResult): Promise<ResultRecord> {
    const logDir = join("logs", safe(result.builder.id), safe(result.scenario.id));
    const paths: string[][] = [];
    for (const [i, attempt] of result.attempts.entries()) {
      paths.push([]);
      for (const [j, daemon] of attempt.observation.daemons.entries()) {
        const rel = join(logDir, `${result.attempts.length > 1 ? `attempt-${i + 1}-` : ""}buildkitd-${j + 1}.log`);
        await mkdir(join(this.dir, logDir), { recursive: true });
        await writeFile(join(this.dir, rel), daemon.log);
        paths[i]!.push(rel);
      }
    }
    const record = resultRecord(result, (i, j) => paths[i]?.[j] ?? "");
    this.results.push(record);
    await appendFile(join(this.dir, "results.ndjson"), `${JSON.stringify(record)}\n`);
    return record;
  }

  /** Writes results.json, summary.md (with the change since the previous run), junit.xml and index.html, and mirrors the folder to reports/latest. */
  async finish(parts: {
    versions: readonly VersionRecord[];
    scenarios: readonly ScenarioRecord[];
    invalidScenarios: ResultsDocument["invalidScenarios"];
    engine?: ResultsDocument["run"]["engine"];
    complete: boolean;
    /** The results' order in results.json (versions that run side by side finish interleaved). */
    order?: (a: ResultRecord, b: ResultRecord) => number;
  }): Promise<ResultsDocument> {
    if (parts.order) this.results.sort(parts.order);
    const counts = Object.fromEntries(VERDICT_KINDS.map((k) => [k, this.results.filter((r) => r.verdict.kind === k).length]));
    const doc: ResultsDocument = {
      schemaVersion: RESULTS_SCHEMA_VERSION,
      harness: { version: harnessVersion() },
      run: {
        id: runId(),
        startedAt: this.startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        host: hostname(),
        ...(parts.engine ? { engine: parts.engine } : {}),
        complete: parts.complete,
      },
      versions: [...parts.versions],
      scenarios: [...parts.scenarios],
      invalidScenarios: parts.invalidScenarios,
      results: this.results,
      counts,
    };
    await writeFile(join(this.dir, "results.json"), `${JSON.stringify(doc, null, 2)}\n`);
    const comparison = await compareWithPrevious(doc, this.previous ?? (await previousResultsPath(this.reportsRoot, this.dir)));
    await writeFile(join(this.dir, "summary.md"), renderMarkdown(doc, { preface: comparisonMarkdown(comparison) }));
    await writeFile(join(this.dir, "junit.xml"), renderJunit(doc));
    await writeFile(join(this.dir, "index.html"), renderHtml(doc, { comparison, logExcerpt: (log) => logExcerpt(this.dir, log) }));
    const latest = join(this.reportsRoot, "latest");
    await rm(latest, { recursive: true, force: true });
    await cp(this.dir, latest, { recursive: true });
    return doc;
  }
}
