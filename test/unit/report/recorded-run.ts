/** A report folder made by the RunRecorder from a synthetic run, in a temporary folder removed by `dispose`. */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ResultsDocument } from "../../../harness/report/model.ts";
import { RunRecorder } from "../../../harness/run/recorder.ts";
import { recordSyntheticRun, type SyntheticOptions } from "./synthetic-run.ts";

export interface RecordedRun {
  readonly root: string;
  readonly dir: string;
  readonly doc: ResultsDocument;
  read(file: string): Promise<string>;
}

export async function reportsRoot(): Promise<{ root: string; dispose: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), "buildkit-repro-report-test-"));
  return { root, dispose: () => rm(root, { recursive: true, force: true }) };
}

export async function recordRun(
  root: string,
  scenarios: number,
  versions: number,
  options: SyntheticOptions & { previous?: string } = {},
): Promise<RecordedRun> {
  const recorder = await RunRecorder.create(root, options.previous ? { previous: options.previous } : {});
  const doc = await recordSyntheticRun(recorder, scenarios, versions, options);
  return { root, dir: recorder.dir, doc, read: (file) => readFile(join(recorder.dir, file), "utf8") };
}
