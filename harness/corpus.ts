import type { BuildkitEnvironment, EnvironmentDescription, EnvironmentTimings } from "./environment/environment.ts";
import { BuildkitEnvironment as Environment } from "./environment/environment.ts";
import { HarnessError } from "./errors.ts";
import { interrupted } from "./interruption.ts";
import { RegistryClient } from "./oci/registry-client.ts";
import { BASE_IMAGES, pushBaseImages } from "./provision/base-images.ts";
import { runScenario, type ScenarioRun } from "./scenario/runner.ts";
import type { Scenario } from "./scenario/types.ts";

export interface EnvironmentRun {
  readonly environment: EnvironmentDescription;
  readonly timings: EnvironmentTimings & { baseImagesMs: number };
  /** Base image name → the digest-pinned reference scenarios saw. */
  readonly baseImages: Record<string, string>;
  readonly results: ScenarioRun[];
}

/** Starts one version's environment with the base images pushed into its registry. */
export async function startCorpusEnvironment(version: string): Promise<{ env: BuildkitEnvironment; images: Map<string, string>; baseImagesMs: number }> {
  const env = await Environment.start(version);
  try {
    const started = Date.now();
    const pushed = await pushBaseImages(new RegistryClient(env.registry.urlFromHost), BASE_IMAGES, env.registry.hostInNetwork);
    const images = new Map([...pushed].map(([name, image]) => [name, image.reference]));
    return { env, images, baseImagesMs: Date.now() - started };
  } catch (err) {
    await env.stop();
    throw err;
  }
}

/** Runs scenarios one after another on one version; the environment is always stopped. */
export async function runCorpus(version: string, scenarios: readonly Scenario[], onResult?: (run: ScenarioRun) => void): Promise<EnvironmentRun> {
  const { env, images, baseImagesMs } = await startCorpusEnvironment(version);
  try {
    const results: ScenarioRun[] = [];
    for (const scenario of scenarios) {
      const run = await runScenario(scenario, env, images);
      if (interrupted())
        throw new HarnessError(
          "INTERRUPTED",
          `Interrupted during ${scenario.id}; no verdict is reported.`,
          "Run again; everything this run created has been removed.",
        );
      results.push(run);
      onResult?.(run);
    }
    return { environment: env.description, timings: { ...env.timings, baseImagesMs }, baseImages: Object.fromEntries(images), results };
  } finally {
    await env.stop();
  }
}
