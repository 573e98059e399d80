/**
 * The module information the Go linker writes into a binary, as `go version -m <binary>`
 * prints it. A binary built in module mode lists every dependency with its version; one
 * built in GOPATH mode (Debian's docker.io) has no `dep` lines at all.
 */
import { execa } from "execa";

export interface GoModule {
  readonly path: string;
  readonly version: string;
  /** The `=>` line under a dep: what the build really used. */
  readonly replacedBy?: { readonly path: string; readonly version: string };
}

export interface GoBuildInfo {
  /** e.g. "go1.24.4". */
  readonly goVersion: string;
  /** The main package, e.g. "github.com/moby/moby/v2/cmd/dockerd". */
  readonly path?: string;
  readonly main?: GoModule;
  readonly deps: ReadonlyMap<string, GoModule>;
  /** `build` lines: -tags, CGO_ENABLED, -ldflags, vcs.revision, ... */
  readonly settings: ReadonlyMap<string, string>;
}

/** Parses the output of `go version -m <one binary>`. */
export function parseGoVersionM(output: string): GoBuildInfo {
  const lines = output.split("\n");
  const header = /^.*: (go\S+)$/.exec(lines[0] ?? "");
  if (!header) throw new Error(`not \`go version -m\` output: ${JSON.stringify((lines[0] ?? "").slice(0, 200))}`);
  let path: string | undefined;
  let main: GoModule | undefined;
  const deps = new Map<string, GoModule>();
  const settings = new Map<string, string>();
  let lastDep: GoModule | undefined;
  for (const line of lines.slice(1)) {
    const [kind, ...fields] = line.replace(/^\t/, "").split("\t");
    switch (kind) {
      case "path":
        path = fields[0];
        break;
      case "mod":
        main = { path: fields[0] ?? "", version: fields[1] ?? "" };
        break;
      case "dep":
        lastDep = { path: fields[0] ?? "", version: fields[1] ?? "" };
        deps.set(lastDep.path, lastDep);
        break;
      case "=>":
        if (lastDep) {
          lastDep = { ...lastDep, replacedBy: { path: fields[0] ?? "", version: fields[1] ?? "" } };
          deps.set(lastDep.path, lastDep);
        }
        break;
      case "build": {
        const setting = fields.join("\t");
        const eq = setting.indexOf("=");
        if (eq > 0) settings.set(setting.slice(0, eq), setting.slice(eq + 1));
        break;
      }
      default:
        break;
    }
  }
  return { goVersion: header[1]!, ...(path ? { path } : {}), ...(main ? { main } : {}), deps, settings };
}

export async function readGoBuildInfo(binary: string): Promise<GoBuildInfo> {
  const { stdout } = await execa("go", ["version", "-m", binary]);
  return parseGoVersionM(stdout);
}

/** The version of `module` the binary was built with, following a replace; undefined without module info. */
export function moduleVersion(info: GoBuildInfo, module: string): string | undefined {
  const dep = info.deps.get(module);
  if (!dep) return undefined;
  return dep.replacedBy ? `${dep.replacedBy.path}@${dep.replacedBy.version}` : dep.version;
}
