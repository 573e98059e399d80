import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HarnessError } from "../../../harness/errors.ts";
import { goModRequirements, toolchainFor } from "../../../harness/provision/go-module-query.ts";
import { BUILDKIT_MODULE, lookupVersion, matrixVersions, matrixVersionsIn, resolveVersion, versionsFile } from "../../../harness/provision/versions.ts";

/**
 * A Go module proxy on disk (GOPROXY=file://…) that knows the answers a real proxy gives
 * for a tag, for the `master` branch (a pseudo-version with its commit), and nothing else.
 */
/** Its base (the newest tag in master's history) lags v0.34.2, released before the commit. */
const MASTER_PSEUDO = "v0.32.1-0.20261130101112-0123456789ab";
const MASTER_HASH = "0123456789abcdef0123456789abcdef01234567";

let root: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "buildkit-repro-fake-proxy-"));
  const dir = join(root, "proxy", BUILDKIT_MODULE, "@v");
  mkdirSync(dir, { recursive: true });
  const info = (version: string, extra: object = {}, time = "2026-11-30T10:11:12Z") => JSON.stringify({ Version: version, Time: time, ...extra });
  const mod = (go: string) => `module ${BUILDKIT_MODULE}\n\ngo ${go}\n`;
  writeFileSync(join(dir, "v0.15.1.info"), info("v0.15.1"));
  writeFileSync(join(dir, "v0.15.1.mod"), mod("1.21.0"));
  writeFileSync(join(dir, "v0.10.6.info"), info("v0.10.6"));
  writeFileSync(join(dir, "v0.10.6.mod"), mod("1.18"));
  const origin = { Origin: { VCS: "git", URL: "https://github.com/moby/buildkit", Hash: MASTER_HASH, Ref: "refs/heads/master" } };
  writeFileSync(join(dir, "master.info"), info(MASTER_PSEUDO, origin));
  writeFileSync(join(dir, `${MASTER_PSEUDO}.info`), info(MASTER_PSEUDO, origin));
  writeFileSync(join(dir, `${MASTER_PSEUDO}.mod`), mod("1.26.8"));
  // Releases around the commit: v0.34.2 and the v0.35.0 candidate before it, v0.35.0 after it.
  for (const [version, time] of [
    ["v0.32.0", "2026-05-01T00:00:00Z"],
    ["v0.34.2", "2026-11-02T00:00:00Z"],
    ["v0.35.0-rc1", "2026-11-20T00:00:00Z"],
    ["v0.35.0", "2026-12-01T00:00:00Z"],
  ] as const) {
    writeFileSync(join(dir, `${version}.info`), info(version, {}, time));
    writeFileSync(join(dir, `${version}.mod`), mod("1.26.3"));
  }
  writeFileSync(join(dir, "list"), "v0.10.6\nv0.15.1\nv0.32.0\nv0.34.2\nv0.35.0-rc1\nv0.35.0\n");
  env = {
    ...process.env,
    GOPROXY: `file://${join(root, "proxy")}`,
    GOSUMDB: "off",
    GOMODCACHE: join(root, "modcache"),
    GOFLAGS: "-modcacherw",
    GOTOOLCHAIN: "local",
  };
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

async function refusal(query: string, e: NodeJS.ProcessEnv = env): Promise<HarnessError> {
  const err = await resolveVersion(query, e).then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(err).toBeInstanceOf(HarnessError);
  return err as HarnessError;
}

