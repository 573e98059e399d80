/**
 * Buildctl against a stand-in binary that replays recorded buildctl output (stderr, exit
 * code, metadata file) and logs its argv, so no daemon is needed.
 */
import { chmod, readFile, stat, writeFile } from "node:fs/promises";
import { type DirectoryResult, dir } from "tmp-promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BuildRequest } from "../../../harness/buildkit/build-request.ts";
import { Buildctl, isDaemonUnreachableMessage } from "../../../harness/buildkit/buildctl.ts";
import { clientSupports } from "../../../harness/buildkit/client-features.ts";
import { HarnessError } from "../../../harness/errors.ts";
import { FAIL_ERROR, FIXTURE_DIR, fixture, STEPS } from "./fixtures.ts";

let tmp: DirectoryResult;
beforeAll(async () => {
  tmp = await dir({ unsafeCleanup: true });
});
afterAll(async () => {
  await tmp.cleanup();
});

interface Fake {
  binary: string;
  argvFile: string;
}

let fakeCount = 0;
/** A shell script standing in for buildctl. */
async function fakeBuildctl(opts: {
  stderrFixture?: string;
  stderrAfter?: string;
  stdoutFixture?: string;
  exit?: number;
  metadata?: string;
  sleep?: number;
}): Promise<Fake> {
  const n = ++fakeCount;
  const binary = `${tmp.path}/buildctl-${n}`;
  const argvFile = `${tmp.path}/argv-${n}`;
  const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  const script = [
    "#!/bin/sh",
    `for a in "$@"; do printf '%s\\n' "$a"; done > ${q(argvFile)}`,
    opts.metadata !== undefined ? `prev=; for a in "$@"; do [ "$prev" = --metadata-file ] && printf '%s' ${q(opts.metadata)} > "$a"; prev=$a; done` : "",
    // exec: no orphaned child holding the pipes open after SIGTERM (buildctl is one process).
    opts.sleep ? `exec sleep ${opts.sleep}` : "",
    opts.stdoutFixture ? `cat ${q(FIXTURE_DIR + opts.stdoutFixture)}` : "",
    opts.stderrFixture ? `cat ${q(FIXTURE_DIR + opts.stderrFixture)} >&2` : "",
    opts.stderrAfter ? `printf '%s\\n' ${q(opts.stderrAfter)} >&2` : "",
    `exit ${opts.exit ?? 0}`,
  ].join("\n");
  await writeFile(binary, `${script}\n`);
  await chmod(binary, 0o755);
  return { binary, argvFile };
}

const argv = async (f: Fake) => (await readFile(f.argvFile, "utf8")).trimEnd().split("\n");

const req: BuildRequest = {
  frontend: "dockerfile.v0",
  locals: { context: "/ctx", dockerfile: "/ctx" },
  frontendOpts: { "context:base": "local:bbroot" },
  importCache: [],
  exportCache: [{ type: "local", attrs: { dest: "/tmp/c", mode: "max" } }],
  outputs: [{ type: "oci", attrs: { dest: "/tmp/out.tar" } }],
};

const ADDR = "tcp://127.0.0.1:18234";
const METADATA = JSON.stringify({ "containerimage.digest": "sha256:abc", "cache.manifest": "x" });

describe("client features", () => {
  it("knows which release added each flag", () => {
    expect(clientSupports("v0.12.5", "rawjsonProgress")).toBe(false);
    expect(clientSupports("v0.13.0", "rawjsonProgress")).toBe(true);
    expect(clientSupports("v0.13.0-rc1", "rawjsonProgress")).toBe(true);
    expect(clientSupports("v0.10.6", "diskUsageFormat")).toBe(false);
    expect(clientSupports("v0.11.0", "diskUsageFormat")).toBe(true);
    expect(clientSupports("v0.9.3", "workersFormat")).toBe(false);
    expect(clientSupports("v0.10.0", "workersFormat")).toBe(true);
  });
  it("rejects a version that is not a release", () => {
    expect(() => new Buildctl({ binary: "x", addr: ADDR, clientVersion: "latest" })).toThrow(HarnessError);
  });
});

