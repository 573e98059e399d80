/**
 * The buildctl client: runs `buildctl` (no shell) against one buildkitd address and reads
 * what it prints. A failed build is a result (with `error`), not an exception; a missing
 * binary or an unreachable daemon is a HarnessError, so infrastructure failures are never
 * mistaken for findings about BuildKit.
 */
import { readFile } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import { ExecaError, execa } from "execa";
import semver from "semver";
import { file as tmpFile } from "tmp-promise";
import { HarnessError } from "../errors.ts";
import { timeoutMs } from "../timeouts.ts";
import { type BuildRequest, buildctlBuildArgs } from "./build-request.ts";
import { clientSupports, parseClientVersion } from "./client-features.ts";
import { type DiskUsageRecord, parseDiskUsageJson, parseDiskUsageVerbose } from "./disk-usage.ts";
import { parseProgress } from "./progress/parse.ts";
import { lastErrorLine, type ProgressFormat, type StepResult } from "./progress/step.ts";
import { parseWorkersJson, parseWorkersVerbose, type WorkerInfo } from "./workers.ts";

export interface BuildctlOptions {
  /** Path to the buildctl binary. */
  binary: string;
  /** buildkitd address, e.g. "tcp://127.0.0.1:1234" or "unix:///run/buildkit/buildkitd.sock". */
  addr: string;
  /** The client's release, e.g. "v0.34.2": decides progress format and flags. */
  clientVersion: string;
}

/** "auto": rawjson when the client is ≥ v0.13.0, else plain. */
export type ProgressMode = ProgressFormat | "auto";

export interface BuildOptions {
  progress?: ProgressMode;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface BuildResult {
  exitCode: number;
  wallMs: number;
  /** One per vertex (rawjson) or `#N` step (plain); see StepResult for what plain cannot tell. */
  steps: StepResult[];
  /** The parsed `--metadata-file` ({} when the build wrote none, e.g. because it failed). */
  metadata: Record<string, unknown>;
  progressFormat: ProgressFormat;
  /** buildctl's stderr, where the progress goes. */
  rawProgress: string;
  /** argv, binary first. */
  command: string[];
  /** Set when the build failed: the last `error: ...` line (without the prefix). */
  error?: string;
  /** Warnings the frontend reported (Dockerfile lint checks, ...). */
  buildWarnings: string[];
  /** Problems reading the progress stream or metadata file; never fatal. */
  parseWarnings: string[];
}

export interface Invocation {
  args: string[];
  wallMs: number;
  /** null when buildctl did not run to an exit (not found, killed, timed out). */
  exitCode: number | null;
}

interface RunOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  /**
   * Discard stdout (build: `--output type=tar|oci|docker` without `dest` writes the tarball
   * there, which must not be buffered). du/workers/prune print their answer on stdout.
   */
  discardStdout?: boolean;
}

interface RunOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
  wallMs: number;
}

/**
 * buildctl v0.31.0 and v0.31.1 exit 1 with "context deadline exceeded" after a command
 * succeeded when their 50 ms telemetry flush on exit runs late (moby/buildkit#6912). buildctl
 * writes the metadata file only once the solve has returned, so that error with a written
 * metadata file is the client failing on exit, not the build.
 */
function failedOnlyOnTelemetryShutdown(clientVersion: string, error: string, metadata: Record<string, unknown>): boolean {
  return failsOnExitWhenBusy(clientVersion) && error === "context deadline exceeded" && Object.keys(metadata).length > 0;
}

function failsOnExitWhenBusy(clientVersion: string): boolean {
  const v = parseClientVersion(clientVersion);
  return semver.satisfies(`${v.major}.${v.minor}.${v.patch}`, ">=0.31.0 <0.31.2");
}

/** Messages of gRPC dial failures: the daemon is not there (yet). Recorded from buildctl v0.12–v0.34. */
const DAEMON_UNREACHABLE =
  /connection refused|failed to dial|no such host|error while dialing|connection error|dial (?:tcp|unix)\b|no such file or directory.*\.sock|i\/o timeout|context deadline exceeded/i;

export function isDaemonUnreachableMessage(message: string): boolean {
  return DAEMON_UNREACHABLE.test(message);
}

export class Buildctl {
  readonly binary: string;
  readonly addr: string;
  readonly clientVersion: string;
  /** Every buildctl run, in order, with its wall time (the overhead benchmark sums them). */
  readonly invocations: Invocation[] = [];

  constructor(options: BuildctlOptions) {
    parseClientVersion(options.clientVersion); // fail fast on a bad version
    this.binary = options.binary;
    this.addr = options.addr;
    this.clientVersion = options.clientVersion;
  }

