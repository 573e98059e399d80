/**
 * Records the engine's message streams of real builds on each dockerd build into
 * test/fixtures/dockerd/<build id>/ (see its README): a cold build, the same build again
 * (local cache), a build after prune and image removal importing the registry image's
 * inline cache, a failing RUN, and the push of the cold build.
 *
 *   npx tsx scripts/record-dockerd-streams.ts [--build <id>]...
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DockerdEnvironment } from "../harness/environment/dockerd-environment.ts";
import { RegistryClient } from "../harness/oci/registry-client.ts";
import { BASE_IMAGES, pushBaseImages } from "../harness/provision/base-images.ts";
import { DOCKERD_BUILDS } from "../harness/provision/dockerd-builds.ts";
import { runScript } from "./run-script.ts";

const FIXTURES = new URL("../test/fixtures/dockerd/", import.meta.url).pathname;

async function record(buildId: string): Promise<void> {
  const env = await DockerdEnvironment.start(buildId);
  const context = await mkdtemp(join(tmpdir(), "record-dockerd-"));
  const dir = join(FIXTURES, buildId);
  try {
    await mkdir(dir, { recursive: true });
    const registryHost = env.registry.hostInNetwork;
    const base = (await pushBaseImages(new RegistryClient(env.registry.urlFromHost), BASE_IMAGES, registryHost)).get("busybox")!;
    await writeFile(join(context, "Dockerfile"), `FROM ${base.reference}\nRUN echo building > /built.txt\nCOPY a.txt /a.txt\nRUN cat /a.txt /built.txt\n`);
    await writeFile(join(context, "a.txt"), "a\n");
    const app = `${registryHost}/recorded/app:latest`;
    const { builder, daemon } = env.engine;
    const request = { contextDir: context, tags: [app], buildArgs: { BUILDKIT_INLINE_CACHE: "1" } };

    const cold = await builder.build(request);
    await writeFile(join(dir, "cold.jsonl"), cold.rawStream);
    const pushed = await builder.push(app);
    await writeFile(join(dir, "push.jsonl"), pushed.rawStream);
    const warm = await builder.build(request);
    await writeFile(join(dir, "warm.jsonl"), warm.rawStream);
    await builder.pruneBuilderCache();
    await builder.removeImage(app, { force: true });
    const imported = await builder.build({ ...request, cacheFrom: [app] });
    await writeFile(join(dir, "import.jsonl"), imported.rawStream);
    const fail = await builder.build({
      contextDir: context,
      dockerfile: "fail.Dockerfile",
      dockerfileContent: `FROM ${base.reference}\nCOPY a.txt /a.txt\nRUN echo about to fail && cat /does-not-exist\n`,
    });
    await writeFile(join(dir, "fail.jsonl"), fail.rawStream);
    // Only what the harness reads or reports; the rest of /info describes the machine.
    const info = (await daemon.client.info()) as Record<string, unknown>;
    const kept = Object.fromEntries(["ServerVersion", "Driver", "DriverStatus", "CgroupDriver", "CgroupVersion", "SecurityOptions"].map((k) => [k, info[k]]));
    await writeFile(join(dir, "info.json"), `${JSON.stringify(kept, null, 2)}\n`);
    await writeFile(
      join(dir, "engine.json"),
      `${JSON.stringify(
        {
          build: buildId,
          serverVersion: daemon.serverVersion,
          apiVersion: daemon.apiVersion,
          storage: daemon.storage,
          origin: env.description.dockerd.origin,
          buildkit: env.description.dockerd.buildkit,
          baseImage: base.reference,
        },
        null,
        2,
      )}\n`,
    );
    process.stdout.write(`${buildId}: recorded in ${dir}\n`);
  } finally {
    await rm(context, { recursive: true, force: true });
    await env.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { build: { type: "string", multiple: true } } });
  for (const build of values.build ?? DOCKERD_BUILDS.map((b) => b.id)) await record(build);
}

runScript(main);
