import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, normalize, relative, resolve } from "node:path";
import semver from "semver";
import YAML from "yaml";
import { HarnessError } from "../errors.ts";
import { FieldReader } from "./fields.ts";
import { TEMPLATE_NAMES, templateReferences } from "./template.ts";
import {
  ASSERTION_KINDS,
  type Assertion,
  type BuildStep,
  type DigestKind,
  EDIT_OPS,
  type EditStep,
  type KnownBug,
  LAYER_SELECTIONS,
  type Scenario,
  type Step,
  type TypedAttrs,
} from "./types.ts";

export const SCENARIO_FILE = "scenario.yaml";
export const STEP_KINDS = ["build", "prune", "fresh-builder", "repeat", ...EDIT_OPS] as const;
const DIGEST_KINDS: readonly DigestKind[] = ["image", "config", "layers"];

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
  const steps = readSteps(r, r.list(top, "steps", "", { nonEmpty: true }), "steps", { dir, builds, created: new Set(), inRepeat: false });
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
    r.problem(`${path ? `${path}.` : ""}${key}`, `${JSON.stringify(value)} is not a semver range (e.g. ">=0.10.0 <0.13.0")`);
    return undefined;
  }
  return value;
}

function readKnownBug(r: FieldReader, value: unknown, path: string): KnownBug | undefined {
  const obj = r.object(value, path);
  if (!obj) return undefined;
  r.onlyKeys(obj, path, ["versions", "status", "fixedIn", "reference", "note", "racy"]);
  const versions = readRange(r, obj, "versions", path, false);
  const status = r.string(obj, "status", path);
  if (status !== undefined && status !== "reproduces" && status !== "fixed") {
    r.problem(`${path}.status`, `expected "reproduces" or "fixed", found ${JSON.stringify(status)}`);
  }
  const fixedIn = r.string(obj, "fixedIn", path, { optional: status !== "fixed", pattern: /^v\d+\.\d+\.\d+$/ });
  if (status === "reproduces" && obj.fixedIn !== undefined) r.problem(`${path}.fixedIn`, `only goes with status "fixed"`);
  const reference = r.string(obj, "reference", path, { pattern: /^https:\/\// });
  const note = r.string(obj, "note", path, { optional: true });
  if (!versions || !reference) return undefined;
  let racy: { atLeast: number; of: number } | undefined;
  if (obj.racy !== undefined) {
    const racyObj = r.object(obj.racy, `${path}.racy`);
    if (racyObj) {
      r.onlyKeys(racyObj, `${path}.racy`, ["atLeast", "of"]);
      const atLeast = r.integer(racyObj, "atLeast", `${path}.racy`, { min: 1 });
      const of = r.integer(racyObj, "of", `${path}.racy`, { min: 1 });
      if (atLeast !== undefined && of !== undefined && (of < atLeast || of > 20))
        r.problem(`${path}.racy.of`, `must be between atLeast (${atLeast}) and 20, found ${of}`);
      else if (atLeast !== undefined && of !== undefined) racy = { atLeast, of };
    }
    if (status !== "reproduces") r.problem(`${path}.racy`, `only goes with status "reproduces"`);
  }
  if (status === "reproduces") return { versions, status, reference, ...(note ? { note } : {}), ...(racy ? { racy } : {}) };
  if (status === "fixed" && fixedIn) return { versions, status, fixedIn, reference, ...(note ? { note } : {}) };
  return undefined;
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

/** What validation of a step needs to know about the steps before it. */
interface StepScope {
  readonly dir: string;
  /** Build names defined so far. */
  readonly builds: Set<string>;
  /** Scenario-relative paths that earlier write/copy steps create. */
  readonly created: Set<string>;
  /** Inside a repeat, where {{iteration}} is defined. */
  readonly inRepeat: boolean;
}

function readSteps(r: FieldReader, list: unknown[], path: string, scope: StepScope): Step[] {
  const { builds } = scope;
  return list.flatMap((value, i): Step[] => {
    const at = `${path}[${i}]`;
    const entry = singleKey(r, value, at, STEP_KINDS, "step");
    if (!entry) return [];
    const [kind, body] = entry;
    const bodyPath = `${at}.${kind}`;
    switch (kind) {
      case "build": {
        const build = readBuild(r, body, bodyPath, scope);
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
      case "write":
      case "append":
      case "touch":
      case "chmod":
      case "delete":
      case "copy": {
        const edit = readEdit(r, kind, body, bodyPath, scope);
        return edit ? [edit] : [];
      }
      case "fresh-builder":
        if (body !== null && body !== undefined && !(typeof body === "object" && !Array.isArray(body) && Object.keys(body).length === 0)) {
          r.problem(bodyPath, `takes no options, found ${FieldReader.describe(body)}`);
        }
        return [{ kind: "fresh-builder" }];
      case "repeat": {
        const obj = r.object(body, bodyPath);
        if (!obj) return [];
        r.onlyKeys(obj, bodyPath, ["times", "extendTo", "steps"]);
        const times = r.integer(obj, "times", bodyPath, { min: 1 });
        const extendTo = r.integer(obj, "extendTo", bodyPath, { min: 1, optional: true });
        if (times !== undefined && extendTo !== undefined && extendTo < times)
          r.problem(`${bodyPath}.extendTo`, `must be ≥ times (${times}), found ${extendTo}`);
        const steps = readSteps(r, r.list(obj, "steps", bodyPath, { nonEmpty: true }), `${bodyPath}.steps`, { ...scope, inRepeat: true });
        if (times === undefined) return [];
        return [{ kind: "repeat", times, extendTo: extendTo ?? times, steps }];
      }
    }
    return [];
  });
}

function readEdit(r: FieldReader, op: EditStep["op"], body: unknown, path: string, scope: StepScope): EditStep | undefined {
  const { dir } = scope;
  const obj = r.object(body, path);
  if (!obj) return undefined;
  const keys: Record<EditStep["op"], string[]> = {
    write: ["path", "content"],
    append: ["path", "content"],
    touch: ["path", "time"],
    chmod: ["path", "mode"],
    delete: ["path"],
    copy: ["from", "to"],
  };
  r.onlyKeys(obj, path, keys[op]);
  const target = r.string(obj, op === "copy" ? "to" : "path", path);
  const targetPath = `${path}.${op === "copy" ? "to" : "path"}`;
  // write and copy may create their target, and later edits may use what they created;
  // every path must stay inside the folder.
  const creates = op === "write" || op === "copy";
  const madeEarlier = target !== undefined && scope.created.has(normalize(target));
  const safe = target !== undefined ? insideScenario(r, dir, target, targetPath, creates || madeEarlier ? "new-file" : "file") : undefined;
  if (safe && creates) scope.created.add(normalize(safe));
  if (target !== undefined && /(^|\/)scenario\.yaml$/.test(target)) r.problem(targetPath, "a scenario cannot edit its own scenario.yaml");
  switch (op) {
    case "write":
    case "append": {
      const content = obj.content;
      if (typeof content !== "string") r.problem(`${path}.content`, `expected a string, found ${FieldReader.describe(content)}`);
      else checkTemplates(r, content, `${path}.content`, scope.inRepeat);
      return safe && typeof content === "string" ? { kind: "edit", op, path: safe, content } : undefined;
    }
    case "touch": {
      const time = r.integer(obj, "time", path, { min: 0 });
      return safe && time !== undefined ? { kind: "edit", op, path: safe, time } : undefined;
    }
    case "chmod": {
      const mode = r.string(obj, "mode", path, { pattern: /^0?[0-7]{3,4}$/ });
      return safe && mode ? { kind: "edit", op, path: safe, mode: parseInt(mode, 8) } : undefined;
    }
    case "delete":
      return safe ? { kind: "edit", op, path: safe } : undefined;
    case "copy": {
      const fromValue = r.string(obj, "from", path);
      const from =
        fromValue !== undefined ? insideScenario(r, dir, fromValue, `${path}.from`, scope.created.has(normalize(fromValue)) ? "new-file" : "file") : undefined;
      return safe && from ? { kind: "edit", op, from, path: safe } : undefined;
    }
  }
}

/** A path inside the scenario folder, refusing `..` and symlinks that lead out of it. */
function insideScenario(r: FieldReader, dir: string, value: string, path: string, want: "file" | "directory" | "new-file"): string | undefined {
  if (isAbsolute(value)) {
    r.problem(path, `must be relative to the scenario folder, found the absolute path ${JSON.stringify(value)}`);
    return undefined;
  }
  const target = resolve(dir, value);
  const rel = relative(dir, target);
  if (rel === "") {
    r.problem(path, `${JSON.stringify(value)} is the scenario folder itself; name a file or folder inside it (e.g. context)`);
    return undefined;
  }
  if (rel.startsWith("..")) {
    r.problem(path, `${JSON.stringify(value)} leads outside the scenario folder`);
    return undefined;
  }
  // For a file that may not exist yet, check the nearest existing ancestor instead.
  let existing = target;
  while (!existsSync(existing)) {
    if (want !== "new-file") {
      r.problem(path, `${JSON.stringify(value)} does not exist in ${dir}`);
      return undefined;
    }
    existing = dirname(existing);
  }
  const real = realpathSync(existing);
  if (relative(realpathSync(dir), real).startsWith("..")) {
    r.problem(path, `${JSON.stringify(value)} is a symlink that leads outside the scenario folder (to ${real})`);
    return undefined;
  }
  if (existing === target && want !== "new-file") {
    const isDir = statSync(real).isDirectory();
    if (want === "directory" ? !isDir : isDir) {
      r.problem(path, `${JSON.stringify(value)} must be a ${want}`);
      return undefined;
    }
  }
  return value;
}

function readTypedAttrs(r: FieldReader, value: unknown, path: string, inRepeat: boolean): TypedAttrs | undefined {
  const obj = r.object(value, path);
  if (!obj) return undefined;
  const type = r.string(obj, "type", path);
  const attrs: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k === "type") continue;
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") attrs[k] = String(v);
    else r.problem(`${path}.${k}`, `expected a string, number or boolean, found ${FieldReader.describe(v)}`);
  }
  for (const [k, v] of Object.entries(attrs)) checkTemplates(r, v, `${path}.${k}`, inRepeat);
  return type ? { type, attrs } : undefined;
}

function checkTemplates(r: FieldReader, text: string, path: string, inRepeat: boolean): void {
  for (const ref of templateReferences(text)) {
    if (!(TEMPLATE_NAMES as readonly string[]).includes(ref.name)) r.problem(path, `unknown reference {{${ref.name}}} (known: ${TEMPLATE_NAMES.join(", ")})`);
    if (ref.name === "image" && !ref.arg) r.problem(path, `{{image}} needs a base image name, e.g. {{image:busybox}}`);
    if (ref.name === "iteration" && !inRepeat) r.problem(path, "{{iteration}} is only defined inside a repeat step");
  }
}

function readBuild(r: FieldReader, body: unknown, path: string, scope: StepScope): BuildStep | undefined {
  const { dir, inRepeat } = scope;
  const obj = r.object(body, path);
  if (!obj) return undefined;
  r.onlyKeys(obj, path, ["name", "context", "dockerfile", "buildArgs", "frontendOpts", "importCache", "exportCache", "output", "sourcePolicy", "noCache"]);
  const name = r.string(obj, "name", path, { pattern: /^[a-z0-9][a-z0-9-]*$/ });
  const contextValue = r.string(obj, "context", path, { optional: true }) ?? "context";
  const context = insideScenario(r, dir, contextValue, `${path}.context`, "directory");
  const dockerfileValue = r.string(obj, "dockerfile", path, { optional: true }) ?? "Dockerfile";
  const dockerfile = insideScenario(r, dir, dockerfileValue, `${path}.dockerfile`, "file");
  if (dockerfile) checkTemplates(r, readFileSync(join(dir, dockerfile), "utf8"), `${path}.dockerfile (${dockerfile})`, inRepeat);
  const buildArgs = r.stringMap(obj, "buildArgs", path);
  const frontendOpts = r.stringMap(obj, "frontendOpts", path);
  // The runner renders these like the Dockerfile: a bad reference must not wait for the run.
  for (const [k, v] of Object.entries(buildArgs)) checkTemplates(r, v, `${path}.buildArgs.${k}`, inRepeat);
  for (const [k, v] of Object.entries(frontendOpts)) checkTemplates(r, v, `${path}.frontendOpts.${k}`, inRepeat);
  const importCache = r.list(obj, "importCache", path, { optional: true }).flatMap((c, i) => readTypedAttrs(r, c, `${path}.importCache[${i}]`, inRepeat) ?? []);
  const exportCache = r.list(obj, "exportCache", path, { optional: true }).flatMap((c, i) => readTypedAttrs(r, c, `${path}.exportCache[${i}]`, inRepeat) ?? []);
  const output = obj.output === undefined ? undefined : readTypedAttrs(r, obj.output, `${path}.output`, inRepeat);
  if (obj.output === undefined) r.problem(`${path}.output`, 'is required (e.g. type: image, name: "{{registry}}/{{scenario}}:latest", push: true)');
  const policyValue = r.string(obj, "sourcePolicy", path, { optional: true });
  const sourcePolicy = policyValue !== undefined ? insideScenario(r, dir, policyValue, `${path}.sourcePolicy`, "file") : undefined;
  if (sourcePolicy) checkTemplates(r, readFileSync(join(dir, sourcePolicy), "utf8"), `${path}.sourcePolicy (${sourcePolicy})`, inRepeat);
  const noCache = r.boolean(obj, "noCache", path);
  if (!name || !context || !dockerfile || !output || (policyValue !== undefined && !sourcePolicy)) return undefined;
  return {
    kind: "build",
    name,
    context,
    dockerfile,
    buildArgs,
    frontendOpts,
    importCache,
    exportCache,
    output,
    ...(sourcePolicy ? { sourcePolicy } : {}),
    noCache,
  };
}

function readBuildRef(r: FieldReader, obj: Record<string, unknown>, path: string, builds: ReadonlySet<string>): string | undefined {
  const build = r.string(obj, "build", path);
  if (build && !builds.has(build)) r.problem(`${path}.build`, `no build named "${build}" before the assertions (builds: ${[...builds].join(", ") || "none"})`);
  return build && builds.has(build) ? build : undefined;
}

function readBuildPair(r: FieldReader, obj: Record<string, unknown>, path: string, builds: ReadonlySet<string>): [string, string] | undefined {
  const list = r.list(obj, "builds", path);
  if (list.length !== 2 || !list.every((b) => typeof b === "string")) {
    r.problem(`${path}.builds`, `expected a list of two build names, found ${FieldReader.describe(obj.builds)}`);
    return undefined;
  }
  const [a, b] = list as [string, string];
  if (a === b) r.problem(`${path}.builds`, `compares "${a}" with itself; name two different builds`);
  for (const name of [a, b]) if (!builds.has(name)) r.problem(`${path}.builds`, `no build named "${name}" (builds: ${[...builds].join(", ") || "none"})`);
  return builds.has(a) && builds.has(b) ? [a, b] : undefined;
}

function readDigestKind(r: FieldReader, obj: Record<string, unknown>, path: string): DigestKind | undefined {
  const digest = r.string(obj, "digest", path);
  if (digest !== undefined && !(DIGEST_KINDS as readonly string[]).includes(digest)) {
    r.problem(`${path}.digest`, `expected one of ${DIGEST_KINDS.join(", ")}, found ${JSON.stringify(digest)}`);
    return undefined;
  }
  return digest as DigestKind | undefined;
}

function readPresent(r: FieldReader, obj: Record<string, unknown>, path: string): boolean | undefined {
  if (typeof obj.present !== "boolean") {
    r.problem(`${path}.present`, `expected true or false, found ${FieldReader.describe(obj.present)}`);
    return undefined;
  }
  return obj.present;
}

function readAssertion(r: FieldReader, value: unknown, path: string, builds: ReadonlySet<string>): Assertion | undefined {
  const entry = singleKey(r, value, path, ASSERTION_KINDS, "assertion");
  if (!entry) return undefined;
  const [kind, body] = entry;
  const at = `${path}.${kind}`;
  const obj = r.object(body, at);
  if (!obj) return undefined;
  const versions = readRange(r, obj, "versions", at, true);
  if (obj.control !== undefined && typeof obj.control !== "boolean")
    r.problem(`${at}.control`, `expected true or false, found ${FieldReader.describe(obj.control)}`);
  const gate = { ...(versions ? { versions } : {}), ...(obj.control === true ? { control: true } : {}) };
  const keys = (...k: string[]) => r.onlyKeys(obj, at, [...k, "versions", "control"]);
  switch (kind) {
    case "digest-stable": {
      keys("build", "digest");
      const build = readBuildRef(r, obj, at, builds);
      const digest = readDigestKind(r, obj, at);
      return build && digest ? { kind, build, digest, ...gate } : undefined;
    }
    case "digest-equal":
    case "digest-differs": {
      keys("builds", "digest");
      const pair = readBuildPair(r, obj, at, builds);
      const digest = readDigestKind(r, obj, at);
      return pair && digest ? { kind, builds: pair, digest, ...gate } : undefined;
    }
    case "step-cached": {
      keys("build", "step", "cached");
      const build = readBuildRef(r, obj, at, builds);
      const step = r.string(obj, "step", at);
      if (typeof obj.cached !== "boolean") r.problem(`${at}.cached`, `expected true or false, found ${FieldReader.describe(obj.cached)}`);
      return build && step && typeof obj.cached === "boolean" ? { kind, build, step, cached: obj.cached, ...gate } : undefined;
    }
    case "file-equal":
    case "file-differs": {
      keys("builds", "path");
      const pair = readBuildPair(r, obj, at, builds);
      const file = r.string(obj, "path", at, { pattern: /^\// });
      return pair && file ? { kind, builds: pair, path: file, ...gate } : undefined;
    }
    case "inline-cache-keeps-results": {
      keys("build");
      const build = readBuildRef(r, obj, at, builds);
      return build ? { kind, build, ...gate } : undefined;
    }
    case "layer-mtimes": {
      keys("build", "notAfter", "layers");
      const build = readBuildRef(r, obj, at, builds);
      const notAfter = r.integer(obj, "notAfter", at, { min: 0 });
      const layers = r.string(obj, "layers", at, { optional: true }) ?? "last";
      const selection = LAYER_SELECTIONS.find((l) => l === layers);
      if (!selection)
        r.problem(`${at}.layers`, `expected one of ${LAYER_SELECTIONS.map((l) => JSON.stringify(l)).join(", ")}, found ${JSON.stringify(layers)}`);
      return build && notAfter !== undefined && selection ? { kind, build, notAfter, layers: selection, ...gate } : undefined;
    }
    case "whiteout": {
      keys("build", "path", "mtimeNotAfter");
      const build = readBuildRef(r, obj, at, builds);
      const file = r.string(obj, "path", at, { pattern: /^\// });
      const mtimeNotAfter = r.integer(obj, "mtimeNotAfter", at, { min: 0, optional: true });
      return build && file ? { kind, build, path: file, ...(mtimeNotAfter !== undefined ? { mtimeNotAfter } : {}), ...gate } : undefined;
    }
    case "config-key":
    case "metadata-key": {
      keys("build", "key", "present");
      const build = readBuildRef(r, obj, at, builds);
      const key = r.string(obj, "key", at);
      const present = readPresent(r, obj, at);
      return build && key && present !== undefined ? { kind, build, key, present, ...gate } : undefined;
    }
    case "config-field": {
      keys("build", "field", "equals");
      const build = readBuildRef(r, obj, at, builds);
      const field = r.string(obj, "field", at, { pattern: /^[A-Za-z0-9_.-]+$/ });
      const equals = typeof obj.equals === "number" || typeof obj.equals === "boolean" ? String(obj.equals) : r.string(obj, "equals", at);
      return build && field && equals !== undefined ? { kind, build, field, equals, ...gate } : undefined;
    }
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