  /** The progress format "auto" resolves to for this client. */
  progressFormatFor(mode: ProgressMode = "auto"): ProgressFormat {
    const rawjson = clientSupports(this.clientVersion, "rawjsonProgress");
    if (mode === "auto") return rawjson ? "rawjson" : "plain";
    if (mode === "rawjson" && !rawjson) {
      throw new HarnessError(
        "BUILDCTL_FAILED",
        `buildctl ${this.clientVersion} has no --progress=rawjson (added in v0.13.0)`,
        'use progress "plain" or "auto" with this client',
      );
    }
    return mode;
  }

  async build(req: BuildRequest, options: BuildOptions = {}): Promise<BuildResult> {
    const progressFormat = this.progressFormatFor(options.progress);
    const tmp = req.metadataFile === undefined ? await tmpFile({ prefix: "buildctl-metadata-", postfix: ".json" }) : undefined;
    const metadataFile = req.metadataFile ?? tmp!.path;
    try {
      const args = ["--addr", this.addr, "build", `--progress=${progressFormat}`, ...buildctlBuildArgs({ ...req, metadataFile })];
      const out = await this.run(args, { signal: options.signal, timeoutMs: options.timeoutMs, discardStdout: true });
      const progress = parseProgress(progressFormat, out.stderr);
      const result: BuildResult = {
        exitCode: out.exitCode,
        wallMs: out.wallMs,
        steps: progress.steps,
        metadata: {},
        progressFormat,
        rawProgress: out.stderr,
        command: [this.binary, ...args],
        buildWarnings: progress.buildWarnings,
        parseWarnings: progress.parseWarnings,
      };
      if (out.exitCode !== 0) {
        const error = progress.error ?? lastNonEmptyLine(out.stderr) ?? `buildctl exited with ${out.exitCode}`;
        if (progress.steps.length === 0 && isDaemonUnreachableMessage(error)) {
          throw this.daemonNotReady(error);
        }
        result.error = error;
      }
      const metadata = await readMetadata(metadataFile);
      result.metadata = metadata.value;
      if (metadata.warning) result.parseWarnings.push(metadata.warning);
      if (result.error !== undefined && failedOnlyOnTelemetryShutdown(this.clientVersion, result.error, result.metadata)) {
        throw new HarnessError(
          "BUILDCTL_FAILED",
          `buildctl ${this.clientVersion} exited ${out.exitCode} with "${result.error}" after the build finished (it had written the metadata file): ` +
            "this client flushes its telemetry on exit under a 50 ms deadline, which a busy machine misses " +
            "(https://github.com/moby/buildkit/issues/6912, fixed in buildctl v0.31.2). The build is not judged.",
          "This says nothing about the scenario; run it again, on a less busy machine or with fewer versions at once (--parallel 1).",
        );
      }
      return result;
    } finally {
      await tmp?.cleanup();
    }
  }

  /** `buildctl prune [--all]`; returns the records it removed. */
  async prune(options: { all?: boolean } = {}): Promise<DiskUsageRecord[]> {
    // The clients of moby/buildkit#6912 print the table, whose "Total:" line is written
    // only once the prune returned: with it, "context deadline exceeded" is the exit failing.
    const exitFlaw = failsOnExitWhenBusy(this.clientVersion);
    const json = clientSupports(this.clientVersion, "diskUsageFormat") && !exitFlaw;
    const args = ["--addr", this.addr, "prune", ...(options.all ? ["--all"] : [])];
    args.push(...(json ? ["--format", "{{json .}}"] : ["--verbose"]));
    const out = await this.runChecked(args, {}, exitFlaw ? (o) => /^Total:/m.test(o.stdout) : undefined);
    return json ? parseDiskUsageJson(out.stdout) : parseDiskUsageVerbose(out.stdout);
  }

  /** `buildctl du`: the records of the cache store. */
  async du(): Promise<DiskUsageRecord[]> {
    const json = clientSupports(this.clientVersion, "diskUsageFormat");
    const args = ["--addr", this.addr, "du", ...(json ? ["--format", "{{json .}}"] : ["--verbose"])];
    const out = await this.runChecked(args);
    return json ? parseDiskUsageJson(out.stdout) : parseDiskUsageVerbose(out.stdout);
  }

  /** `buildctl debug workers`: ids, labels (snapshotter, executor, ...) and platforms. */
  async debugWorkers(options: { timeoutMs?: number } = {}): Promise<WorkerInfo[]> {
    const json = clientSupports(this.clientVersion, "workersFormat");
    const args = ["--addr", this.addr, "debug", "workers", ...(json ? ["--format", "{{json .}}"] : ["--verbose"])];
    const out = await this.runChecked(args, options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {});
    return json ? parseWorkersJson(out.stdout) : parseWorkersVerbose(out.stdout);
  }

