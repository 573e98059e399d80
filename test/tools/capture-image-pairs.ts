/**
 * Records real image pairs for the difference explainer's tests: runs a corpus scenario on
 * one BuildKit version, picks two of its builds, and copies from the test registry exactly
 * the manifests and blobs the explainer reads to explain them (nothing it does not read, so
 * the fixture also shows where it stopped). Writes test/fixtures/image-pairs/<pair>/.
 *
 *   npx tsx test/tools/capture-image-pairs.ts [pair...]     (default: every pair)
 */
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { BuildkitdBuilder } from "../../harness/builders/buildkitd.ts";
import { BuildkitEnvironment, provisionVersion } from "../../harness/environment/environment.ts";
import { RegistryRepository } from "../../harness/oci/content-store.ts";
import { explainImages } from "../../harness/oci/diff/index.ts";
import { renderExplanationText } from "../../harness/oci/diff/render-text.ts";
import { RegistryClient } from "../../harness/oci/registry-client.ts";
import { loadScenario } from "../../harness/scenario/load.ts";
import type { Scenario } from "../../harness/scenario/model.ts";
import type { BuildObservation, ImageObservation } from "../../harness/scenario/observation.ts";
import { runScenario } from "../../harness/scenario/run/scenario.ts";
import { RecordingStore, writeBlobFolder } from "./blob-folder.ts";

const ROOT = resolve(import.meta.dirname, "../..");
export const PAIRS_DIR = join(ROOT, "test/fixtures/image-pairs");

interface PairSpec {
  scenario: string;
  version: string;
  description: string;
  /** Changes the working copy of the scenario folder before the run. */
  prepare?: (folder: string) => Promise<void>;
  /** Changes the loaded scenario (its steps) before the run. */
  transform?: (scenario: Scenario) => Scenario;
  pick: (builds: readonly BuildObservation[]) => [BuildObservation, BuildObservation];
}

function imageOf(b: BuildObservation): ImageObservation | undefined {
  return b.outputs.find((o) => o.image)?.image;
}

function byName(builds: readonly BuildObservation[], a: string, b: string): [BuildObservation, BuildObservation] {
  const first = builds.find((x) => x.build === a);
  const second = builds.find((x) => x.build === b);
  if (!first || !second) throw new Error(`the run has no builds named ${a} and ${b}`);
  return [first, second];
}

const PAIRS: Record<string, PairSpec> = {
  "chains-vanish-v0.24.0": {
    scenario: "inline-cache-chains-vanish",
    version: "v0.24.0",
    description:
      "moby/buildkit#3009: the rebuild in which an inline cache record lost results, and the rebuild before it (prune + import the previous image's inline cache each time)",
    pick: (builds) => {
      const config = (x: BuildObservation) => imageOf(x)?.configDigest;
      const i = builds.findIndex((x, j) => j > 0 && config(x) !== config(builds[j - 1]!));
      if (i < 1) throw new Error(`the config digest never changed in ${builds.length} rebuilds: the bug did not strike; run again`);
      return [builds[i - 1]!, builds[i]!];
    },
  },
  "sde-mtimes-v0.12.5": {
    scenario: "sde-plain-layer-mtimes",
    version: "v0.12.5",
    description: "SOURCE_DATE_EPOCH=1700000000 without rewrite-timestamp: two cold builds on fresh builders",
    pick: (builds) => byName(builds, "first", "second"),
  },
  "context-change-v0.34.0": {
    scenario: "dockerignore-stabilises-copy",
    version: "v0.34.0",
    description:
      "dockerignore-stabilises-copy without its .dockerignore: context/.git/HEAD changes between the builds, so COPY . /app and the RUN writing random bytes both run again",
    prepare: (folder) => rm(join(folder, "context/.dockerignore")),
    pick: (builds) => byName(builds, "first", "second"),
  },
  "provenance-v0.34.0": {
    scenario: "sde-rewrite-timestamp",
    version: "v0.34.0",
    description:
      "sde-rewrite-timestamp (reproducible from v0.13) with a provenance attestation (attest:provenance=mode=min) on both builds: an index whose attestation manifest records build times",
    transform: (scenario) => ({
      ...scenario,
      steps: scenario.steps.map((step) =>
        step.kind === "build" ? { ...step, frontendOpts: { ...step.frontendOpts, "attest:provenance": "mode=min" } } : step,
      ),
    }),
    pick: (builds) => byName(builds, "first", "second"),
  },
};

async function capture(name: string, spec: PairSpec): Promise<void> {
  let scenario = loadScenario(join(ROOT, "scenarios", spec.scenario));
  if (spec.transform) scenario = spec.transform(scenario);
  let work: string | undefined;
  if (spec.prepare) {
    work = await mkdtemp(join(tmpdir(), `capture-${spec.scenario}-`));
    const folder = join(work, spec.scenario);
    await cp(scenario.dir, folder, { recursive: true });
    await spec.prepare(folder);
    scenario = { ...scenario, dir: folder };
  }
  const env = await BuildkitEnvironment.start(await provisionVersion(spec.version));
  try {
    const run = await runScenario(scenario, new BuildkitdBuilder(env));
    const [a, b] = spec.pick(run.attempts.at(-1)!.observation.builds);
    const [ia, ib] = [imageOf(a), imageOf(b)];
    if (!ia?.repository || !ib?.repository) throw new Error(`builds ${a.build} and ${b.build} pushed no image (verdict: ${JSON.stringify(run.verdict)})`);
    const store = new RecordingStore(new RegistryRepository(new RegistryClient(env.registry.urlFromHost), ia.repository));
    const digest = (i: ImageObservation) => i.indexDigest ?? i.manifestDigest;
    const explanation = await explainImages({ store, reference: digest(ia) }, { store, reference: digest(ib) });
    process.stdout.write(`${name}:\n${renderExplanationText(explanation)}\n`);

    const dir = join(PAIRS_DIR, name);
    await rm(dir, { recursive: true, force: true });
    await writeBlobFolder(dir, store.blobs);
    const side = (x: BuildObservation, i: ImageObservation) => ({
      reference: digest(i),
      build: x.build,
      sequence: x.sequence,
      ...(x.iteration !== undefined ? { iteration: x.iteration } : {}),
      configDigest: i.configDigest,
    });
    const pair = {
      name,
      description: spec.description,
      scenario: spec.scenario,
      ...(spec.prepare || spec.transform ? { modified: "see test/tools/capture-image-pairs.ts" } : {}),
      buildkitVersion: env.description.buildkitVersion,
      buildkitImage: env.description.buildkitImage.description,
      registry: env.description.registryImage.description,
      verdict: run.verdict.kind,
      capturedAt: new Date().toISOString(),
      command: `npx tsx test/tools/capture-image-pairs.ts ${name}`,
      a: side(a, ia),
      b: side(b, ib),
      mediaTypes: Object.fromEntries(store.mediaTypes),
      blobs: store.blobs.size,
    };
    await writeFile(join(dir, "pair.json"), `${JSON.stringify(pair, null, 2)}\n`);
  } finally {
    await env.stop();
    if (work) await rm(work, { recursive: true, force: true });
  }
}

const names = process.argv.slice(2);
for (const name of names.length > 0 ? names : Object.keys(PAIRS)) {
  const spec = PAIRS[name];
  if (!spec) throw new Error(`unknown pair ${name}; known: ${Object.keys(PAIRS).join(", ")}`);
  await capture(name, spec);
}