describe("resolveVersion", () => {
  it("accepts a release tag the versions file does not list, as itself", async () => {
    expect(versionsFile.versions.some((v) => v.version === "v0.15.1")).toBe(false);
    const v = await resolveVersion("v0.15.1", env);
    expect(v).toEqual({ version: "v0.15.1", officialDigest: null, sources: [], toolchain: null });
    // provisioning looks it up by the resolved version afterwards
    expect(lookupVersion("v0.15.1")).toBe(v);
  });

  it("accepts a version without its v", async () => {
    expect((await resolveVersion("0.15.1", env)).version).toBe("v0.15.1");
  });

  it("resolves master to its pseudo-version and keeps the exact commit", async () => {
    const v = await resolveVersion("master", env);
    expect(v.version).toBe(MASTER_PSEUDO);
    expect(v.query).toBe("master");
    expect(v.commit).toBe(MASTER_HASH);
    expect(lookupVersion(MASTER_PSEUDO).commit).toBe(MASTER_HASH);
  });

  it("judges master as the newest release before its commit, since releases are tagged off master", async () => {
    // Not v0.35.0 (released after the commit), not the candidate, not the base v0.32.0.
    expect((await resolveVersion("master", env)).judgedAs).toBe("v0.34.2");
    // A release tag is judged as itself.
    expect((await resolveVersion("v0.15.1", env)).judgedAs).toBeUndefined();
  });

  it("counts the base's own patch release, tagged on its branch before the commit", async () => {
    const dir = join(root, "proxy-patch", BUILDKIT_MODULE, "@v");
    mkdirSync(dir, { recursive: true });
    const pseudo = "v0.36.1-0.20270105000000-abcdefabcdef";
    const info = (version: string, time: string) => JSON.stringify({ Version: version, Time: time });
    writeFileSync(join(dir, "master.info"), info(pseudo, "2027-01-05T00:00:00Z"));
    for (const [version, time] of [
      [pseudo, "2027-01-05T00:00:00Z"],
      ["v0.36.0", "2026-12-20T00:00:00Z"],
      ["v0.36.1", "2027-01-01T00:00:00Z"],
      ["v0.37.0", "2027-02-01T00:00:00Z"],
    ] as const) {
      writeFileSync(join(dir, `${version}.info`), info(version, time));
      writeFileSync(join(dir, `${version}.mod`), `module ${BUILDKIT_MODULE}\n\ngo 1.26.8\n`);
    }
    writeFileSync(join(dir, "list"), "v0.36.0\nv0.36.1\nv0.37.0\n");
    const patchEnv = { ...env, GOPROXY: `file://${join(root, "proxy-patch")}` };
    expect((await resolveVersion("master", patchEnv)).judgedAs).toBe("v0.36.1");
  });

  it("answers a listed version from the file, without asking the proxy", async () => {
    const listed = versionsFile.versions[0]!;
    const v = await resolveVersion(listed.version, { ...env, GOPROXY: "off" });
    expect(v).toBe(listed);
  });

  it("refuses a version the proxy does not know, naming it and what to give instead", async () => {
    const err = await refusal("v0.99.0");
    expect(err.code).toBe("UNKNOWN_BUILDKIT_VERSION");
    expect(err.message).toContain("github.com/moby/buildkit@v0.99.0");
    expect(err.hint).toContain("v0.15.1");
  });

  it("refuses what could be read as an option or a path before asking go", async () => {
    for (const q of ["-modfile=x", "a b", "../x", "v1;rm"]) {
      const err = await refusal(q, { ...env, PATH: "" }); // no go on PATH: it must not be needed
      expect(err.message).toContain("is not a version, branch or commit name");
    }
  });

  it("refuses releases before v0.11.0, which cannot be built from the module", async () => {
    const err = await refusal("v0.10.6");
    expect(err.message).toContain("predates v0.11.0");
  });
});

describe("toolchainFor", () => {
  it.each([
    [{ go: "1.18" }, null, "go1.18"],
    [{ go: "1.20" }, null, "go1.20"],
    [{ go: "1.21" }, null, "go1.21.0"],
    [{ go: "1.21.0" }, null, "go1.21.0"],
    [{ go: "1.26.8" }, null, "go1.26.8"],
    [{ go: "1.22.0", toolchain: "go1.22.4" }, null, "go1.22.4"],
    [{ go: "1.22.0", toolchain: "go1.22.4" }, "go1.23.1", "go1.23.1"],
    [{}, null, undefined],
  ])("%j with pin %s → %s", (goMod, pin, expected) => {
    expect(toolchainFor(goMod, pin)).toBe(expected);
  });

  it("reads the go and toolchain lines of a go.mod", () => {
    expect(goModRequirements("module x\n\ngo 1.22.0 // comment\n\ntoolchain go1.22.4\n\nrequire (\n\tgo.foo/bar v1\n)\n")).toEqual({
      go: "1.22.0",
      toolchain: "go1.22.4",
    });
    expect(goModRequirements("module x\n")).toEqual({});
  });
});

describe("the default matrix", () => {
  const file = {
    default: "v0.3.0",
    registry: versionsFile.registry,
    versions: [
      { version: "v0.20.0", officialDigest: null, sources: [], toolchain: null, matrix: "newest" },
      { version: "v0.3.0", officialDigest: "sha256:x", sources: ["a", "b"], toolchain: null },
      { version: "v0.13.0", officialDigest: null, sources: [], toolchain: null, matrix: "fix boundary" },
      { version: "v0.12.5", officialDigest: null, sources: [], toolchain: null, matrix: "latest v0.12" },
    ],
  };

  it("is the entries that say why, oldest first; pins alone are not run", () => {
    expect(matrixVersions(file).map((v) => v.version)).toEqual(["v0.12.5", "v0.13.0", "v0.20.0"]);
  });

  it("can be cut to a semver range", () => {
    expect(matrixVersionsIn(">=0.13.0 <0.20.0", file).map((v) => v.version)).toEqual(["v0.13.0"]);
    expect(() => matrixVersionsIn(">=1.0.0", file)).toThrow(/No version of the default matrix/);
    expect(() => matrixVersionsIn("not a range", file)).toThrow(/is not a semver range/);
  });
});
