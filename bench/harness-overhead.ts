/**
 * Harness overhead, printed as figures and ratios (not asserted):
 * - environment start to ready (registry + buildkitd answering gRPC), images already provisioned;
 * - a fresh builder and a fresh registry (each scenario starts with both);
 * - for a scenario, its wall time over the sum of its buildctl invocations' wall times.
 *
 *   npm run bench [-- --scenario ID] [--starts N]
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { BuildkitdBuilder } from "../harness/builders/buildkitd.ts";
import { BuildkitEnvironment, provisionVersion } from "../harness/environment/environment.ts";
import { defaultVersion } from "../harness/provision/versions.ts";
import { loadScenario } from "../harness/scenario/load.ts";
import { runScenario } from "../harness/scenario/run/scenario.ts";

const { values } = parseArgs({ options: { scenario: { type: "string", default: "inline-cache-chains-vanish" }, starts: { type: "string", default: "5" } } });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const provisioned = await provisionVersion(defaultVersion());
const starts: number[] = [];
const stops: number[] = [];
for (let i = 0; i < Number(values.starts); i++) {
  const env = await BuildkitEnvironment.start(provisioned);
  starts.push(env.timings.startToReadyMs);
  const t = Date.now();
  await env.stop();
  stops.push(Date.now() - t);
}

const env = await BuildkitEnvironment.start(provisioned);
try {
  const builders: number[] = [];
  const registries: number[] = [];
  for (let i = 0; i < 3; i++) {
    builders.push((await env.freshBuilder()).startToReadyMs);
    const t = Date.now();
    await env.freshRegistry();
    registries.push(Date.now() - t);
  }
  const scenario = loadScenario(resolve(import.meta.dirname, "../scenarios", values.scenario!));
  const run = await runScenario(scenario, new BuildkitdBuilder(env));
  const builds = run.attempts.flatMap((a) => a.observation.builds);
  const buildctlMs = run.attempts.reduce((n, a) => n + a.observation.buildctlWallMs, 0);
  console.log(`BuildKit ${provisioned.version}: ${provisioned.buildkitImage.description}`);
  console.log(
    `environment start→ready: median ${median(starts)} ms over ${starts.length} (min ${Math.min(...starts)}, max ${Math.max(...starts)}); stop ${median(stops)} ms`,
  );
  console.log(`fresh builder start→ready: median ${median(builders)} ms; fresh registry: median ${median(registries)} ms`);
  console.log(`scenario ${scenario.id}: ${builds.length} builds, wall ${run.wallMs} ms, buildctl ${Math.round(buildctlMs)} ms`);
  console.log(`harness overhead ratio (scenario wall / buildctl wall): ${(run.wallMs / buildctlMs).toFixed(2)}`);
  console.log(`verdict: ${run.verdict.kind}`);
} finally {
  await env.stop();
}
