import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { exitAfterInterruption, sweepOrphans } from "../environment/cleanup.ts";
import { runId } from "../environment/labels.ts";
import { HarnessError } from "../errors.ts";
import { interrupted } from "../interruption.ts";
import { ensureEngine } from "../provision/engine.ts";
import { defaultVersion, resolveVersion, supportedVersions } from "../provision/versions.ts";
import { runMatrix } from "../run/matrix.ts";
import { type Corpus, loadCorpus } from "../scenario/load.ts";
import { runCommand } from "./entry.ts";

const PROJECT_ROOT = resolve(import.meta.dirname, "../..");
const SCENARIOS = resolve(PROJECT_ROOT, "scenarios");
const REPORTS = resolve(PROJECT_ROOT, "reports");

/** Exit codes, as the README documents them. */
const EXIT = { ok: 0, attention: 1, invalidInput: 2, infrastructure: 3, harnessBug: 4 } as const;

const USAGE = `usage: npm run repro -- <command> [options]

commands:
  run [--version vX.Y.Z]... [--scenario ID]... [--scenarios DIR] [--reports DIR]
                                                 run the corpus (default: every scenario under scenarios/ on ${defaultVersion()}), write reports/
  list [--scenarios DIR]                         list scenarios
  validate [--scenarios DIR]                     load every scenario and report problems (runs nothing)
  versions                                       list known BuildKit versions and how each is provisioned
  ensure-engine                                  make sure a Docker engine answers (starts one on Debian/Ubuntu as root)
`;

function reportInvalid(corpus: Corpus): void {
  for (const i of corpus.invalid) process.stderr.write(`invalid scenario (skipped): ${i.error.describe()}\n`);
}

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
  // Every version is resolved (a tag, a branch's pseudo-version) before the first one starts.
  const versions: string[] = [];
  for (const v of values.version ?? [defaultVersion()]) versions.push((await resolveVersion(v)).version);
  const root = values.scenarios ? resolve(values.scenarios) : SCENARIOS;
  const corpus = loadCorpus(root);
  reportInvalid(corpus);
  const wanted = values.scenario ?? [];
  const unknown = wanted.filter((id) => !corpus.scenarios.some((s) => s.id === id));
  if (unknown.length > 0)
    throw new HarnessError("SCENARIO_INVALID", `No valid scenario with id ${unknown.join(", ")} under ${root}.`, "`npm run repro -- list` shows the ids.");
  const scenarios = wanted.length > 0 ? corpus.scenarios.filter((s) => wanted.includes(s.id)) : corpus.scenarios;
  if (scenarios.length === 0) {
    throw new HarnessError(
      "SCENARIO_INVALID",
      `No valid scenario folder (with a scenario.yaml) under ${root}.`,
      "Point --scenarios at a folder of scenario folders.",
    );
  }
  const { document, dir } = await runMatrix({
    versions,
    scenarios,
    invalid: wanted.length > 0 ? [] : corpus.invalid,
    reportsRoot: values.reports ? resolve(values.reports) : REPORTS,
    onResult: (r) =>
      process.stderr.write(`[verdict] ${r.scenario.id} on ${r.buildkitVersion}: ${r.verdict.kind}${r.verdict.loud ? " (!)" : ""}: ${r.verdict.reason}\n`),
  });
  if (interrupted()) {
    process.stdout.write(`interrupted; what finished is in ${dir}/results.json\n`);
    return exitAfterInterruption(runId());
  }
  process.stdout.write(`report: ${dir}/results.json and summary.md (also in reports/latest)\n`);
  for (const v of document.versions)
    process.stdout.write(`BuildKit ${v.version} (${v.status}): ${v.buildkit?.description ?? v.fault?.message ?? "not provisioned"}\n`);
  const counts = Object.entries(document.counts).filter(([, n]) => n > 0);
  process.stdout.write(`verdicts: ${counts.map(([k, n]) => `${n} ${k}`).join(", ")}\n`);
  const loud = document.results.filter((r) => r.verdict.loud);
  for (const r of loud) process.stdout.write(`NEEDS ATTENTION: ${r.scenario} on ${r.version}: ${r.verdict.kind}: ${r.verdict.reason}\n`);
  if (corpus.invalid.length > 0 && wanted.length === 0) return EXIT.invalidInput;
  const machineOnly = document.results.length > 0 && document.results.every((r) => r.verdict.kind === "infrastructure-error" || r.verdict.kind === "not-run");
  if (machineOnly) return EXIT.infrastructure;
  return loud.length > 0 ? EXIT.attention : EXIT.ok;
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
    case "list": {
      const corpus = loadCorpus(scenariosRoot(rest));
      for (const s of corpus.scenarios) process.stdout.write(`${s.id}\t${s.applies}\t${s.title}\n`);
      reportInvalid(corpus);
      return corpus.invalid.length > 0 ? EXIT.invalidInput : EXIT.ok;
    }
    case "validate": {
      const corpus = loadCorpus(scenariosRoot(rest));
      for (const s of corpus.scenarios) process.stdout.write(`ok ${s.dir}\n`);
      for (const i of corpus.invalid) process.stdout.write(`${i.error.describe()}\n`);
      return corpus.invalid.length > 0 ? EXIT.invalidInput : EXIT.ok;
    }
    case "versions":
      for (const v of supportedVersions()) {
        process.stdout.write(
          `${v.version}${v.version === defaultVersion() ? " (default)" : ""}\t${v.officialDigest ? `official moby/buildkit:${v.version}@${v.officialDigest}, else local build` : "unpinned: local build from the Go module"}\n`,
        );
      }
      return EXIT.ok;
    case "ensure-engine": {
      const engine = await ensureEngine();
      await sweepOrphans();
      process.stdout.write(
        `Docker engine ${engine.serverVersion} (API ${engine.apiVersion}), ${engine.provenance === "started" ? "started by this command" : "already running"}\n`,
      );
      return EXIT.ok;
    }
    default:
      process.stderr.write(USAGE);
      return command === undefined || command === "help" || command === "--help" ? EXIT.ok : EXIT.invalidInput;
  }
}

runCommand(() => main(process.argv.slice(2)), USAGE);