describe("Buildctl.build", () => {
  it("auto progress is rawjson from v0.13.0 and plain before", () => {
    expect(new Buildctl({ binary: "x", addr: ADDR, clientVersion: "v0.13.2" }).progressFormatFor("auto")).toBe("rawjson");
    expect(new Buildctl({ binary: "x", addr: ADDR, clientVersion: "v0.12.5" }).progressFormatFor()).toBe("plain");
    expect(() => new Buildctl({ binary: "x", addr: ADDR, clientVersion: "v0.12.5" }).progressFormatFor("rawjson")).toThrow(/v0\.13\.0/);
  });

  it("runs the build, parses progress and the metadata file, logs the invocation", async () => {
    const fake = await fakeBuildctl({ stderrFixture: "v0.34.2-rawjson-cold.txt", metadata: METADATA });
    const bc = new Buildctl({ binary: fake.binary, addr: ADDR, clientVersion: "v0.34.2" });
    const r = await bc.build(req);
    expect(r.exitCode).toBe(0);
    expect(r.error).toBeUndefined();
    expect(r.progressFormat).toBe("rawjson");
    expect(r.rawProgress).toBe(fixture("v0.34.2-rawjson-cold.txt"));
    expect(r.metadata).toEqual(JSON.parse(METADATA));
    expect(r.steps.find((s) => s.name === STEPS.run3)).toMatchObject({ cached: false, internal: false });
    expect(r.command[0]).toBe(fake.binary);

    const args = await argv(fake);
    expect(r.command.slice(1)).toEqual(args);
    expect(args.slice(0, 4)).toEqual(["--addr", ADDR, "build", "--progress=rawjson"]);
    expect(args).toContain("type=local,dest=/tmp/c,mode=max");
    // A temp metadata file was used and removed.
    const metadataFile = args[args.indexOf("--metadata-file") + 1]!;
    await expect(stat(metadataFile)).rejects.toThrow();

    expect(bc.invocations).toHaveLength(1);
    expect(bc.invocations[0]).toMatchObject({ args, exitCode: 0 });
    expect(bc.invocations[0]!.wallMs).toBeGreaterThan(0);
    expect(r.wallMs).toBe(bc.invocations[0]!.wallMs);
  });

  it("uses plain progress for an old client and keeps the caller's metadata file", async () => {
    const fake = await fakeBuildctl({ stderrFixture: "v0.12.5-plain-warm.txt", metadata: METADATA });
    const bc = new Buildctl({ binary: fake.binary, addr: ADDR, clientVersion: "v0.12.5" });
    const metadataFile = `${tmp.path}/mine.json`;
    const r = await bc.build({ ...req, metadataFile });
    expect(r.progressFormat).toBe("plain");
    expect((await argv(fake)).slice(3, 4)).toEqual(["--progress=plain"]);
    expect(r.steps.filter((s) => !s.internal).every((s) => s.cached)).toBe(true);
    expect(JSON.parse(await readFile(metadataFile, "utf8"))).toEqual(JSON.parse(METADATA));
    expect(r.metadata).toEqual(JSON.parse(METADATA));
  });

  it("returns a failed build with its error instead of throwing", async () => {
    const fake = await fakeBuildctl({ stderrFixture: "v0.34.2-rawjson-fail.txt", exit: 1 });
    const bc = new Buildctl({ binary: fake.binary, addr: ADDR, clientVersion: "v0.34.2" });
    const r = await bc.build(req);
    expect(r.exitCode).toBe(1);
    expect(r.error).toBe(`failed to solve: ${FAIL_ERROR}`);
    expect(r.metadata).toEqual({});
    expect(r.steps.find((s) => s.error)?.error).toBe(FAIL_ERROR);
    expect(bc.invocations[0]!.exitCode).toBe(1);
  });

  describe("buildctl v0.31.0-v0.31.1 failing on exit after a finished build (moby/buildkit#6912)", () => {
    // A finished rawjson build, then the error those clients print when their telemetry flush is late.
    const lateFlush = { stderrFixture: "v0.34.2-rawjson-cold.txt", stderrAfter: "error: context deadline exceeded", exit: 1 };

    it.each(["v0.31.0", "v0.31.1"])("%s: is BUILDCTL_FAILED naming the client fault, not a failed build", async (clientVersion) => {
      const fake = await fakeBuildctl({ ...lateFlush, metadata: METADATA });
      const err = await new Buildctl({ binary: fake.binary, addr: ADDR, clientVersion }).build(req).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HarnessError);
      expect((err as HarnessError).code).toBe("BUILDCTL_FAILED");
      expect((err as HarnessError).message).toContain("https://github.com/moby/buildkit/issues/6912");
    });

    it("stays a failed build from a fixed client, or when the build did not get as far as its metadata", async () => {
      const fixed = await fakeBuildctl({ ...lateFlush, metadata: METADATA });
      const r = await new Buildctl({ binary: fixed.binary, addr: ADDR, clientVersion: "v0.31.2" }).build(req);
      expect([r.exitCode, r.error]).toEqual([1, "context deadline exceeded"]);
      const unfinished = await fakeBuildctl(lateFlush);
      const u = await new Buildctl({ binary: unfinished.binary, addr: ADDR, clientVersion: "v0.31.0" }).build(req);
      expect([u.exitCode, u.error, u.metadata]).toEqual([1, "context deadline exceeded", {}]);
    });
  });

  it.each([
    ["v0.34.2", "v0.34.2-rawjson-unreachable.txt"],
    ["v0.12.5", "v0.12.5-plain-unreachable.txt"],
  ])("%s: an unreachable daemon is DAEMON_NOT_READY (recorded stderr)", async (clientVersion, stderrFixture) => {
    const fake = await fakeBuildctl({ stderrFixture, exit: 1 });
    const bc = new Buildctl({ binary: fake.binary, addr: "tcp://127.0.0.1:1", clientVersion });
    const err = await bc.build(req).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HarnessError);
    expect((err as HarnessError).code).toBe("DAEMON_NOT_READY");
    expect((err as HarnessError).message).toMatch(/tcp:\/\/127\.0\.0\.1:1.*connection refused/);
    expect((err as HarnessError).hint).toBeTruthy();
    expect(bc.invocations).toHaveLength(1);
  });

  it("a missing binary is BUILDCTL_FAILED with a hint", async () => {
    const bc = new Buildctl({ binary: `${tmp.path}/no-such-buildctl`, addr: ADDR, clientVersion: "v0.34.2" });
    const err = (await bc.build(req).catch((e: unknown) => e)) as HarnessError;
    expect(err).toBeInstanceOf(HarnessError);
    expect(err.code).toBe("BUILDCTL_FAILED");
    expect(err.message).toMatch(/ENOENT/);
    expect(err.hint).toMatch(/provision/);
    expect(bc.invocations[0]!.exitCode).toBeNull();
  });

  it("an aborted build is INTERRUPTED; a timeout is TIMEOUT", async () => {
    const fake = await fakeBuildctl({ stderrFixture: "v0.34.2-rawjson-cold.txt", sleep: 10 });
    const bc = new Buildctl({ binary: fake.binary, addr: ADDR, clientVersion: "v0.34.2" });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    await expect(bc.build(req, { signal: ac.signal })).rejects.toMatchObject({ code: "INTERRUPTED" });
    await expect(bc.build(req, { timeoutMs: 100 })).rejects.toMatchObject({ code: "TIMEOUT", message: /within 0.1 s/ });
    expect(bc.invocations).toHaveLength(2);
  });
});