  /**
   * Run a command whose non-zero exit is a failure (everything but build); bounded in time.
   * `completed` says, for a client of moby/buildkit#6912, whether the output proves the
   * command was done before its exit failed with "context deadline exceeded".
   */
  private async runChecked(args: string[], options: RunOptions = {}, completed?: (out: RunOutput) => boolean): Promise<RunOutput> {
    const out = await this.run(args, { timeoutMs: timeoutMs("buildctlCommand"), ...options });
    if (out.exitCode !== 0) {
      const error = lastErrorLine(out.stderr.split("\n")) ?? lastNonEmptyLine(out.stderr) ?? `exit code ${out.exitCode}`;
      if (error === "context deadline exceeded" && completed?.(out)) return out;
      if (isDaemonUnreachableMessage(error)) throw this.daemonNotReady(error);
      throw new HarnessError(
        "BUILDCTL_FAILED",
        `buildctl ${args.slice(2).join(" ")} failed (exit ${out.exitCode}): ${error}`,
        `the command was: ${[this.binary, ...args].join(" ")}`,
      );
    }
    return out;
  }

  /** Run buildctl once, log the invocation, and turn "did not run to an exit" into errors. */
  private async run(args: string[], options: RunOptions): Promise<RunOutput> {
    const started = performance.now();
    const result = await execa(this.binary, args, {
      reject: false,
      stdin: "ignore",
      stdout: options.discardStdout ? "ignore" : "pipe",
      stderr: "pipe",
      stripFinalNewline: false, // rawProgress is the stream exactly as buildctl printed it
      cancelSignal: options.signal,
      timeout: options.timeoutMs,
      forceKillAfterDelay: 5_000,
    });
    const wallMs = performance.now() - started;
    const exitCode = typeof result.exitCode === "number" ? result.exitCode : null;
    this.invocations.push({ args, wallMs, exitCode });

    const command = [this.binary, ...args].join(" ");
    // Checked before the exit code: buildctl traps SIGTERM and exits 1 on its own.
    if (result.isCanceled) {
      // A deadline cancels with its own error as the reason; anything else is an interruption.
      const reason: unknown = options.signal?.reason;
      if (reason instanceof HarnessError) throw reason;
      throw new HarnessError("INTERRUPTED", `buildctl was canceled: ${command}`, undefined, { cause: result });
    }
    if (result.timedOut) {
      throw new HarnessError(
        "TIMEOUT",
        `buildctl ${args[2] ?? ""} did not finish within ${(options.timeoutMs ?? 0) / 1000} s: ${command}`,
        "Raise the limit (BUILDKIT_REPRO_TIMEOUT_BUILD for builds, BUILDKIT_REPRO_TIMEOUT_BUILDCTL otherwise) if the machine is just slow; a build that never ends may also be a hang worth reporting upstream.",
        { cause: result },
      );
    }
    if (exitCode === null) {
      // With reject: false a spawn failure comes back as the ExecaError itself, carrying the
      // errno code ("ENOENT") that the Result type does not declare.
      const errno = result instanceof ExecaError ? (result as { code?: unknown }).code : undefined;
      const code = typeof errno === "string" ? errno : undefined;
      if (code === "ENOENT" || code === "EACCES") {
        throw new HarnessError(
          "BUILDCTL_FAILED",
          `cannot run buildctl at ${this.binary} (${code})`,
          `provision the buildctl ${this.clientVersion} client first, or fix the path`,
          { cause: result },
        );
      }
      throw new HarnessError("BUILDCTL_FAILED", `buildctl did not exit normally (${result.signal ?? code ?? "unknown"}): ${command}`, undefined, {
        cause: result,
      });
    }
    return {
      exitCode: exitCode ?? 1,
      stdout: typeof result.stdout === "string" ? result.stdout : "",
      stderr: typeof result.stderr === "string" ? result.stderr : "",
      wallMs,
    };
  }

  private daemonNotReady(error: string): HarnessError {
    return new HarnessError(
      "DAEMON_NOT_READY",
      `buildkitd is not reachable at ${this.addr}: ${error}`,
      "start the daemon (or wait for it) and check the address; `buildctl debug workers` should answer",
    );
  }
}

function lastNonEmptyLine(text: string): string | undefined {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  return lines[lines.length - 1];
}

async function readMetadata(path: string): Promise<{ value: Record<string, unknown>; warning?: string }> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return { value: {} }; // not written: the build failed before exporting
  }
  if (text.trim() === "") return { value: {} };
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      return { value: value as Record<string, unknown> };
    }
    return { value: {}, warning: `metadata file ${path} is not a JSON object` };
  } catch (err) {
    return { value: {}, warning: `metadata file ${path} is not JSON: ${(err as Error).message}` };
  }
}
