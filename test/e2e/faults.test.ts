import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Dockerode from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LABEL_RUN, runId } from "../../harness/environment/labels.ts";
import { defaultVersion, lookupVersion } from "../../harness/provision/versions.ts";
import { VersionSession } from "../../harness/run/version-session.ts";
import { loadScenario } from "../../harness/scenario/load.ts";
import type { ScenarioResult } from "../../harness/scenario/run/scenario.ts";

/**
 * The machine's faults are never BuildKit's: a daemon killed mid-build, a registry stopped
 * mid-run, a build past its time limit, a filesystem that fills up and a harness error are
 * infrastructure errors, and the next scenario is still judged; a daemon that dies of its
 * own (a Go fatal signal) is a BuildKit crash, kept with its log, which a known bug may
 * declare as its symptom.
 */
const docker = new Dockerode();
const version = lookupVersion(defaultVersion()).version;
const work = mkdtempSync(join(tmpdir(), "faults-test-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function scenario(name: string, dockerfile: string, extra = "") {
  const dir = join(work, name);
  mkdirSync(join(dir, "context"), { recursive: true });
  writeFileSync(join(dir, "Dockerfile"), dockerfile);
  writeFileSync(
    join(dir, "scenario.yaml"),
    `id: ${name}
title: fault drill
upstream: [https://github.com/moby/buildkit/issues/3009]
expectation: the build succeeds
${extra}steps:
  - build:
      name: b
      output: { type: image, name: "{{registry}}/{{scenario}}:latest", push: true }
assertions:
  - id: succeeds
    build-succeeds: { build: b }
`,
  );
  return loadScenario(dir);
}

/** The run's containers made from `image` (the daemon or the registry). */
async function containersOf(image: string): Promise<Dockerode.ContainerInfo[]> {
  const filters = JSON.stringify({ label: [`${LABEL_RUN}=${runId()}`], status: ["running"] });
  return (await docker.listContainers({ filters })).filter((c) => c.Image === image);
}

/** Resolves once a process named `name` runs in one of the run's containers made from `image`. */
async function processRunning(image: string, name: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    for (const c of await containersOf(image)) {
      const top = await docker
        .getContainer(c.Id)
        .top()
        .catch(() => ({ Processes: [] as string[][] }));
      if (top.Processes?.some((p: string[]) => p.join(" ").includes(name))) return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no "${name}" process ran in ${image} within 2 minutes`);
}

/** Runs `s`, and `during` once its build's RUN is running in the daemon. */
async function runWhile(session: VersionSession, s: ReturnType<typeof scenario>, daemonImage: string, during: () => Promise<void>): Promise<ScenarioResult> {
  const result = session.run(s);
  await processRunning(daemonImage, "sleep");
  await during();
  return result;
}

const healthy = () => scenario(`healthy-${Math.random().toString(36).slice(2, 8)}`, "FROM {{image:busybox}}\nRUN echo ok > /ok\n");

describe(`faults on BuildKit ${version}`, () => {
  const session = new VersionSession(version);
  let daemonImage = "";
  let registryImage = "";

  beforeAll(async () => {
    await session.open();
    const record = session.record;
    daemonImage = record.buildkit!.reference;
    registryImage = record.registry!.reference;
  });
  afterAll(() => session.close());

  it("a daemon killed mid-build is an infrastructure error, and the next scenario is judged", async () => {
    const result = await runWhile(session, scenario("daemon-killed", "FROM {{image:busybox}}\nRUN sleep 20\n"), daemonImage, async () => {
      for (const c of await containersOf(daemonImage)) await docker.getContainer(c.Id).kill();
    });
    expect(result.verdict).toMatchObject({ kind: "infrastructure-error", fault: { code: "DAEMON_LOST" } });
    expect((await session.run(healthy())).verdict.kind).toBe("pass");
  });

  it("a registry stopped mid-run is an infrastructure error, and the next scenario is judged", async () => {
    const result = await runWhile(session, scenario("registry-stopped", "FROM {{image:busybox}}\nRUN sleep 8\n"), daemonImage, async () => {
      for (const c of await containersOf(registryImage)) await docker.getContainer(c.Id).stop({ t: 0 });
    });
    expect(result.verdict).toMatchObject({ kind: "infrastructure-error", fault: { code: "REGISTRY_LOST" } });
    expect((await session.run(healthy())).verdict.kind).toBe("pass");
  });

  it("a build past its time limit is reported as a timeout", async () => {
    process.env.BUILDKIT_REPRO_TIMEOUT_BUILD = "4";
    try {
      const result = await session.run(scenario("build-timeout", "FROM {{image:busybox}}\nRUN sleep 60\n"));
      expect(result.verdict).toMatchObject({ kind: "infrastructure-error", fault: { code: "TIMEOUT" } });
      expect(result.verdict.reason).toContain("BUILDKIT_REPRO_TIMEOUT_BUILD");
    } finally {
      delete process.env.BUILDKIT_REPRO_TIMEOUT_BUILD;
    }
    expect((await session.run(healthy())).verdict.kind).toBe("pass");
  });

  // SIGABRT makes the Go runtime of buildkitd crash the way a fatal error does (exit 2, a
  // goroutine dump): a stand-in for a real panic, which no release reliably has on demand.
  // It goes to the buildkitd process itself (by its PID on this host), not to the container.
  const abortDaemon = async () => {
    for (const c of await containersOf(daemonImage)) {
      const top = await docker.getContainer(c.Id).top({ ps_args: "-o pid,args" });
      for (const [pid, args] of (top.Processes ?? []) as string[][]) if (args?.startsWith("buildkitd ")) process.kill(Number(pid), "SIGABRT");
    }
  };

  it("a daemon that dies of its own is a BuildKit crash, kept with its log", async () => {
    const result = await runWhile(session, scenario("daemon-crash", "FROM {{image:busybox}}\nRUN sleep 20\n"), daemonImage, abortDaemon);
    expect(result.verdict.kind).toBe("fail");
    expect(result.verdict.reason).toContain("BuildKit crashed");
    const daemons = result.attempts[0]!.observation.daemons;
    const crashed = daemons.find((d) => d.exit);
    expect(crashed?.exit?.panic?.[0]).toMatch(/^SIGABRT: abort/);
    expect(crashed?.log).toMatch(/goroutine \d+/);
    expect((await session.run(healthy())).verdict.kind).toBe("pass");
  });

  it("a crash a known bug declares as its symptom is that bug, reproduced", async () => {
    const declared = scenario(
      "daemon-crash-declared",
      "FROM {{image:busybox}}\nRUN sleep 20\n",
      `knownBugs:
  - versions: "*"
    status: reproduces
    reference: https://github.com/moby/buildkit/issues/3009
    explains: [{ assertion: succeeds, actualContains: "SIGABRT: abort" }]
`,
    );
    const result = await runWhile(session, declared, daemonImage, abortDaemon);
    expect(result.verdict).toMatchObject({ kind: "known-bug-reproduced", loud: false });
  });

  it("an error of the harness in one scenario is that scenario's infrastructure error, with its stack", async () => {
    const vanishing = healthy();
    rmSync(vanishing.dir, { recursive: true, force: true }); // loaded, then gone: copying it fails
    const result = await session.run(vanishing);
    expect(result.verdict).toMatchObject({ kind: "infrastructure-error", fault: { code: "HARNESS_BUG" } });
    expect(result.verdict.fault?.detail).toContain("at ");
    expect((await session.run(healthy())).verdict.kind).toBe("pass");
  });
});

describe(`a full daemon state on BuildKit ${version}`, () => {
  const session = new VersionSession(version);
  beforeAll(async () => {
    process.env.BUILDKIT_REPRO_DAEMON_STATE_SIZE = "96m";
    await session.open();
  });
  afterAll(async () => {
    delete process.env.BUILDKIT_REPRO_DAEMON_STATE_SIZE;
    await session.close();
  });

  it("is out of space, not a BuildKit regression", async () => {
    const result = await session.run(scenario("state-full", "FROM {{image:busybox}}\nRUN dd if=/dev/zero of=/fill bs=1M count=200\n"));
    expect(result.verdict).toMatchObject({ kind: "infrastructure-error", fault: { code: "OUT_OF_SPACE" } });
  });
});
