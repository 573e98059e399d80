/**
 * The corpus across the default matrix, warm: every version's images are provisioned
 * first (untimed; cold builds are reported apart), then the matrix runs, timed, at each
 * parallelism asked for. Prints the wall time per parallelism (not asserted).
 *
 *   npm run bench:matrix [-- --versions ">=0.20.0"] [--parallel 1,2,3] [--scenario ID]...
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { provisionVersion } from "../harness/environment/environment.ts";
import { matrixVersions, matrixVersionsIn } from "../harness/provision/versions.ts";
import { DEFAULT_PARALLELISM, runMatrix } from "../harness/run/matrix.ts";
import { loadCorpus } from "../harness/scenario/load.ts";
import { runScript } from "../scripts/run-script.ts";

const { values } = parseArgs({
  options: {
    versions: { type: "string" },
    parallel: { type: "string", default: String(DEFAULT_PARALLELISM) },
    scenario: { type: "string", multiple: true },
  },
});

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * The machine's CPU time so far, from /proc/stat's first line (USER_HZ ticks): all of it,
 * idle + iowait, and steal (time a virtual machine's host ran something else: busy, but not ours).
 */
function machineCpu(): { total: number; idle: number; steal: number } {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  return { total: fields.reduce((a, b) => a + b, 0), idle: (fields[3] ?? 0) + (fields[4] ?? 0), steal: fields[7] ?? 0 };
}

/** How busy the machine's cores were between two readings, and how much of it was this process. */
function cpuUse(before: { machine: ReturnType<typeof machineCpu>; own: NodeJS.CpuUsage }, wallMs: number): string {
  const after = machineCpu();
  const total = after.total - before.machine.total;
  const busy = total === 0 ? 0 : 1 - (after.idle - before.machine.idle) / total;
  const steal = total === 0 ? 0 : (after.steal - before.machine.steal) / total;
  const own = process.cpuUsage(before.own);
  return `cores busy ${(busy * 100).toFixed(0)}% of ${cpus().length} (steal ${(steal * 100).toFixed(0)}%); harness process ${seconds((own.user + own.system) / 1000)} CPU (${(((own.user + own.system) / 1000 / wallMs) * 100).toFixed(0)}% of one core)`;
}

runScript(async () => {
  const versions = (values.versions ? matrixVersionsIn(values.versions) : matrixVersions()).map((v) => v.version);
  const corpus = loadCorpus(resolve(import.meta.dirname, "../scenarios"));
  const scenarios = values.scenario ? corpus.scenarios.filter((s) => values.scenario!.includes(s.id)) : corpus.scenarios;
  const parallelisms = values.parallel.split(",").map(Number);

  process.stdout.write(`warming ${versions.length} version(s): provisioning whatever is not built yet\n`);
  const warmUp: string[] = [];
  for (const v of versions) {
    const t = Date.now();
    try {
      const p = await provisionVersion(v);
      warmUp.push(`${v}\t${seconds(Date.now() - t)}\t${p.buildkitImage.description}`);
    } catch (err) {
      warmUp.push(`${v}\tFAILED\t${(err as Error).message.split("\n")[0]}`);
    }
  }
  process.stdout.write(`${warmUp.join("\n")}\n\n`);

  const reports = await mkdtemp(join(tmpdir(), "buildkit-repro-bench-matrix-"));
  try {
    const rows: string[] = [];
    for (const parallelism of parallelisms) {
      const t = Date.now();
      const before = { machine: machineCpu(), own: process.cpuUsage() };
      const { document } = await runMatrix({ versions, scenarios, invalid: [], reportsRoot: join(reports, `p${parallelism}`), parallelism });
      const wall = Date.now() - t;
      if (!document.run.complete) {
        // An interrupted run's wall time measures nothing; the cells it did not reach are not-run.
        rows.push(`${parallelism}\tinterrupted after ${seconds(wall)}\t-`);
        break;
      }
      const loudResults = document.results.filter((r) => r.verdict.loud);
      const loud = loudResults.length;
      // What turned red, so a slowdown that costs verdicts is seen, not only timed.
      for (const r of loudResults)
        process.stdout.write(
          `  loud at parallelism ${parallelism}: ${r.version} ${r.scenario}: ${r.verdict.kind}${r.verdict.fault ? ` (${r.verdict.fault.code})` : ""}: ${r.verdict.reason.split("\n")[0]}\n`,
        );
      rows.push(`${parallelism}\t${seconds(wall)}\t${document.results.length} results (${loud} loud)\t${cpuUse(before, wall)}`);
      process.stdout.write(`parallelism ${parallelism}: ${versions.length} versions × ${scenarios.length} scenarios warm in ${seconds(wall)}\n`);
    }
    process.stdout.write(`\nparallelism\twall time (warm)\tcells\tCPU\n${rows.join("\n")}\n`);
  } finally {
    await rm(reports, { recursive: true, force: true });
  }
});
