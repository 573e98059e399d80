/**
 * Questions to the Go module proxy, asked through `go` itself so that GOPROXY, GOPRIVATE,
 * GOFLAGS and the checksum database apply exactly as they do to the build.
 */
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { execa } from "execa";
import { HarnessError } from "../errors.ts";

export interface ModuleVersion {
  /** The exact version: a tag, or the pseudo-version of a branch or commit. */
  readonly version: string;
  readonly time?: string;
  /** The `go` line of the module's go.mod, e.g. "1.21.0". */
  readonly goVersion?: string;
  /** The full commit hash when the proxy reports the origin. */
  readonly commit?: string;
  /** Path of the go.mod in the module cache. */
  readonly goMod?: string;
  /** The ref a branch query resolved through, e.g. "refs/heads/master". */
  readonly ref?: string;
}

const QUERY_TIMEOUT_MS = 120_000;

/** `go list -m -json module@query`: resolves a tag, branch or commit without downloading the source. */
export async function resolveModuleVersion(module: string, query: string, env: NodeJS.ProcessEnv = process.env): Promise<ModuleVersion> {
  const result = await execa("go", ["list", "-m", "-json", `${module}@${query}`], {
    // Outside any module, so no go.mod nearby changes the answer or switches the toolchain.
    cwd: tmpdir(),
    env: { ...env, GOFLAGS: `${env.GOFLAGS ?? ""} -mod=mod`.trim() },
    reject: false,
    timeout: QUERY_TIMEOUT_MS,
  });
  if (result.exitCode !== 0 || result.timedOut) {
    const why = result.timedOut ? `no answer within ${QUERY_TIMEOUT_MS / 1000} s` : String(result.stderr || result.message).trim();
    throw new HarnessError(
      "UNKNOWN_BUILDKIT_VERSION",
      `${module}@${query} could not be resolved through the Go module proxy: ${why}`,
      `Give a tag of ${module} (e.g. v0.15.1), a branch (master) or a commit, and check that the proxy (GOPROXY=${env.GOPROXY ?? "go's default"}) answers.`,
    );
  }
  const answer = JSON.parse(result.stdout) as { Version?: string; Time?: string; GoVersion?: string; GoMod?: string; Origin?: { Hash?: string; Ref?: string } };
  if (!answer.Version) throw new HarnessError("UNKNOWN_BUILDKIT_VERSION", `go list gave no version for ${module}@${query}: ${result.stdout}`, "Check GOPROXY.");
  return {
    version: answer.Version,
    ...(answer.Time ? { time: answer.Time } : {}),
    ...(answer.GoVersion ? { goVersion: answer.GoVersion } : {}),
    ...(answer.Origin?.Hash ? { commit: answer.Origin.Hash } : {}),
    ...(answer.GoMod ? { goMod: answer.GoMod } : {}),
    ...(answer.Origin?.Ref ? { ref: answer.Origin.Ref } : {}),
  };
}

/** Every version the proxy lists for `module` (release tags, not pseudo-versions), as `go list -m -versions` gives them. */
export async function listModuleVersions(module: string, env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const result = await execa("go", ["list", "-m", "-versions", "-json", module], {
    cwd: tmpdir(),
    env: { ...env, GOFLAGS: `${env.GOFLAGS ?? ""} -mod=mod`.trim() },
    reject: false,
    timeout: QUERY_TIMEOUT_MS,
  });
  if (result.exitCode !== 0 || result.timedOut) {
    throw new HarnessError(
      "UNKNOWN_BUILDKIT_VERSION",
      `The Go module proxy did not list the versions of ${module}: ${result.timedOut ? `no answer within ${QUERY_TIMEOUT_MS / 1000} s` : String(result.stderr || result.message).trim()}`,
      `Check that the proxy (GOPROXY=${env.GOPROXY ?? "go's default"}) answers.`,
    );
  }
  return (JSON.parse(result.stdout) as { Versions?: string[] }).Versions ?? [];
}

/** The `go` and `toolchain` lines of a go.mod. */
export function goModRequirements(text: string): { go?: string; toolchain?: string } {
  const line = (directive: string) => new RegExp(`^${directive}\\s+(\\S+)\\s*(?://.*)?$`, "m").exec(text)?.[1];
  const go = line("go");
  const toolchain = line("toolchain");
  return { ...(go ? { go } : {}), ...(toolchain ? { toolchain } : {}) };
}

export async function readGoModRequirements(path: string): Promise<{ go?: string; toolchain?: string }> {
  return goModRequirements(await readFile(path, "utf8"));
}

/**
 * The GOTOOLCHAIN a local build uses: a pin wins; else the go.mod's `toolchain` line; else
 * the release its `go` line names ("1.18" → go1.18; from 1.21 on a bare "1.21" is the
 * language version and the first release is go1.21.0). Building each release with the Go
 * it declares keeps an old release from meeting a newer Go it never met (Go ≥ 1.23's
 * linkname restrictions, for one), and GOTOOLCHAIN fetches it through the module proxy.
 */
export function toolchainFor(requirements: { go?: string; toolchain?: string }, pin: string | null): string | undefined {
  if (pin) return pin;
  if (requirements.toolchain && requirements.toolchain !== "default") return requirements.toolchain;
  const go = requirements.go;
  if (!go) return undefined;
  const m = /^1\.(\d+)(?:\.(\d+))?$/.exec(go);
  if (!m) return `go${go}`;
  const minor = Number(m[1]);
  if (m[2] === undefined && minor >= 21) return `go1.${minor}.0`;
  return `go${go}`;
}