describe("Buildctl du / prune / debugWorkers", () => {
  it("du uses --format json from v0.11 and the verbose table before", async () => {
    const modern = await fakeBuildctl({ stdoutFixture: "v0.34.2-du-json.txt" });
    const du = await new Buildctl({ binary: modern.binary, addr: ADDR, clientVersion: "v0.34.2" }).du();
    expect(await argv(modern)).toEqual(["--addr", ADDR, "du", "--format", "{{json .}}"]);
    expect(du).toHaveLength(9);

    const old = await fakeBuildctl({ stdoutFixture: "v0.10.6-du-verbose.txt" });
    const duOld = await new Buildctl({ binary: old.binary, addr: ADDR, clientVersion: "v0.10.6" }).du();
    expect(await argv(old)).toEqual(["--addr", ADDR, "du", "--verbose"]);
    expect(duOld.map((r) => r.id).sort()).toEqual(du.map((r) => r.id).sort());
  });

  it("prune passes --all", async () => {
    const fake = await fakeBuildctl({});
    const bc = new Buildctl({ binary: fake.binary, addr: ADDR, clientVersion: "v0.34.2" });
    expect(await bc.prune({ all: true })).toEqual([]);
    expect(await argv(fake)).toEqual(["--addr", ADDR, "prune", "--all", "--format", "{{json .}}"]);
    await bc.prune();
    expect(await argv(fake)).toEqual(["--addr", ADDR, "prune", "--format", "{{json .}}"]);
  });

  describe("buildctl v0.31.0-v0.31.1 failing on exit after a finished prune (moby/buildkit#6912)", () => {
    // Their verbose table: records, then a "Total:" line written only once the prune returned
    // (the du table has the same rows and ends with one too).
    const lateFlush = { stdoutFixture: "v0.34.2-du-verbose.txt", stderrAfter: "error: context deadline exceeded", exit: 1 };

    it("reads the table, and takes the late exit after its Total line for the client's fault", async () => {
      const fake = await fakeBuildctl(lateFlush);
      const pruned = await new Buildctl({ binary: fake.binary, addr: ADDR, clientVersion: "v0.31.0" }).prune({ all: true });
      expect(await argv(fake)).toEqual(["--addr", ADDR, "prune", "--all", "--verbose"]);
      expect(pruned).toHaveLength(9);
    });

    it("stays unreachable without the Total line, and from a fixed client", async () => {
      const unfinished = await fakeBuildctl({ stderrAfter: "error: context deadline exceeded", exit: 1 });
      await expect(new Buildctl({ binary: unfinished.binary, addr: ADDR, clientVersion: "v0.31.1" }).prune()).rejects.toMatchObject({
        code: "DAEMON_NOT_READY",
      });
      const fixed = await fakeBuildctl(lateFlush);
      await expect(new Buildctl({ binary: fixed.binary, addr: ADDR, clientVersion: "v0.31.2" }).prune()).rejects.toMatchObject({
        code: "DAEMON_NOT_READY",
      });
      expect(await argv(fixed)).toEqual(["--addr", ADDR, "prune", "--format", "{{json .}}"]);
    });
  });

  it("debugWorkers reports the snapshotter label", async () => {
    const fake = await fakeBuildctl({ stdoutFixture: "v0.34.2-workers-json.txt" });
    const workers = await new Buildctl({ binary: fake.binary, addr: ADDR, clientVersion: "v0.34.2" }).debugWorkers();
    expect(await argv(fake)).toEqual(["--addr", ADDR, "debug", "workers", "--format", "{{json .}}"]);
    expect(workers[0]?.labels["org.mobyproject.buildkit.worker.snapshotter"]).toBe("overlayfs");
  });

  it("a failing non-build command throws: DAEMON_NOT_READY when unreachable, else BUILDCTL_FAILED", async () => {
    const unreachable = await fakeBuildctl({ stderrFixture: "v0.34.2-rawjson-unreachable.txt", exit: 1 });
    await expect(new Buildctl({ binary: unreachable.binary, addr: ADDR, clientVersion: "v0.34.2" }).du()).rejects.toMatchObject({
      code: "DAEMON_NOT_READY",
    });
    const other = await fakeBuildctl({ stderrFixture: "v0.34.2-plain-fail.txt", exit: 1 });
    await expect(new Buildctl({ binary: other.binary, addr: ADDR, clientVersion: "v0.34.2" }).prune()).rejects.toMatchObject({
      code: "BUILDCTL_FAILED",
    });
  });
});

describe("isDaemonUnreachableMessage", () => {
  it("matches dial failures recorded from buildctl", () => {
    for (const m of [
      'failed to call diskusage: Unavailable: connection error: desc = "transport: Error while dialing: dial tcp: lookup nonexistent.invalid on 10.255.255.53:53: no such host"',
      'failed to list workers: Unavailable: connection error: desc = "transport: Error while dialing: dial unix /nonexistent.sock: connect: no such file or directory"',
      fixture("v0.12.5-plain-unreachable.txt"),
    ]) {
      expect(isDaemonUnreachableMessage(m), m).toBe(true);
    }
    expect(isDaemonUnreachableMessage(`failed to solve: ${FAIL_ERROR}`)).toBe(false);
  });
});
