/**
 * A build through the Docker engine API (POST /build) as data, and the query string the
 * engine gets for it, built purely. `version=2` asks for the BuildKit builder; the build
 * context travels as the tar body of the request, with no client session, which dockerd's
 * builder-next serves to BuildKit as the build context.
 */

export interface EngineBuildRequest {
  /** Host directory sent as the build context. */
  readonly contextDir: string;
  /** Path of the Dockerfile inside the context (default "Dockerfile"). */
  readonly dockerfile?: string;
  /**
   * Dockerfile text to add to the context under `dockerfile`, for a Dockerfile that lives
   * outside it (`docker build -f ../Dockerfile .`): the context must then have no
   * .dockerignore, which is written to exclude the Dockerfile, as the CLI does.
   */
  readonly dockerfileContent?: string;
  readonly tags?: readonly string[];
  /** e.g. { BUILDKIT_INLINE_CACHE: "1" }. */
  readonly buildArgs?: Readonly<Record<string, string>>;
  /** Image references whose (inline) cache the build may import: `--cache-from`. */
  readonly cacheFrom?: readonly string[];
  readonly target?: string;
  readonly noCache?: boolean;
  /** Pull base images even when the engine has them: `--pull`. */
  readonly pull?: boolean;
  readonly labels?: Readonly<Record<string, string>>;
  readonly platform?: string;
}

/** Query parameters of POST /build; repeated keys as arrays (docker-modem writes `t=a&t=b`). */
export type BuildQuery = Record<string, string | string[]>;

export function buildQuery(req: EngineBuildRequest): BuildQuery {
  const q: BuildQuery = { version: "2", dockerfile: req.dockerfile ?? "Dockerfile" };
  if (req.tags && req.tags.length > 0) q.t = [...req.tags];
  if (req.buildArgs && Object.keys(req.buildArgs).length > 0) q.buildargs = JSON.stringify(req.buildArgs);
  if (req.cacheFrom && req.cacheFrom.length > 0) q.cachefrom = JSON.stringify(req.cacheFrom);
  if (req.target) q.target = req.target;
  if (req.noCache) q.nocache = "1";
  if (req.pull) q.pull = "1";
  if (req.labels && Object.keys(req.labels).length > 0) q.labels = JSON.stringify(req.labels);
  if (req.platform) q.platform = req.platform;
  return q;
}

/** The same build as a `docker build` command line, for people reading a report. */
export function dockerBuildCommand(req: EngineBuildRequest): string[] {
  const argv = ["docker", "build"];
  if (req.dockerfile && req.dockerfile !== "Dockerfile") argv.push("-f", req.dockerfile);
  for (const t of req.tags ?? []) argv.push("-t", t);
  for (const [k, v] of Object.entries(req.buildArgs ?? {})) argv.push("--build-arg", `${k}=${v}`);
  for (const c of req.cacheFrom ?? []) argv.push("--cache-from", c);
  if (req.target) argv.push("--target", req.target);
  if (req.noCache) argv.push("--no-cache");
  if (req.pull) argv.push("--pull");
  for (const [k, v] of Object.entries(req.labels ?? {})) argv.push("--label", `${k}=${v}`);
  if (req.platform) argv.push("--platform", req.platform);
  argv.push(req.contextDir);
  return argv;
}
