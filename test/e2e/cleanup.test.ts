import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Dockerode from "dockerode";
import { execa, type ResultPromise } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { sweepOrphans } from "../../harness/environment/cleanup.ts";
import { LABEL_OWNER_HOST, LABEL_OWNER_PID, LABEL_RUN } from "../../harness/environment/labels.ts";
import { provisionRegistryImage } from "../../harness/provision/registry-image.ts";

/**
 * Nothing leaks: after a failing run, after a run interrupted with SIGINT in the middle of
 * a build, and after SIGTERM to the `npm run repro` a user typed, no container, network or
 * volume of that run exists (nor, for the latter, a temporary file); leftovers of a dead
 * process are swept. Runs the CLI as a separate process, as a user would.
 */
const ROOT = resolve(import.meta.dirname, "../..");
const docker = new Dockerode();
const work = mkdtempSync(join(tmpdir(), "cleanup-test-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function leftovers(run: string): Promise<string[]> {
  const filters = JSON.stringify({ label: [`${LABEL_RUN}=${run}`] });
  const containers = (await docker.listContainers({ all: true, filters })).map((c) => `container ${c.Names.join(",")}`);
  const networks = (await docker.listNetworks({ filters })).map((n) => `network ${n.Name}`);
  const volumes = ((await docker.listVolumes({ filters })).Volumes ?? []).map((v) => `volume ${v.Name}`);
  return [...containers, ...networks, ...volumes];
}

function cli(args: string[], run: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, BUILDKIT_REPRO_RUN_ID: run };
  delete env.BUILDKIT_REPRO_OWNER_PID; // the child owns its run, as a user's `npm run repro` would
  return execa(process.execPath, ["--import", "tsx", "harness/cli/main.ts", ...args], { cwd: ROOT, env, reject: false, all: true, forceKillAfterDelay: false });
}

/** Resolves once the environment is ready and the scenario's fresh builder runs its `RUN sleep 30`. */
async function untilBuilding(child: ResultPromise): Promise<void> {
  await new Promise<void>((resolveWait, reject) => {
    const timer = setTimeout(() => reject(new Error("the run never reached its build")), 3 * 60_000);
    void child.then((r) => reject(new Error(`the run ended before it was interrupted: ${String(r.all ?? "")}`)));
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (/\[environment\] BuildKit \S+ ready at/.test(stderr)) {
        clearTimeout(timer);
        setTimeout(resolveWait, 4_000);
      }
    });
  });
}

/** An interrupted run reports what finished; the scenario it interrupted is "not run", which says nothing about BuildKit. */
function expectNothingSaidAboutBuildkit(output: string, signal: string): void {
  const verdicts = output.split("\n").filter((l) => l.startsWith("[verdict]"));
  expect(verdicts.length).toBeGreaterThan(0);
  for (const v of verdicts) expect(v).toMatch(new RegExp(`: not-run \\(!\\): not run: interrupted \\(${signal}\\)$`));
  expect(output).toMatch(/interrupted; what finished is in \S+results\.json/);
}

/** Pids whose parent is `pid`, from /proc. */
function childrenOf(pid: number): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        // "pid (comm) state ppid ...": comm may hold spaces, so read after the last ")".
        const stat = readFileSync(`/proc/${d}/stat`, "utf8");
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

function scenarioFolder(name: string, dockerfile: string, repeat: number): string {
  const root = join(work, name);
  const dir = join(root, name);
  mkdirSync(join(dir, "context"), { recursive: true });
  writeFileSync(join(dir, "Dockerfile"), dockerfile);
  writeFileSync(
    join(dir, "scenario.yaml"),
    `id: ${name}
title: cleanup drill
upstream: [https://github.com/moby/buildkit/issues/3009]
expectation: builds succeed
steps:
  - repeat:
      times: ${repeat}
      steps:
        - build:
            name: b
            output: { type: image, name: "{{registry}}/{{scenario}}:latest", push: true }
assertions:
  - id: builds
    build-succeeds: { build: b }
`,
  );
  return root;
}

