/**
 * A `buildctl build` request as data, and its translation to command-line flags.
 *
 * Vocabulary follows BuildKit: a *frontend* turns the Dockerfile into LLB, *locals* are the
 * host directories the session exposes (`--local name=dir`), *frontend opts* are `--opt k=v`,
 * a *cache importer/exporter* is `--import-cache`/`--export-cache`, and an *output* (exporter)
 * is `--output`.
 */

/** A cache importer or exporter: `type=<type>,<k>=<v>,...`. */
export interface CacheSpec {
  type: "registry" | "inline" | "local" | "gha" | "s3" | "azblob" | (string & {});
  /** Attributes after `type=`, in the order they should appear (e.g. ref, mode, dest, src). */
  attrs: Record<string, string>;
}

/** An output (exporter): `type=<type>,<k>=<v>,...`. */
export interface OutputSpec {
  type: "image" | "oci" | "local" | "docker" | "tar" | "registry" | (string & {});
  attrs: Record<string, string>;
}

export interface BuildRequest {
  frontend: "dockerfile.v0";
  /** Session-local directories by name, e.g. `{ context: "/src", dockerfile: "/src" }`. */
  locals: Record<string, string>;
  /**
   * Frontend options, passed as `--opt k=v` (split by buildctl at the first `=`, no CSV):
   * `filename`, `target`, `build-arg:X`, `context:name`, `attest:provenance`, `platform`, ...
   */
  frontendOpts: Record<string, string>;
  /** Sugar: each entry becomes `--opt build-arg:K=V` (after `frontendOpts`). */
  buildArgs?: Record<string, string>;
  importCache: CacheSpec[];
  exportCache: CacheSpec[];
  outputs: OutputSpec[];
  /** `--no-cache`: disable cache for all vertices. */
  noCache?: boolean;
  /** `--source-policy-file` (JSON source policy). */
  sourcePolicyFile?: string;
  /** `--metadata-file`; {@link Buildctl.build} picks a temp file when this is absent. */
  metadataFile?: string;
}

/**
 * Quote one `k=v` field the way Go's encoding/csv (and tonistiigi/go-csvvalue, which newer
 * buildctl uses) reads it: a field containing a comma, a double quote or a newline is wrapped
 * in double quotes with inner quotes doubled (a bare quote inside an unquoted field is an
 * error for encoding/csv).
 */
export function csvField(field: string): string {
  if (/[",\r\n]/.test(field)) {
    return `"${field.replaceAll('"', '""')}"`;
  }
  return field;
}

/** `type=registry,ref=r,mode=max`: the CSV value of `--export-cache/--import-cache/--output`. */
export function formatTypedAttrs(spec: CacheSpec | OutputSpec): string {
  const fields = [`type=${spec.type}`];
  for (const [k, v] of Object.entries(spec.attrs)) {
    if (k === "type") throw new Error(`attribute "type" must be given as the spec's type, not in attrs`);
    fields.push(`${k}=${v}`);
  }
  return fields.map(csvField).join(",");
}

/**
 * The flags of `buildctl build` for a request (without the global `--addr`, the `build`
 * subcommand itself, and `--progress`, which {@link Buildctl} adds).
 */
export function buildctlBuildArgs(req: BuildRequest): string[] {
  const args: string[] = ["--frontend", req.frontend];
  for (const [name, dir] of Object.entries(req.locals)) {
    if (name.includes("=")) throw new Error(`local name must not contain "=": ${name}`);
    args.push("--local", `${name}=${dir}`);
  }
  for (const [k, v] of Object.entries(req.frontendOpts)) {
    args.push("--opt", `${k}=${v}`);
  }
  for (const [k, v] of Object.entries(req.buildArgs ?? {})) {
    args.push("--opt", `build-arg:${k}=${v}`);
  }
  for (const spec of req.importCache) args.push("--import-cache", formatTypedAttrs(spec));
  for (const spec of req.exportCache) args.push("--export-cache", formatTypedAttrs(spec));
  for (const spec of req.outputs) args.push("--output", formatTypedAttrs(spec));
  if (req.noCache) args.push("--no-cache");
  if (req.sourcePolicyFile !== undefined) args.push("--source-policy-file", req.sourcePolicyFile);
  if (req.metadataFile !== undefined) args.push("--metadata-file", req.metadataFile);
  return args;
}
