/**
 * The "cache reused only every other build" flow of issue 11, replayed on harness-owned
 * dockerd engines: each iteration changes one context file, prunes the builder cache,
 * removes the local image, builds with --cache-from the registry image and
 * BUILDKIT_INLINE_CACHE=1, and pushes. Prints, per engine, whether `RUN yes` was cached in
 * each iteration and which image layers the pushed inline cache gives results for.
 *
 *   npx tsx scripts/dockerd-every-other-build.ts [--build <id>]... [--iterations 6]
 *     [--image-store default|graphdriver|containerd] [--runs 1] [--json <file>]
 *
 * Builds: the ids of harness/provision/dockerd-builds.ts (default: all).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { collapseProgressGroups } from "../harness/buildkit/progress/step.ts";
import type { ImageStoreChoice } from "../harness/environment/dockerd-container.ts";
import { DockerdEnvironment } from "../harness/environment/dockerd-environment.ts";
import { RegistryRepository, readConfig, resolveImage } from "../harness/oci/content-store.ts";
import { decodeInlineCache } from "../harness/oci/inline-cache.ts";
import { RegistryClient } from "../harness/oci/registry-client.ts";
import { BASE_IMAGES, pushBaseImages } from "../harness/provision/base-images.ts";
import { DOCKERD_BUILDS } from "../harness/provision/dockerd-builds.ts";
import { runScript } from "./run-script.ts";

const RUN_STEP = "RUN yes | head -20 | tee /yes.txt";
const APP_REPO = "every-other-build/app";

interface Iteration {
  iteration: number;
  /** Whether the `RUN yes` step was a cache hit; undefined when the build failed. */
  runCached?: boolean;
  copyCached?: boolean;
  imageId?: string;
  pushedDigest?: string;
  /**
   * The pushed image's layer of the RUN step. `RUN yes` writes the same bytes every time
   * but with the time it ran, so an executed step gives a new layer and a reused one the
   * previous layer: a cache hit proven by content, not only by the progress stream.
   */
  runLayer?: string;
  /** Image layer indexes (0 = the base layer) that the pushed inline cache has results for. */
  inlineCacheLayers?: number[];
  inlineCacheRecords?: number;
  error?: string;
  wallMs: number;
}

interface EngineRun {
  build: string;
  dockerd: string;
  origin: string;
  buildkit: string;
  buildkitEvidence: string;
  imageStore: string;
  storageDriver: string;
  containerd: string;
  runc: string;
  run: number;
  iterations: Iteration[];
}

async function pushedImage(registryUrl: string, tag: string): Promise<{ runLayer?: string; cache?: { layers: number[]; records: number } }> {
  const store = new RegistryRepository(new RegistryClient(registryUrl), APP_REPO);
  const image = await resolveImage(store, tag, { os: "linux", architecture: "amd64" });
  const { config } = await readConfig(store, image.manifest.config);
  // Layer 0 is the base image's, 1 the RUN step's, 2 the COPY's.
  const runLayer = image.manifest.layers[1]?.digest;
  const cache = decodeInlineCache(config);
  if (!cache) return runLayer ? { runLayer } : {};
  const layers = new Set<number>();
  for (const r of cache.records) {
    for (const res of r.layers ?? []) layers.add(res.layer);
    for (const chain of r.chains ?? []) for (const l of chain.layers) layers.add(l);
  }
  return { ...(runLayer ? { runLayer } : {}), cache: { layers: [...layers].sort((a, b) => a - b), records: cache.records.length } };
}

async function runFlow(buildId: string, iterations: number, imageStore: ImageStoreChoice, run: number): Promise<EngineRun> {
  const env = await DockerdEnvironment.start(buildId, { imageStore });
  const context = await mkdtemp(join(tmpdir(), "every-other-build-"));
  try {
    const registryHost = env.registry.hostInNetwork;
    const base = (await pushBaseImages(new RegistryClient(env.registry.urlFromHost), BASE_IMAGES, registryHost)).get("busybox")!;
    await writeFile(join(context, "Dockerfile"), `FROM ${base.reference}\n${RUN_STEP}\nCOPY . /app\n`);
    const app = `${registryHost}/${APP_REPO}:latest`;
    const { builder, daemon } = env.engine;
    const d = env.description.dockerd;
    const out: EngineRun = {
      build: buildId,
      dockerd: daemon.serverVersion,
      origin: d.origin,
      buildkit: d.buildkit.version,
      buildkitEvidence: d.buildkit.evidence,
      imageStore: daemon.storage.imageStore,
      storageDriver: daemon.storage.driver,
      containerd: d.containerd,
      runc: d.runc,
      run,
      iterations: [],
    };
    for (let i = 1; i <= iterations; i++) {
      await writeFile(join(context, "changing.txt"), `iteration ${i}\n`);
      await builder.pruneBuilderCache();
      await builder.removeImage(app, { force: true });
      const result = await builder.build({ contextDir: context, tags: [app], cacheFrom: [app], buildArgs: { BUILDKIT_INLINE_CACHE: "1" } });
      const steps = collapseProgressGroups(result.steps).filter((s) => !s.internal);
      const it: Iteration = { iteration: i, wallMs: result.wallMs };
      if (result.error) {
        it.error = result.error;
        out.iterations.push(it);
        break;
      }
      it.runCached = steps.find((s) => s.instruction === RUN_STEP)?.cached;
      it.copyCached = steps.find((s) => s.instruction === "COPY . /app")?.cached;
      if (result.imageId) it.imageId = result.imageId;
      const pushed = await builder.push(app);
      if (pushed.error) {
        it.error = `push: ${pushed.error}`;
        out.iterations.push(it);
        break;
      }
      if (pushed.digest) it.pushedDigest = pushed.digest;
      const { runLayer, cache } = await pushedImage(env.registry.urlFromHost, "latest");
      if (runLayer) it.runLayer = runLayer;
      if (cache) {
        it.inlineCacheLayers = cache.layers;
        it.inlineCacheRecords = cache.records;
      }
      out.iterations.push(it);
    }
    return out;
  } finally {
    await rm(context, { recursive: true, force: true });
    await env.stop();
  }
}

/** Per iteration: C cached, x executed, E failed; "=" after it when the RUN layer is the previous iteration's. */
function pattern(r: EngineRun): string {
  return r.iterations
    .map((i, n) => `${i.error ? "E" : i.runCached ? "C" : "x"}${n > 0 && i.runLayer && i.runLayer === r.iterations[n - 1]?.runLayer ? "=" : ""}`)
    .join(" ");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      build: { type: "string", multiple: true },
      iterations: { type: "string", default: "6" },
      runs: { type: "string", default: "1" },
      "image-store": { type: "string", default: "default" },
      json: { type: "string" },
    },
  });
  const builds = values.build ?? DOCKERD_BUILDS.map((b) => b.id);
  const imageStore = values["image-store"] as ImageStoreChoice;
  const results: EngineRun[] = [];
  for (const build of builds) {
    for (let run = 1; run <= Number(values.runs); run++) {
      const r = await runFlow(build, Number(values.iterations), imageStore, run);
      results.push(r);
      process.stdout.write(
        `${r.build} (dockerd ${r.dockerd}, BuildKit ${r.buildkit}, ${r.imageStore} store) run ${run}: RUN yes ${pattern(r)}   inline cache layers ${r.iterations
          .map((i) => `[${i.inlineCacheLayers?.join(",") ?? "-"}]`)
          .join(" ")}\n`,
      );
    }
  }
  if (values.json) await writeFile(values.json, `${JSON.stringify(results, null, 2)}\n`);
}

runScript(main);