describe("cleanup", () => {
  it("leaves nothing after a run whose build fails", async () => {
    const run = `cleanup-fail-${Date.now()}`;
    const scenarios = scenarioFolder("failing-build", "FROM {{image:busybox}}\nRUN exit 3\n", 1);
    const result = await cli(["run", "--scenarios", scenarios, "--reports", join(work, "reports")], run);
    expect(result.all).toMatch(/failing-build on v[\d.]+: fail/);
    expect(result.exitCode).toBe(1);
    expect(await leftovers(run)).toEqual([]);
  });

  it("leaves nothing after SIGINT in the middle of a build", async () => {
    const run = `cleanup-sigint-${Date.now()}`;
    const scenarios = scenarioFolder("slow-build", "FROM {{image:busybox}}\nRUN sleep 30\n", 1);
    const child = cli(["run", "--scenarios", scenarios, "--reports", join(work, "reports")], run);
    await untilBuilding(child);
    expect(await leftovers(run)).not.toEqual([]);
    child.kill("SIGINT");
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(result.all).toMatch(/SIGINT: removing the containers and networks this process created/);
    expectNothingSaidAboutBuildkit(String(result.all), "SIGINT");
    expect(await leftovers(run)).toEqual([]);
  });

  it("leaves nothing after SIGTERM to `npm run repro` in the middle of a build", async () => {
    const run = `cleanup-sigterm-${Date.now()}`;
    const scenarios = scenarioFolder("slow-build-sigterm", "FROM {{image:busybox}}\nRUN sleep 30\n", 1);
    // The run's own temporary folder, so that "nothing left" there is about this run alone.
    const tmp = mkdtempSync(join(work, "tmpdir-"));
    const env: NodeJS.ProcessEnv = { ...process.env, BUILDKIT_REPRO_RUN_ID: run, TMPDIR: tmp };
    delete env.BUILDKIT_REPRO_OWNER_PID;
    // What `kill <pid>` of the command a user typed does; execa's default would SIGKILL 5 s later.
    const npm = execa("npm", ["run", "--silent", "repro", "--", "run", "--scenarios", scenarios, "--reports", join(work, "reports")], {
      cwd: ROOT,
      env,
      reject: false,
      all: true,
      forceKillAfterDelay: false,
    });
    await untilBuilding(npm);
    const harness = childrenOf(npm.pid!);
    expect(harness).toHaveLength(1); // no shell and no launcher between npm and the harness
    expect(await leftovers(run)).not.toEqual([]);
    npm.kill("SIGTERM");
    const result = await npm;
    expect(result.exitCode).toBe(143);
    expect(result.all).toMatch(/SIGTERM: removing the containers and networks this process created/);
    expectNothingSaidAboutBuildkit(String(result.all), "SIGTERM");
    expect(existsSync(`/proc/${harness[0]}`)).toBe(false);
    expect(await leftovers(run)).toEqual([]);
    // tsx's transform cache and testcontainers' port-lock file live in TMPDIR on purpose, across runs.
    expect(readdirSync(tmp).filter((name) => !/^tsx-\d+$|^testcontainers-node-\d+\.lock$/.test(name))).toEqual([]);
  });

  it("sweeps resources whose owning process is gone", async () => {
    const image = await provisionRegistryImage();
    const run = `cleanup-orphan-${Date.now()}`;
    const container = await docker.createContainer({
      Image: image.reference,
      Labels: { [LABEL_RUN]: run, [LABEL_OWNER_PID]: "2147483646", [LABEL_OWNER_HOST]: hostname() },
    });
    await docker.createNetwork({ Name: `orphan-${run}`, Labels: { [LABEL_RUN]: run, [LABEL_OWNER_PID]: "2147483646", [LABEL_OWNER_HOST]: hostname() } });
    expect(await leftovers(run)).toHaveLength(2);
    await sweepOrphans();
    expect(await leftovers(run)).toEqual([]);
    await container.remove({ force: true }).catch(() => undefined);
  });
});
