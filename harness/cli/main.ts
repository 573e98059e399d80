import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { DOCKERD_PREFIX } from "../builders/builder.ts";
import { exitAfterInterruption, sweepOrphans } from "../environment/cleanup.ts";
import { runId } from "../environment/labels.ts";
import { HarnessError } from "../errors.ts";
import { interrupted } from "../interruption.ts";
import { DOCKERD_BUILDS, lookupDockerdBuild } from "../provision/dockerd-builds.ts";
import { ensureEngine } from "../provision/engine.ts";
import { defaultVersion, matrixVersions, matrixVersionsIn, resolveVersion, supportedVersions } from "../provision/versions.ts";
import { DEFAULT_PARALLELISM, runMatrix } from "../run/matrix.ts";
import { mergeReportFolders } from "../run/merge.ts";
import { parseShard } from "../run/shard.ts";
import { type Corpus, loadCorpus } from "../scenario/load.ts";
import { runCommand } from "./entry.ts";

const PROJECT_ROOT = resolve(import.meta.dirname, "../..");
const SCENARIOS = resolve(PROJECT_ROOT, "scenarios");
const REPORTS = resolve(PROJECT_ROOT, "reports");

/** Exit codes, as the README documents them. */
const EXIT = { ok: 0, attention: 1, invalidInput: 2, infrastructure: 3, harnessBug: 4 } as const;

const USAGE = `usage: npm run repro -- <command> [options]

commands:
  run [--version V]... [--matrix | --versions RANGE] [--parallel N] [--shard I/N]
      [--scenario ID]... [--scenarios DIR] [--reports DIR] [--compare-with RESULTS_JSON]
                                                 run the corpus (default: every scenario under scenarios/ on ${defaultVersion()}), write reports/;
                                                 V: any release tag, a branch (master) or a commit of github.com/moby/buildkit,
                                                 or dockerd:ID, an engine with its embedded BuildKit (see versions);
                                                 --matrix: the default matrix; --versions ">=0.13.0 <0.20.0": that part of it;
                                                 --parallel: versions at once (default ${DEFAULT_PARALLELISM}); --shard 2/4: the 2nd quarter of the cells;
                                                 verdicts are compared with the previous run in the reports folder, or RESULTS_JSON
  merge-results DIR... [--out DIR]               merge the results.json of shards (or per-version runs) into one report
  list [--scenarios DIR]                         list scenarios
  validate [--scenarios DIR]                     load every scenario and report problems (runs nothing)
  versions                                       list known BuildKit versions and dockerd engines, and how each is provisioned
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
      matrix: { type: "boolean" },
      versions: { type: "string" },
      parallel: { type: "string" },
      shard: { type: "string" },
      scenario: { type: "string", multiple: true },
      scenarios: { type: "string" },
      reports: { type: "string" },
      "compare-with": { type: "string" },
    },
  });
  const previous = values["compare-with"] ? resolve(values["compare-with"]) : undefined;
  if (previous && !existsSync(previous)) {
    process.stderr.write(`--compare-with ${previous}: no such file. Give the results.json of an earlier run.\n`);
    return EXIT.invalidInput;
  }
  // Every version is resolved (a tag, a branch's pseudo-version, an engine) before the first one starts.
  const asked = [...(values.version ?? [])];
  if (values.matrix) asked.push(...matrixVersions().map((v) => v.version));
  if (values.versions) asked.push(...matrixVersionsIn(values.versions).map((v) => v.version));
  const versions: string[] = [];
  for (const v of asked.length > 0 ? asked : [defaultVersion()]) {
    const version = v.startsWith(DOCKERD_PREFIX)
      ? `${DOCKERD_PREFIX}${lookupDockerdBuild(v.slice(DOCKERD_PREFIX.length)).id}`
      : (await resolveVersion(v)).version;
    if (!versions.includes(version)) versions.push(version);
  }
  const parallelism = values.parallel === undefined ? undefined : Number(values.parallel);
  if (parallelism !== undefined && !(Number.isInteger(parallelism) && parallelism >= 1 && parallelism <= 16))
    throw new HarnessError(
      "SCENARIO_INVALID",
      `--parallel ${values.parallel} is not a whole number from 1 to 16.`,
      `Give e.g. --parallel ${DEFAULT_PARALLELISM}.`,
    );
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
    ...(previous ? { previous } : {}),
    ...(parallelism ? { parallelism } : {}),
    ...(values.shard ? { shard: parseShard(values.shard) } : {}),
    onResult: (r) =>
      process.stderr.write(
        `[verdict] ${r.scenario.id} on ${r.builder.kind === "dockerd" ? `${r.builder.id} (BuildKit ${r.buildkitVersion})` : r.buildkitVersion}: ${r.verdict.kind}${r.verdict.loud ? " (!)" : ""}: ${r.verdict.reason}\n`,
      ),
  });
  if (interrupted()) {
    process.stdout.write(`interrupted; what finished is in ${dir}/results.json\n`);
    return exitAfterInterruption(runId());
  }
  process.stdout.write(`report: ${dir}/results.json and summary.md (also in reports/latest)\n`);
  for (const v of document.versions)
    process.stdout.write(
      `${v.builder?.kind === "dockerd" ? v.version : `BuildKit ${v.version}`} (${v.status}): ${v.builder?.origin ?? v.buildkit?.description ?? v.fault?.message ?? "not provisioned"}\n`,
    );
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
    case "merge-results": {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { out: { type: "string" } } });
      if (positionals.length === 0) throw new HarnessError("SCENARIO_INVALID", "merge-results needs report folders (or results.json files).", USAGE);
      const out = values.out ? resolve(values.out) : resolve(REPORTS, `${new Date().toISOString().replace(/[:.]/g, "-")}-merged-${runId()}`);
      const merged = await mergeReportFolders(
        positionals.map((p) => resolve(p)),
        out,
        values.out ? undefined : REPORTS,
      );
      process.stdout.write(`merged ${positionals.length} report(s), ${merged.results.length} results: ${out}/results.json and summary.md\n`);
      return EXIT.ok;
    }
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
          `${v.version}${v.version === defaultVersion() ? " (default)" : ""}\t${v.officialDigest ? `official moby/buildkit:${v.version}@${v.officialDigest}, else local build` : "unpinned: local build from the Go module"}\t${v.matrix ? `matrix: ${v.matrix}` : "pin only"}\n`,
        );
      }
      for (const b of DOCKERD_BUILDS) {
        const from = b.kind === "debian" ? `Debian ${b.suite}'s docker.io` : `${b.module}@${b.version}, built from the Go module`;
        process.stdout.write(`${DOCKERD_PREFIX}${b.id}\t${from}; its embedded BuildKit is read from the binary when the image is made\n`);
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
