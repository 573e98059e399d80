import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Dockerode from "dockerode";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { DockerdEnvironment } from "../../harness/environment/dockerd-environment.ts";
import { LABEL_RUN, runId } from "../../harness/environment/labels.ts";
import { RegistryClient } from "../../harness/oci/registry-client.ts";
import { BASE_IMAGES, pushBaseImages } from "../../harness/provision/base-images.ts";
import { isDebianLike } from "../../harness/provision/host-packages.ts";

/**
 * dockerd's embedded BuildKit as a builder, end to end on Debian bookworm's engine (the
 * cheapest to provision): builds through the engine API with per-step cache hits, builder
 * cache prune and image removal, an import of the pushed inline cache; and nothing left
 * after the environment stops or after SIGINT in the middle of a build.
 */
const ROOT = resolve(import.meta.dirname, "../..");
const docker = new Dockerode();
const work = mkdtempSync(join(tmpdir(), "dockerd-test-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function leftovers(run: string): Promise<string[]> {
  const filters = JSON.stringify({ label: [`${LABEL_RUN}=${run}`] });
  const containers = (await docker.listContainers({ all: true, filters })).map((c) => `container ${c.Names.join(",")}`);
  const networks = (await docker.listNetworks({ filters })).map((n) => `network ${n.Name}`);
  return [...containers, ...networks];
}

const cachedByInstruction = (steps: Array<{ instruction?: string; cached: boolean; internal: boolean }>) =>
  Object.fromEntries(steps.filter((s) => !s.internal && !s.instruction?.startsWith("FROM ")).map((s) => [s.instruction, s.cached]));

// Debian packages are where the engines come from; elsewhere there is nothing to provision them with.
describe.skipIf(!isDebianLike())("dockerd builder (Debian bookworm's engine)", () => {
  it("builds, reuses its cache, prunes it, and imports the pushed inline cache", async () => {
    const env = await DockerdEnvironment.start("debian-bookworm");
    try {
      const base = (await pushBaseImages(new RegistryClient(env.registry.urlFromHost), BASE_IMAGES, env.registry.hostInNetwork)).get("busybox")!;
      const context = join(work, "context");
      rmSync(context, { recursive: true, force: true });
      await execa("mkdir", ["-p", context]);
      writeFileSync(join(context, "Dockerfile"), `FROM ${base.reference}\nRUN head -c 16 /dev/urandom | od -x > /random.txt\nCOPY a.txt /a.txt\n`);
      writeFileSync(join(context, "a.txt"), "a\n");
      const app = `${env.registry.hostInNetwork}/e2e/app:latest`;
      const { builder } = env.engine;
      const request = { contextDir: context, tags: [app], buildArgs: { BUILDKIT_INLINE_CACHE: "1" } };

      const cold = await builder.build(request);
      expect(cold.error).toBeUndefined();
      expect(cachedByInstruction(cold.steps)).toEqual({ "RUN head -c 16 /dev/urandom | od -x > /random.txt": false, "COPY a.txt /a.txt": false });
      expect((await builder.push(app)).error).toBeUndefined();

      const warm = await builder.build(request);
      expect(cachedByInstruction(warm.steps)).toEqual({ "RUN head -c 16 /dev/urandom | od -x > /random.txt": true, "COPY a.txt /a.txt": true });
      expect(warm.imageId).toBe(cold.imageId);

      expect((await builder.pruneBuilderCache()).cachesDeleted).toBeGreaterThan(0);
      expect(await builder.removeImage(app, { force: true })).toBe(true);
      expect(await builder.removeImage(app, { force: true })).toBe(false);

      // The RUN writes random bytes: reusing it from the imported cache gives the same image.
      const imported = await builder.build({ ...request, cacheFrom: [app] });
      expect(cachedByInstruction(imported.steps)).toEqual({ "RUN head -c 16 /dev/urandom | od -x > /random.txt": true, "COPY a.txt /a.txt": true });
      expect(imported.imageId).toBe(cold.imageId);
    } finally {
      await env.stop();
    }
    expect(await leftovers(runId())).toEqual([]);
  });

  it("leaves nothing after SIGINT in the middle of a build", async () => {
    const run = `dockerd-sigint-${Date.now()}`;
    const env: NodeJS.ProcessEnv = { ...process.env, BUILDKIT_REPRO_RUN_ID: run };
    delete env.BUILDKIT_REPRO_OWNER_PID;
    const child = execa(process.execPath, ["--import", "tsx", "scripts/dockerd-every-other-build.ts", "--build", "debian-bookworm", "--iterations", "50"], {
      cwd: ROOT,
      env,
      reject: false,
      all: true,
      forceKillAfterDelay: false,
    });
    await new Promise<void>((resolveWait, reject) => {
      const timer = setTimeout(() => reject(new Error("the script never started its engine")), 5 * 60_000);
      void child.then((r) => reject(new Error(`the script ended before it was interrupted: ${r.all ?? ""}`)));
      let stderr = "";
      child.stderr!.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
        if (/ready at http/.test(stderr)) {
          clearTimeout(timer);
          // Into the builds of the first iterations.
          setTimeout(resolveWait, 1500);
        }
      });
    });
    child.kill("SIGINT");
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(await leftovers(run)).toEqual([]);
  });
});
