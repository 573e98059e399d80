/**
 * Harness overhead, printed as figures and ratios (not asserted):
 * - environment start to ready (registry + buildkitd answering gRPC), images already provisioned;
 * - a fresh builder (replace the daemon) in the middle of a scenario;
 * - for a scenario, its wall time over the sum of its buildctl invocations' wall times.
 *
 *   npm run bench [-- --scenario ID] [--starts N]
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { startCorpusEnvironment } from "../harness/corpus.ts";
import { BuildkitEnvironment } from "../harness/environment/environment.ts";
import { defaultVersion } from "../harness/provision/versions.ts";
import { loadScenario } from "../harness/scenario/load.ts";
import { runScenario } from "../harness/scenario/runner.ts";

const { values } = parseArgs({ options: { scenario: { type: "string", default: "inline-cache-chains-vanish" }, starts: { type: "string", default: "5" } } });
const version = defaultVersion();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// Warm-up start provisions images, so the timed starts measure the environment alone.
await (await BuildkitEnvironment.start(version)).stop();

const starts: number[] = [];
const stops: number[] = [];
for (let i = 0; i < Number(values.starts); i++) {
  const env = await BuildkitEnvironment.start(version);
  starts.push(env.timings.startToReadyMs);
  const t = Date.now();
  await env.stop();
  stops.push(Date.now() - t);
}

const { env, images, baseImagesMs } = await startCorpusEnvironment(version);
try {
  const fresh: number[] = [];
  for (let i = 0; i < 3; i++) fresh.push((await env.freshBuilder()).startToReadyMs);
  const scenario = loadScenario(resolve(import.meta.dirname, "../scenarios", values.scenario!));
  const run = await runScenario(scenario, env, images);
  const overhead = run.wallMs / run.buildctlWallMs;
  console.log(`BuildKit ${version}: ${env.description.buildkitImage.description}`);
  console.log(
    `environment start→ready: median ${median(starts)} ms over ${starts.length} (min ${Math.min(...starts)}, max ${Math.max(...starts)}); stop ${median(stops)} ms`,
  );
  console.log(`base images pushed in ${baseImagesMs} ms; fresh builder start→ready: median ${median(fresh)} ms`);
  console.log(`scenario ${run.scenario}: ${run.builds.length} builds, wall ${run.wallMs} ms, buildctl ${Math.round(run.buildctlWallMs)} ms`);
  console.log(`harness overhead ratio (scenario wall / buildctl wall): ${overhead.toFixed(2)}`);
  console.log(`verdict: ${run.verdict.kind}`);
} finally {
  await env.stop();
}
