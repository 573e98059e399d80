/**
 * dockerd's embedded BuildKit driven through the engine API, the way `docker build`,
 * `docker rmi`, `docker pull`, `docker push` and `docker builder prune` drive it.
 * A failed build is a result with `error` set (a finding about BuildKit); an engine that
 * does not answer is a DAEMON_NOT_READY HarnessError (a machine fault).
 */
import type Dockerode from "dockerode";
import { HarnessError } from "../errors.ts";
import { interruption } from "../interruption.ts";
import { type BuildQuery, buildQuery, dockerBuildCommand, type EngineBuildRequest } from "./build-request.ts";
import { type EngineBuildProgress, parseEngineBuildStream } from "./build-stream.ts";
import { packContext } from "./context-tar.ts";

export interface EngineBuildResult extends EngineBuildProgress {
  readonly wallMs: number;
  readonly query: BuildQuery;
  /** The equivalent `docker build` argv, for reports. */
  readonly command: string[];
  /** The engine's JSON message stream as received (what fixtures record). */
  readonly rawStream: string;
}

export interface PushResult {
  /** The manifest digest the engine pushed (from the stream's final aux), when it said. */
  readonly digest?: string;
  readonly error?: string;
  readonly rawStream: string;
}

export interface PruneResult {
  readonly cachesDeleted: number;
  readonly spaceReclaimed: number;
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;

/** An empty X-Registry-Auth: the test registry has no auth, and 20.10 refuses a push without the header. */
const ANONYMOUS = {};

function isConnectionFailure(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === "ECONNREFUSED" || code === "ECONNRESET" || code === "EPIPE" || code === "ENOTFOUND";
}

export class EngineBuilder {
  constructor(
    private readonly client: Dockerode,
    /** Names the engine in errors, e.g. "dockerd 20.10.24+dfsg1 at http://127.0.0.1:1234". */
    private readonly label: string,
  ) {}

  private unreachable(what: string, err: unknown): HarnessError {
    return new HarnessError(
      "DAEMON_NOT_READY",
      `${this.label} did not answer ${what}: ${(err as Error).message}`,
      "The engine's container may have stopped; read its log (docker logs) for why.",
      { cause: err },
    );
  }

