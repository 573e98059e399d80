import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { HarnessError } from "../errors.ts";
import { log } from "../log.ts";
import { readGoModRequirements } from "./go-module-query.ts";

export interface GoBuildResult {
  /** Absolute paths of the built commands, by command name. */
  readonly binaries: Record<string, string>;
  /** `go version` of the toolchain that compiled them, e.g. "go1.26.8". */
  readonly goVersion: string;
}

async function goEnv(env: NodeJS.ProcessEnv, key: string): Promise<string> {
  return (await execa("go", ["env", key], { env })).stdout.trim();
}

/**
 * Builds `commands` (e.g. cmd/buildkitd) of a Go module at an exact version, statically.
 *
 * `go install module/cmd@version` refuses modules whose go.mod has `exclude` directives
 * (BuildKit's does), so the module is downloaded through the proxy and built in its
 * module-cache directory as the main module. That directory's path is stable, which
 * keeps Go's build cache warm across runs.
 */
export async function buildGoModuleCommands(opts: {
  module: string;
  version: string;
  commands: readonly string[];
  outDir: string;
  /** GOTOOLCHAIN for the build, or how to choose it from the module's go.mod; unset: the host's Go. */
  toolchain?: string | ((goMod: { go?: string; toolchain?: string }) => string | undefined);
  ldflags?: string;
  /**
   * Returns the directory to build in instead of the module-cache one, for modules that
   * need their source adjusted first (a copy at a stable path keeps the build cache warm).
   */
  prepareSource?: (moduleDir: string) => Promise<string>;
}): Promise<GoBuildResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, CGO_ENABLED: "0", GOFLAGS: "-mod=mod" };
  if (typeof opts.toolchain === "string") env.GOTOOLCHAIN = opts.toolchain;
  const goMissing = await execa("go", ["version"], { reject: false, env });
  if (goMissing.exitCode !== 0) {
    throw new HarnessError(
      "IMAGE_PROVISION_FAILED",
      `Building ${opts.module}@${opts.version} locally needs the Go toolchain, and \`go version\` failed: ${goMissing.stderr || goMissing.message}`,
      "Install Go ≥ 1.21 (it fetches the toolchain a module asks for through the module proxy), or make the official image pullable.",
    );
  }
  try {
    const download = await execa("go", ["mod", "download", "-json", `${opts.module}@${opts.version}`], { env });
    const { Dir: moduleDir, GoMod: goMod } = JSON.parse(download.stdout) as { Dir: string; GoMod: string };
    if (typeof opts.toolchain === "function") {
      const toolchain = opts.toolchain(await readGoModRequirements(goMod));
      if (toolchain) env.GOTOOLCHAIN = toolchain;
    }
    const dir = opts.prepareSource ? await opts.prepareSource(moduleDir) : moduleDir;
    await mkdir(opts.outDir, { recursive: true });
    const started = Date.now();
    log(
      "provision",
      `compiling ${opts.commands.join(", ")} of ${opts.module}@${opts.version}${env.GOTOOLCHAIN ? ` with GOTOOLCHAIN=${env.GOTOOLCHAIN}` : ""} (a cold build takes minutes)`,
    );
    await execa(
      "go",
      ["build", "-trimpath", ...(opts.ldflags ? ["-ldflags", opts.ldflags] : []), "-o", `${opts.outDir}/`, ...opts.commands.map((c) => `./${c}`)],
      { cwd: dir, env },
    );
    const binaries: Record<string, string> = {};
    for (const c of opts.commands) {
      const name = c.split("/").at(-1)!;
      const path = join(opts.outDir, name);
      if (!existsSync(path)) throw new Error(`go build succeeded but ${path} is missing`);
      binaries[name] = path;
    }
    const goVersion = (await execa("go", ["env", "GOVERSION"], { cwd: dir, env })).stdout.trim();
    log("provision", `compiled in ${((Date.now() - started) / 1000).toFixed(1)} s with ${goVersion}`);
    return { binaries, goVersion };
  } catch (err) {
    if (err instanceof HarnessError) throw err;
    const e = err as { stderr?: string; message: string };
    throw new HarnessError(
      "IMAGE_PROVISION_FAILED",
      `Building ${opts.module}@${opts.version} failed: ${(e.stderr ?? e.message).slice(-2000)}`,
      `Check that the Go module proxy (${await goEnv(env, "GOPROXY").catch(() => "GOPROXY")}) is reachable and that the version exists; an older module may need an older toolchain (the toolchain field in harness/provision/buildkit-versions.json pins one).`,
      { cause: err },
    );
  }
}
