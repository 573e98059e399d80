import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Dockerode from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Buildctl } from "../../harness/buildkit/buildctl.ts";
import { BuildkitEnvironment, provisionVersion } from "../../harness/environment/environment.ts";
import { pushImage } from "../../harness/oci/image-writer.ts";
import { RegistryClient } from "../../harness/oci/registry-client.ts";
import { defaultVersion, lookupVersion } from "../../harness/provision/versions.ts";

/**
 * A fresh builder is the next buildkitd of the same container, a fresh registry the next
 * registry process (generations.ts): each must start with empty state, the one it replaced
 * must be gone with its state, and a container whose daemon is gone is replaced by a new one.
 */
const docker = new Dockerode();
const version = lookupVersion(defaultVersion()).version;
const context = mkdtempSync(join(tmpdir(), "fresh-builder-test-"));
writeFileSync(join(context, "Dockerfile"), "FROM scratch\nCOPY Dockerfile /copied\n");
afterAll(() => rmSync(context, { recursive: true, force: true }));

/** The command lines of the buildkitd processes in a container. */
async function buildkitdProcesses(containerId: string): Promise<string[]> {
  const top = await docker.getContainer(containerId).top({ ps_args: "-o pid,args" });
  return (top.Processes ?? []).map((p: string[]) => p[1] ?? "").filter((args: string) => args.startsWith("buildkitd "));
}

/** The generations' state directories present in a container. */
async function stateDirs(containerId: string, root = "/var/lib/buildkit"): Promise<string> {
  // A TTY: the output comes as plain text, without the multiplexing frames.
  const exec = await docker.getContainer(containerId).exec({ Cmd: ["sh", "-c", `cd ${root} && echo *`], AttachStdout: true, Tty: true });
  const stream = await exec.start({ Tty: true });
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", resolve);
    stream.on("error", reject);
  });
  return Buffer.concat(chunks).toString("utf8").trim().split(/\s+/).join(" ");
}

const catalog = async (url: string) => ((await (await fetch(`${url}/v2/_catalog`)).json()) as { repositories: string[] }).repositories;

describe(`fresh builders on BuildKit ${version}`, () => {
  let env: BuildkitEnvironment;
  const client = () => new Buildctl({ binary: env.description.buildctl.path, addr: env.daemon.addr, clientVersion: env.description.buildctl.version });

  beforeAll(async () => {
    env = await BuildkitEnvironment.start(await provisionVersion(version));
  });
  afterAll(() => env?.stop());

  it("starts the next buildkitd with empty state and removes the one before", async () => {
    const first = env.daemon;
    const built = await client().build({
      frontend: "dockerfile.v0",
      locals: { context, dockerfile: context },
      frontendOpts: {},
      importCache: [],
      exportCache: [],
      outputs: [],
    });
    expect(built.exitCode).toBe(0);
    expect((await client().du()).length).toBeGreaterThan(0);

    const second = await env.freshBuilder();
    expect(second.container.getId()).toBe(first.container.getId());
    expect(second.generation).toBe(first.generation + 1);
    expect(second.workerId).not.toBe(first.workerId);
    expect(await client().du()).toEqual([]);
    const processes = await buildkitdProcesses(second.container.getId());
    expect(processes).toHaveLength(1);
    expect(processes[0]).toContain(`--root /var/lib/buildkit/${second.generation}`);
    expect(await stateDirs(second.container.getId())).toBe(String(second.generation));

    const [retired, current] = await env.takeDaemonRecords();
    expect(retired).toMatchObject({ generation: first.generation });
    expect(retired!.log).toContain(`generation ${first.generation} starting`);
    expect(retired!.log).not.toContain(`generation ${second.generation} starting`);
    expect(current).toMatchObject({ generation: second.generation });
    expect(current!.log).toMatch(new RegExp(`^buildkit-repro: buildkitd generation ${second.generation} starting`));
  });

  it("replaces a container whose buildkitd is gone with a new one", async () => {
    const before = env.daemon;
    await docker.getContainer(before.container.getId()).kill();
    const after = await env.freshBuilder();
    expect(after.container.getId()).not.toBe(before.container.getId());
    expect(after.generation).toBe(1);
    expect((await client().debugWorkers())[0]?.id).toBe(after.workerId);
    const [lost] = await env.takeDaemonRecords();
    expect(lost?.exit?.exitCode).toBe(137);
  });

  it("gives a fresh registry the base images and nothing else, in the same container", async () => {
    const before = env.registry;
    const url = before.urlFromHost;
    await pushImage(new RegistryClient(url), "extra", "latest", {
      layers: [],
      config: { architecture: "amd64", os: "linux", created: "2020-01-01T00:00:00Z" },
    });
    expect(await catalog(url)).toContain("extra");

    const after = await env.freshRegistry();
    expect(after.container.getId()).toBe(before.container.getId());
    expect(after.generation).toBe(before.generation + 1);
    expect((await catalog(after.urlFromHost)).sort()).toEqual([...after.baseImages.values()].map((b) => b.repo).sort());
    expect([...after.baseImages.values()].map((b) => b.digest)).toEqual([...before.baseImages.values()].map((b) => b.digest));
    expect(await stateDirs(after.container.getId(), "/var/lib/registry")).toBe(String(after.generation));
  });
});