  /** Reads a streamed response to its end, within `timeoutMs`. */
  private async readStream(stream: NodeJS.ReadableStream, timeoutMs: number, what: string, signal?: AbortSignal): Promise<string> {
    const stop = signal ? AbortSignal.any([interruption.signal, signal]) : interruption.signal;
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        (stream as unknown as { destroy?: (e: Error) => void }).destroy?.(new Error(`timed out after ${timeoutMs / 1000} s`));
      }, timeoutMs);
      const onAbort = () => (stream as unknown as { destroy?: (e: Error) => void }).destroy?.(new Error("interrupted"));
      stop.addEventListener("abort", onAbort, { once: true });
      const done = (err?: Error) => {
        clearTimeout(timer);
        stop.removeEventListener("abort", onAbort);
        if (err) reject(err);
        else resolve();
      };
      stream.on("data", (c: Buffer | string) => void chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c)));
      stream.on("end", () => done());
      stream.on("error", (e: Error) => done(e));
    }).catch((err: unknown) => {
      if (signal?.aborted && signal.reason instanceof HarnessError) throw signal.reason;
      if (stop.aborted) throw new HarnessError("INTERRUPTED", `${what} was interrupted`);
      throw this.unreachable(what, err);
    });
    return Buffer.concat(chunks).toString("utf8");
  }

  async build(req: EngineBuildRequest, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<EngineBuildResult> {
    const query = buildQuery(req);
    const dockerfile = query.dockerfile as string;
    // As the docker CLI sends a Dockerfile from outside the context: added to the tar and,
    // with .dockerignore itself, listed in .dockerignore. (The CLI applies a context's own
    // .dockerignore on the client, which packContext does not: such contexts are refused.)
    const extra =
      req.dockerfileContent === undefined
        ? []
        : [
            { name: dockerfile, content: req.dockerfileContent },
            { name: ".dockerignore", content: `.dockerignore\n${dockerfile}\n` },
          ];
    const started = Date.now();
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.client.buildImage(packContext(req.contextDir, extra), query);
    } catch (err) {
      if (isConnectionFailure(err)) throw this.unreachable("POST /build", err);
      // The engine refused the request itself (400/500 before streaming): a build error.
      const message = (err as { json?: { message?: string } }).json?.message ?? (err as Error).message;
      return {
        ...parseEngineBuildStream(""),
        error: message,
        wallMs: Date.now() - started,
        query,
        command: dockerBuildCommand(req),
        rawStream: "",
      };
    }
    const rawStream = await this.readStream(stream, options.timeoutMs ?? DEFAULT_TIMEOUT_MS, "POST /build", options.signal);
    return { ...parseEngineBuildStream(rawStream), wallMs: Date.now() - started, query, command: dockerBuildCommand(req), rawStream };
  }

  /** `docker rmi [--force]`; false when the engine had no such image. */
  async removeImage(reference: string, opts: { force?: boolean } = {}): Promise<boolean> {
    try {
      await this.client.getImage(reference).remove({ force: opts.force ?? false });
      return true;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return false;
      if (isConnectionFailure(err)) throw this.unreachable(`DELETE /images/${reference}`, err);
      throw new HarnessError("REGISTRY_ERROR", `${this.label} could not remove ${reference}: ${(err as Error).message}`);
    }
  }

  /** `docker builder prune --force [--all]`: with all, the builder's whole cache, not only dangling records. */
  async pruneBuilderCache(opts: { all?: boolean } = { all: true }): Promise<PruneResult> {
    try {
      // dockerode's pruneBuilder sends no query, and `all` (API 1.39+) is the point here.
      const out = await new Promise<{ CachesDeleted?: string[] | null; SpaceReclaimed?: number }>((resolve, reject) => {
        this.client.modem.dial(
          { path: "/build/prune?", method: "POST", options: { all: String(opts.all ?? true) }, statusCodes: { 200: true, 500: "server error" } },
          (err: unknown, data: unknown) => (err ? reject(err) : resolve(data as { CachesDeleted?: string[] | null; SpaceReclaimed?: number })),
        );
      });
      return { cachesDeleted: out.CachesDeleted?.length ?? 0, spaceReclaimed: out.SpaceReclaimed ?? 0 };
    } catch (err) {
      throw this.unreachable("POST /build/prune", err);
    }
  }

  /** `docker pull`; resolves with the engine's error message, if any. */
  async pull(reference: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<{ error?: string; rawStream: string }> {
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.client.pull(reference, { authconfig: ANONYMOUS });
    } catch (err) {
      if (isConnectionFailure(err)) throw this.unreachable("POST /images/create", err);
      return { error: (err as Error).message, rawStream: "" };
    }
    const rawStream = await this.readStream(stream, timeoutMs, `pull ${reference}`);
    const error = streamError(rawStream);
    return { ...(error ? { error } : {}), rawStream };
  }

  /** `docker push` of one tag. */
  async push(reference: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<PushResult> {
    const { name, tag } = splitTag(reference);
    let stream: NodeJS.ReadableStream;
    try {
      stream = (await this.client.getImage(name).push({ tag, authconfig: ANONYMOUS })) as NodeJS.ReadableStream;
    } catch (err) {
      if (isConnectionFailure(err)) throw this.unreachable(`POST /images/${name}/push`, err);
      return { error: (err as Error).message, rawStream: "" };
    }
    const rawStream = await this.readStream(stream, timeoutMs, `push ${reference}`);
    const error = streamError(rawStream);
    const digest = pushedDigest(rawStream);
    return { ...(digest ? { digest } : {}), ...(error ? { error } : {}), rawStream };
  }
}

/** "registry:5000/app:latest" → name "registry:5000/app", tag "latest" (a port is not a tag). */
export function splitTag(reference: string): { name: string; tag: string } {
  const slash = reference.lastIndexOf("/");
  const colon = reference.lastIndexOf(":");
  if (colon > slash) return { name: reference.slice(0, colon), tag: reference.slice(colon + 1) };
  return { name: reference, tag: "latest" };
}

/**
 * The digest a push reports: the graph-driver store ends with `{"aux":{"Tag","Digest","Size"}}`,
 * the containerd store only with the status line "<tag>: digest: sha256:… size: N".
 */
export function pushedDigest(rawStream: string): string | undefined {
  return /"Digest":"(sha256:[0-9a-f]{64})"/.exec(rawStream)?.[1] ?? /: digest: (sha256:[0-9a-f]{64}) size: \d+/.exec(rawStream)?.[1];
}

/** The first `error` of a pull/push message stream. */
export function streamError(rawStream: string): string | undefined {
  for (const line of rawStream.split(/\r?\n/)) {
    if (!line.trim().startsWith("{")) continue;
    try {
      const m = JSON.parse(line) as { error?: string; errorDetail?: { message?: string } };
      if (m.errorDetail?.message || m.error) return m.errorDetail?.message ?? m.error;
    } catch {
      // a partial line: the stream is judged by its complete messages
    }
  }
  return undefined;
}
