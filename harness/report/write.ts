import { cp, mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { renderMarkdown } from "./markdown.ts";
import type { RunResults } from "./results.ts";

/**
 * Writes results.json and summary.md into reports/<time>-<run id>/, and mirrors them
 * into reports/latest/ so the newest run is always at the same path.
 */
export async function writeReport(results: RunResults, reportsRoot: string): Promise<{ dir: string; latest: string }> {
  const stamp = results.startedAt.replace(/[:.]/g, "-");
  const dir = join(reportsRoot, `${stamp}-${results.runId}`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(join(dir, "summary.md"), renderMarkdown(results));
  const latest = join(reportsRoot, "latest");
  await rm(latest, { recursive: true, force: true });
  await cp(dir, latest, { recursive: true });
  return { dir, latest };
}
