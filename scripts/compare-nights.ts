/**
 * The nightly comparison: `compare-nights.ts --current results.json [--previous results.json]
 * [--by-scenario] [--title T] [--history-in FILE] [--history-out FILE]`. Prints Markdown
 * (for the job summary), appends tonight's changes to the history of verdict changes, and
 * exits 1 when a change needs a person, else 0.
 */
import { existsSync } from "node:fs";
import { appendFile, copyFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { compareResults, comparisonMarkdown } from "../harness/run/compare.ts";
import { readResults } from "../harness/run/merge.ts";

const { values } = parseArgs({
  options: {
    current: { type: "string" },
    previous: { type: "string" },
    "by-scenario": { type: "boolean" },
    title: { type: "string" },
    "history-in": { type: "string" },
    "history-out": { type: "string" },
  },
});
if (!values.current) {
  process.stderr.write(
    "usage: compare-nights.ts --current results.json [--previous results.json] [--by-scenario] [--title T] [--history-in F] [--history-out F]\n",
  );
  process.exit(2);
}
const current = readResults(values.current);
const previous = values.previous && existsSync(values.previous) ? readResults(values.previous) : undefined;
const comparison = compareResults(previous, current, { byScenario: values["by-scenario"] ?? false });
process.stdout.write(comparisonMarkdown(values.title ?? "Changes since the previous night", comparison, previous?.run.id));
const out = values["history-out"];
if (out) {
  const from = values["history-in"];
  if (from && existsSync(from) && from !== out) await copyFile(from, out);
  const entry = {
    run: current.run.id,
    finishedAt: current.run.finishedAt,
    title: values.title ?? "",
    previousRun: previous?.run.id ?? null,
    changes: comparison.changes,
  };
  await appendFile(out, `${JSON.stringify(entry)}\n`);
}

if (values.previous && !previous) process.stderr.write(`no previous results at ${values.previous}: every loud verdict counts as new\n`);
process.exit(comparison.needsPerson ? 1 : 0);
