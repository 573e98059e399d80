import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { runCorpus } from "../corpus.ts";
import { sweepOrphans } from "../environment/cleanup.ts";
import { runId } from "../environment/labels.ts";
import { HarnessError } from "../errors.ts";
import { ensureEngine } from "../provision/engine.ts";
import { defaultVersion, supportedVersions } from "../provision/versions.ts";
import { collectResults } from "../report/results.ts";
import { writeReport } from "../report/write.ts";
import { discoverScenarios, loadScenario } from "../scenario/load.ts";
import { runCommand } from "./entry.ts";

const PROJECT_ROOT = resolve(import.meta.dirname, "../..");
const SCENARIOS = resolve(PROJECT_ROOT, "scenarios");
const REPORTS = resolve(PROJECT_ROOT, "reports");

const USAGE = `usage: npm run repro -- <command> [options]

commands:
  run [--version vX.Y.Z]... [--scenario ID]... [--scenarios DIR] [--reports DIR]
                                                 run the corpus (default: every scenario under scenarios/ on ${defaultVersion()}), write reports/
  list [--scenarios DIR]                         list scenarios
  validate [--scenarios DIR]                     load every scenario and report problems (runs nothing)
  versions                                       list supported BuildKit versions and how each is provisioned
  ensure-engine                                  make sure a Docker engine answers (starts one on Debian/Ubuntu as root)
`;

async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      version: { type: "string", multiple: true },
      scenario: { type: "string", multiple: true },
      scenarios: { type: "string" },
      reports: { type: "string" },
    },
  });
  const versions = values.version ?? [defaultVersion()];
  const root = values.scenarios ? resolve(values.scenarios) : SCENARIOS;
  const all = discoverScenarios(root).map(loadScenario);
  if (all.length === 0)
    throw new HarnessError(
      "SCENARIO_INVALID",
      `No scenario folders (with a scenario.yaml) under ${root}.`,
      "Point --scenarios at a folder of scenario folders.",
    );
  const wanted = values.scenario ?? [];
  const unknown = wanted.filter((id) => !all.some((s) => s.id === id));
  if (unknown.length > 0)
    throw new HarnessError("SCENARIO_INVALID", `No scenario with id ${unknown.join(", ")} under ${root}.`, "`npm run repro -- list` shows the ids.");
  const scenarios = wanted.length > 0 ? all.filter((s) => wanted.includes(s.id)) : all;
  const startedAt = new Date();
  const environments = [];
  for (const version of versions) {
    environments.push(
      await runCorpus(version, scenarios, (r) =>
        process.stderr.write(`[verdict] ${r.scenario} on ${r.buildkitVersion}: ${r.verdict.kind}${r.verdict.loud ? " (!)" : ""}: ${r.verdict.reason}\n`),
      ),
    );
  }
  const results = collectResults(runId(), startedAt, environments);
  const { dir, latest } = await writeReport(results, values.reports ? resolve(values.reports) : REPORTS);
  process.stdout.write(`report: ${dir}/results.json and summary.md (also in ${latest})\n`);
  for (const env of environments) process.stdout.write(`BuildKit ${env.environment.buildkitVersion}: ${env.environment.buildkitImage.description}\n`);
  process.stdout.write(
    `verdicts: ${Object.entries(results.counts)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${n} ${k}`)
      .join(", ")}\n`,
  );
  for (const l of results.loud) process.stdout.write(`NEEDS ATTENTION: ${l.scenario} on ${l.buildkitVersion}: ${l.verdict}: ${l.reason}\n`);
  return results.loud.length > 0 ? 1 : 0;
}

/** `--scenarios DIR` for list and validate; the corpus by default. */
function scenariosRoot(args: string[]): string {
  const { values } = parseArgs({ args, options: { scenarios: { type: "string" } } });
  return values.scenarios ? resolve(values.scenarios) : SCENARIOS;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "run":
      return run(rest);
    case "list":
      for (const s of discoverScenarios(scenariosRoot(rest)).map(loadScenario)) process.stdout.write(`${s.id}\t${s.applies}\t${s.title}\n`);
      return 0;
    case "validate": {
      let bad = 0;
      for (const dir of discoverScenarios(scenariosRoot(rest))) {
        try {
          loadScenario(dir);
          process.stdout.write(`ok ${dir}\n`);
        } catch (err) {
          bad++;
          process.stdout.write(`${err instanceof HarnessError ? err.describe() : String(err)}\n`);
        }
      }
      return bad > 0 ? 1 : 0;
    }
    case "versions":
      for (const v of supportedVersions()) {
        process.stdout.write(
          `${v.version}${v.version === defaultVersion() ? " (default)" : ""}\t${v.officialDigest ? `official moby/buildkit:${v.version}@${v.officialDigest}, else local build` : "unpinned: local build from the Go module"}\n`,
        );
      }
      return 0;
    case "ensure-engine": {
      const engine = await ensureEngine();
      await sweepOrphans();
      process.stdout.write(
        `Docker engine ${engine.serverVersion} (API ${engine.apiVersion}), ${engine.provenance === "started" ? "started by this command" : "already running"}\n`,
      );
      return 0;
    }
    default:
      process.stderr.write(USAGE);
      return command === undefined || command === "help" || command === "--help" ? 0 : 2;
  }
}

runCommand(() => main(process.argv.slice(2)));
