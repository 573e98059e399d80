import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import semver from "semver";
import YAML from "yaml";
import { HarnessError } from "../errors.ts";
import { FieldReader } from "./fields.ts";
import { TEMPLATE_NAMES, templateReferences } from "./template.ts";
import type { Assertion, BuildStep, KnownBug, Scenario, Step, TypedAttrs } from "./types.ts";

export const SCENARIO_FILE = "scenario.yaml";
const STEP_KINDS = ["build", "prune", "fresh-builder", "repeat"] as const;
const ASSERTION_KINDS = ["digest-stable", "inline-cache-keeps-results"] as const;

/** Loads and validates one scenario folder; any problem throws SCENARIO_INVALID listing all of them. */
export function loadScenario(dir: string): Scenario {
  const folder = resolve(dir);
  const file = join(folder, SCENARIO_FILE);
  const fail = (problems: string[]): never => {
    throw new HarnessError(
      "SCENARIO_INVALID",
      `${file}:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
      "Fix the fields named above (the format is described in scenarios/README.md); nothing of this scenario ran.",
    );
  };
  if (!existsSync(file)) fail([`missing: every scenario folder needs a ${SCENARIO_FILE}`]);
  let doc: unknown;
  try {
    doc = YAML.parse(readFileSync(file, "utf8"), { uniqueKeys: true });
  } catch (err) {
    fail([`not valid YAML: ${(err as Error).message.split("\n")[0]}`]);
  }
  const r = new FieldReader();
  const scenario = readScenario(r, doc, folder, file);
  if (r.problems.length > 0 || !scenario) fail(r.problems);
  return scenario!;
}

function readScenario(r: FieldReader, doc: unknown, dir: string, file: string): Scenario | undefined {
  const top = r.object(doc, "");
  if (!top) return undefined;
  r.onlyKeys(top, "", ["id", "title", "upstream", "tags", "expectation", "applies", "knownBugs", "steps", "assertions"]);
  const id = r.string(top, "id", "", { pattern: /^[a-z0-9][a-z0-9-]*$/ });
  const title = r.string(top, "title", "");
  const expectation = r.string(top, "expectation", "");
  const applies = readRange(r, top, "applies", "", true) ?? "*";
  const upstream = r.list(top, "upstream", "", { nonEmpty: true }).flatMap((u, i) => {
    if (typeof u === "string" && /^https:\/\/github\.com\/[^/]+\/[^/]+\/(issues|pull)\/\d+$/.test(u)) return [u];
    r.problem(`upstream[${i}]`, `expected a GitHub issue or pull request URL, found ${FieldReader.describe(u)}`);
    return [];
  });
  const tags = r.list(top, "tags", "", { optional: true }).flatMap((t, i) => {
    if (typeof t === "string") return [t];
    r.problem(`tags[${i}]`, `expected a string, found ${FieldReader.describe(t)}`);
    return [];
  });
  const knownBugs = r.list(top, "knownBugs", "", { optional: true }).flatMap((b, i) => {
    const bug = readKnownBug(r, b, `knownBugs[${i}]`);
    return bug ? [bug] : [];
  });
  const builds = new Set<string>();
  const steps = readSteps(r, r.list(top, "steps", "", { nonEmpty: true }), "steps", dir, builds);
  const assertions = r.list(top, "assertions", "", { nonEmpty: true }).flatMap((a, i) => {
    const assertion = readAssertion(r, a, `assertions[${i}]`, builds);
    return assertion ? [assertion] : [];
  });
  if (!id || !title || !expectation) return undefined;
  return { id, title, upstream, tags, expectation, applies, knownBugs, steps, assertions, dir, file };
}

function readRange(r: FieldReader, obj: Record<string, unknown>, key: string, path: string, optional: boolean): string | undefined {
  const value = r.string(obj, key, path, { optional });
  if (value !== undefined && semver.validRange(value) === null) {
    r.problem(`${path ? path + "." : ""}${key}`, `${JSON.stringify(value)} is not a semver range (e.g. ">=0.10.0 <0.13.0")`);
    return undefined;
  }
  return value;
}

function readKnownBug(r: FieldReader, value: unknown, path: string): KnownBug | undefined {
  const obj = r.object(value, path);
  if (!obj) return undefined;
  r.onlyKeys(obj, path, ["versions", "status", "reference", "note"]);
  const versions = readRange(r, obj, "versions", path, false);
  const status = r.string(obj, "status", path);
  if (status !== undefined && status !== "reproduces") r.problem(`${path}.status`, `expected "reproduces", found ${JSON.stringify(status)} (a fixed range is simply not declared)`);
  const reference = r.string(obj, "reference", path);
  const note = r.string(obj, "note", path, { optional: true });
  if (!versions || status !== "reproduces" || !reference) return undefined;
  return { versions, status, reference, ...(note ? { note } : {}) };
}

function singleKey(r: FieldReader, value: unknown, path: string, kinds: readonly string[], what: string): [string, unknown] | undefined {
  const obj = r.object(value, path);
  if (!obj) return undefined;
  const keys = Object.keys(obj);
  if (keys.length !== 1) {
    r.problem(path, `a ${what} is a mapping with exactly one key (one of ${kinds.join(", ")}), found ${FieldReader.describe(obj)}`);
    return undefined;
  }
  const kind = keys[0]!;
  if (!kinds.includes(kind)) {
    r.problem(path, `unknown ${what} "${kind}" (known: ${kinds.join(", ")})`);
    return undefined;
  }
  return [kind, obj[kind]];
}

function readSteps(r: FieldReader, list: unknown[], path: string, dir: string, builds: Set<string>): Step[] {
  return list.flatMap((value, i): Step[] => {
    const at = `${path}[${i}]`;
    const entry = singleKey(r, value, at, STEP_KINDS, "step");
    if (!entry) return [];
    const [kind, body] = entry;
    const bodyPath = `${at}.${kind}`;
    switch (kind) {
      case "build": {
        const build = readBuild(r, body, bodyPath, dir);
        if (!build) return [];
        if (builds.has(build.name)) r.problem(`${bodyPath}.name`, `a build named "${build.name}" already exists; names must be unique`);
        builds.add(build.name);
        return [build];
      }
      case "prune": {
        const obj = body === null || body === undefined ? {} : r.object(body, bodyPath);
        if (!obj) return [];
        r.onlyKeys(obj, bodyPath, ["all"]);
        return [{ kind: "prune", all: r.boolean(obj, "all", bodyPath) }];
      }
      case "fresh-builder":
        if (body !== null && body !== undefined && !(typeof body === "object" && Object.keys(body).length === 0)) {
          r.problem(bodyPath, `takes no options, found ${FieldReader.describe(body)}`);
        }
        return [{ kind: "fresh-builder" }];
      case "repeat": {
        const obj = r.object(body, bodyPath);
        if (!obj) return [];
        r.onlyKeys(obj, bodyPath, ["times", "extendTo", "steps"]);
        const times = r.integer(obj, "times", bodyPath, { min: 1 });
        const extendTo = r.integer(obj, "extendTo", bodyPath, { min: 1, optional: true });
        if (times !== undefined && extendTo !== undefined && extendTo < times) r.problem(`${bodyPath}.extendTo`, `must be ≥ times (${times}), found ${extendTo}`);
        const steps = readSteps(r, r.list(obj, "steps", bodyPath, { nonEmpty: true }), `${bodyPath}.steps`, dir, builds);
        if (times === undefined) return [];
        return [{ kind: "repeat", times, extendTo: extendTo ?? times, steps }];
      }
    }
    return [];
  });
}

/** A path inside the scenario folder, refusing `..` and symlinks that lead out of it. */
function insideScenario(r: FieldReader, dir: string, value: string, path: string, want: "file" | "directory"): string | undefined {
  if (isAbsolute(value)) {
    r.problem(path, `must be relative to the scenario folder, found the absolute path ${JSON.stringify(value)}`);
    return undefined;
  }
  const target = resolve(dir, value);
  if (relative(dir, target).startsWith("..")) {
    r.problem(path, `${JSON.stringify(value)} leads outside the scenario folder`);
    return undefined;
  }
  if (!existsSync(target)) {
    r.problem(path, `${JSON.stringify(value)} does not exist in ${dir}`);
    return undefined;
  }
  const real = realpathSync(target);
  if (relative(realpathSync(dir), real).startsWith("..")) {
    r.problem(path, `${JSON.stringify(value)} is a symlink that leads outside the scenario folder (to ${real})`);
    return undefined;
  }
  const isDir = statSync(real).isDirectory();
  if (want === "directory" ? !isDir : isDir) {
    r.problem(path, `${JSON.stringify(value)} must be a ${want}`);
    return undefined;
  }
  return value;
}

function readTypedAttrs(r: FieldReader, value: unknown, path: string): TypedAttrs | undefined {
  const obj = r.object(value, path);
  if (!obj) return undefined;
  const type = r.string(obj, "type", path);
  const attrs: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k === "type") continue;
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") attrs[k] = String(v);
    else r.problem(`${path}.${k}`, `expected a string, number or boolean, found ${FieldReader.describe(v)}`);
  }
  for (const [k, v] of Object.entries(attrs)) checkTemplates(r, v, `${path}.${k}`);
  return type ? { type, attrs } : undefined;
}

function checkTemplates(r: FieldReader, text: string, path: string): void {
  for (const ref of templateReferences(text)) {
    if (!(TEMPLATE_NAMES as readonly string[]).includes(ref.name)) r.problem(path, `unknown reference {{${ref.name}}} (known: ${TEMPLATE_NAMES.join(", ")})`);
    if (ref.name === "image" && !ref.arg) r.problem(path, `{{image}} needs a base image name, e.g. {{image:busybox}}`);
  }
}

function readBuild(r: FieldReader, body: unknown, path: string, dir: string): BuildStep | undefined {
  const obj = r.object(body, path);
  if (!obj) return undefined;
  r.onlyKeys(obj, path, ["name", "context", "dockerfile", "buildArgs", "frontendOpts", "importCache", "exportCache", "output", "noCache"]);
  const name = r.string(obj, "name", path, { pattern: /^[a-z0-9][a-z0-9-]*$/ });
  const contextValue = r.string(obj, "context", path, { optional: true }) ?? "context";
  const context = insideScenario(r, dir, contextValue, `${path}.context`, "directory");
  const dockerfileValue = r.string(obj, "dockerfile", path, { optional: true }) ?? "Dockerfile";
  const dockerfile = insideScenario(r, dir, dockerfileValue, `${path}.dockerfile`, "file");
  if (dockerfile) checkTemplates(r, readFileSync(join(dir, dockerfile), "utf8"), `${path}.dockerfile (${dockerfile})`);
  const buildArgs = r.stringMap(obj, "buildArgs", path);
  const frontendOpts = r.stringMap(obj, "frontendOpts", path);
  const importCache = r.list(obj, "importCache", path, { optional: true }).flatMap((c, i) => readTypedAttrs(r, c, `${path}.importCache[${i}]`) ?? []);
  const exportCache = r.list(obj, "exportCache", path, { optional: true }).flatMap((c, i) => readTypedAttrs(r, c, `${path}.exportCache[${i}]`) ?? []);
  const output = obj.output === undefined ? undefined : readTypedAttrs(r, obj.output, `${path}.output`);
  if (obj.output === undefined) r.problem(`${path}.output`, "is required (e.g. type: image, name: \"{{registry}}/{{scenario}}:latest\", push: true)");
  const noCache = r.boolean(obj, "noCache", path);
  if (!name || !context || !dockerfile || !output) return undefined;
  return { kind: "build", name, context, dockerfile, buildArgs, frontendOpts, importCache, exportCache, output, noCache };
}

function readAssertion(r: FieldReader, value: unknown, path: string, builds: ReadonlySet<string>): Assertion | undefined {
  const entry = singleKey(r, value, path, ASSERTION_KINDS, "assertion");
  if (!entry) return undefined;
  const [kind, body] = entry;
  const at = `${path}.${kind}`;
  const obj = r.object(body, at);
  if (!obj) return undefined;
  const build = r.string(obj, "build", at);
  if (build && !builds.has(build)) r.problem(`${at}.build`, `no build named "${build}" (builds: ${[...builds].join(", ") || "none"})`);
  switch (kind) {
    case "digest-stable": {
      r.onlyKeys(obj, at, ["build", "digest"]);
      const digest = r.string(obj, "digest", at);
      if (digest !== undefined && digest !== "image" && digest !== "config") r.problem(`${at}.digest`, `expected "image" or "config", found ${JSON.stringify(digest)}`);
      return build && (digest === "image" || digest === "config") ? { kind, build, digest } : undefined;
    }
    case "inline-cache-keeps-results":
      r.onlyKeys(obj, at, ["build"]);
      return build ? { kind, build } : undefined;
  }
  return undefined;
}

/** Scenario folders under `root`: every directory holding a scenario.yaml, by name. */
export function discoverScenarios(root: string): string[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, d.name, SCENARIO_FILE)))
    .map((d) => join(root, d.name))
    .sort();
}
