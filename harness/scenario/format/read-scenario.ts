/**
 * From a document that passed the schema to the Scenario model: defaults applied, and
 * every rule a schema cannot state checked, each problem named by field path. This is
 * also the security boundary: every host path a build touches is chosen by the harness,
 * every reference points at the test registry, and bounds hold.
 */
import { dirname, join, normalize, posix } from "node:path";
import semver from "semver";
import { BASE_IMAGES } from "../../provision/base-images.ts";
import type {
  Assertion,
  Attributes,
  BuilderKind,
  BuildStep,
  CacheExport,
  CacheImport,
  DigestKind,
  EditStep,
  Explained,
  KnownBug,
  LayerSelection,
  Output,
  Requirement,
  Scenario,
  ScenarioImage,
  Step,
  Target,
} from "../model.ts";
import { IMAGE_OUTPUT_TYPES } from "../model.ts";
import { renderTemplate, type TemplateContext, templateProblems } from "../template.ts";
import { dockerdBuildProblems } from "./dockerd-builds.ts";
import { type ParsedDockerfile, parseDockerfile } from "./dockerfile.ts";
import { dockerfileProblems, instructionsMatching } from "./dockerfile-policy.ts";
import type { FolderListing } from "./folder.ts";
import { readTextFile } from "./folder.ts";
import { LIMITS } from "./limits.ts";
import { inRegistry } from "./reference.ts";
import type {
  AssertionDocument,
  BuildDocument,
  CacheExportDocument,
  CacheImportDocument,
  InnerStepDocument,
  KnownBugDocument,
  OperandDocument,
  OutputDocument,
  ScenarioDocument,
  StepDocument,
} from "./schema.ts";
import type { Problem } from "./validate.ts";

/** How builders reach the test registry while validating: any host works, the real one is known only at run time. */
const PLACEHOLDER_REGISTRY = "registry:5000";
const PLACEHOLDER_DIGEST = `sha256:${"0".repeat(64)}`;
/** Frontend options a scenario may pass; others could fetch (context:*, a frontend image) or are the harness's own. */
const FRONTEND_OPTS = new Set(["target", "platform", "no-cache", "image-resolve-mode", "multi-platform", "hostname", "attest:provenance"]);
const FRONTEND_OPT_PREFIXES = ["label:"];
/** Build arguments that change what BuildKit fetches. */
const FORBIDDEN_BUILD_ARGS = new Set(["BUILDKIT_SYNTAX"]);
const SEVERAL_OUTPUTS: Requirement = { feature: "several outputs per build (--output twice)", versions: ">=0.13.0" };

type Scope = { readonly inRepeat: boolean; readonly repeatTimes: number };

interface BuildInfo {
  readonly step: BuildStep;
  readonly dockerfile?: ParsedDockerfile;
  /** Runs of the build: the enclosing repeat's `times` (1 outside repeat). */
  readonly runs: number;
}

class ScenarioReader {
  readonly problems: Problem[] = [];
  private readonly builds = new Map<string, BuildInfo>();
  /** Scenario-relative paths earlier write/copy steps create. */
  private readonly created = new Set<string>();
  /** Files and folders edit steps change, with the field that names each. */
  private readonly edited: { rel: string; path: string }[] = [];
  /** Files checked once before anything runs (Dockerfiles, source policies), which edits must leave alone. */
  private readonly checkedFiles = new Map<string, string>();
  private readonly localCaches = new Set<string>();
  private readonly requires = new Set<Requirement>();
  readonly imageNames: ReadonlySet<string>;

  constructor(
    private readonly doc: ScenarioDocument,
    private readonly dir: string,
    private readonly listing: FolderListing,
  ) {
    this.imageNames = new Set([...BASE_IMAGES.map((b) => b.name), ...Object.keys(doc.images ?? {})]);
  }

  problem(path: string, message: string): void {
    this.problems.push({ path, message });
  }

  private templates(text: string, path: string, inRepeat: boolean): void {
    for (const p of templateProblems(text, { inRepeat, images: this.imageNames })) this.problem(path, p);
  }

  /** A context in which every valid reference renders; references were checked before rendering. */
  private placeholderContext(inRepeat: boolean): TemplateContext {
    const images = new Map([...this.imageNames].map((n) => [n, `${PLACEHOLDER_REGISTRY}/base/${n}@${PLACEHOLDER_DIGEST}`]));
    return { registry: PLACEHOLDER_REGISTRY, images, scenario: this.doc.id, ...(inRepeat ? { iteration: 1 } : {}) };
  }

  private render(text: string, path: string, inRepeat: boolean): string | undefined {
    const before = this.problems.length;
    this.templates(text, path, inRepeat);
    return this.problems.length === before ? renderTemplate(text, this.placeholderContext(inRepeat)) : undefined;
  }

  read(): Scenario | undefined {
    const { doc } = this;
    const applies = this.range(doc.applies ?? "*", "applies");
    const images = this.readImages();
    const steps = this.readSteps(doc.steps, "steps", { inRepeat: false, repeatTimes: 1 });
    const assertions = doc.assertions.flatMap((a, i) => this.readAssertion(a, `assertions[${i}]`) ?? []);
    this.uniqueIds(assertions);
    const knownBugs = (doc.knownBugs ?? []).flatMap((b, i) => this.readKnownBug(b, `knownBugs[${i}]`, assertions) ?? []);
    this.editsLeaveCheckedFilesAlone();
    const maxBuilds = countBuilds(steps);
    const attempts = Math.max(1, ...knownBugs.map((b) => b.racy?.of ?? 1));
    if (attempts * maxBuilds > LIMITS.builds) {
      this.problem("steps", `can run up to ${attempts * maxBuilds} builds (${attempts} attempt(s) × ${maxBuilds}); at most ${LIMITS.builds}`);
    }
    if (this.problems.length > 0 || applies === undefined) return undefined;
    return {
      id: doc.id,
      title: doc.title,
      upstream: doc.upstream,
      tags: doc.tags ?? [],
      expectation: doc.expectation,
      applies,
      builders: doc.builders ?? ["buildkitd"],
      requires: [...this.requires],
      images,
      knownBugs,
      steps,
      assertions,
      maxBuilds,
      dir: this.dir,
      file: join(this.dir, "scenario.yaml"),
    };
  }

  /**
   * Dockerfiles and source policies are checked here, once; an edit that rewrote one would
   * run content nobody checked (a FROM on Docker Hub, say). Edits change the context only.
   */
  private editsLeaveCheckedFilesAlone(): void {
    for (const { rel, path } of this.edited) {
      for (const [file, what] of this.checkedFiles) {
        if (file === rel || file.startsWith(`${rel}/`)) {
          this.problem(
            path,
            `${JSON.stringify(rel)} ${file === rel ? "is" : "holds"} ${what} (${file}); edits may change build contexts only, since those files are checked before anything runs`,
          );
        }
      }
    }
  }

  private range(value: string, path: string): string | undefined {
    if (semver.validRange(value) === null) {
      this.problem(path, `${JSON.stringify(value)} is not a semver range (e.g. ">=0.10.0 <0.13.0")`);
      return undefined;
    }
    return value;
  }

  /** A scenario-relative path, normalised, that stays inside the folder and does not pass through a symlink. */
  private relativePath(value: string, path: string): string | undefined {
    const rel = normalize(value).split("\\").join("/");
    if (rel === "." || rel === "") {
      this.problem(path, `${JSON.stringify(value)} is the scenario folder itself; name a file or folder inside it (e.g. context)`);
      return undefined;
    }
    if (rel === ".." || rel.startsWith("../") || posix.isAbsolute(rel)) {
      this.problem(path, `${JSON.stringify(value)} leads outside the scenario folder`);
      return undefined;
    }
    const parts = rel.split("/");
    for (let i = 1; i <= parts.length; i++) {
      const prefix = parts.slice(0, i).join("/");
      if (this.listing.entries.get(prefix)?.type === "symlink") {
        this.problem(path, `${JSON.stringify(value)} goes through the symlink ${prefix}; name the real file or folder`);
        return undefined;
      }
    }
    return rel;
  }

  private existing(value: string, path: string, want: "file" | "directory"): string | undefined {
    const rel = this.relativePath(value, path);
    if (rel === undefined) return undefined;
    const entry = this.listing.entries.get(rel);
    if (!entry && !this.created.has(rel)) {
      this.problem(path, `${JSON.stringify(value)} does not exist in the scenario folder`);
      return undefined;
    }
    if (entry && entry.type !== want) {
      this.problem(path, `${JSON.stringify(value)} must be a ${want === "file" ? "regular file" : "folder"}`);
      return undefined;
    }
    return rel;
  }

  private readImages(): ScenarioImage[] {
    return Object.entries(this.doc.images ?? {}).flatMap(([name, value]) => {
      const path = `images.${name}`;
      if (BASE_IMAGES.some((b) => b.name === name)) {
        this.problem(path, `"${name}" is one of the harness's base images; choose another name`);
        return [];
      }
      const rel = this.relativePath(value, path);
      if (rel === undefined) return [];
      const entry = this.listing.entries.get(rel);
      if (!entry || entry.type === "symlink") {
        this.problem(path, `${JSON.stringify(value)} must be an image archive (a file) or an OCI layout (a folder) in the scenario folder`);
        return [];
      }
      return [{ name, path: rel }];
    });
  }

  private readSteps(list: readonly (StepDocument | InnerStepDocument)[], path: string, scope: Scope): Step[] {
    return list.flatMap((doc, i): Step[] => {
      const [kind, body] = Object.entries(doc)[0] as [string, unknown];
      const at = `${path}[${i}].${kind}`;
      switch (kind) {
        case "build": {
          const build = this.readBuild(body as BuildDocument, at, scope);
          if (build && this.doc.builders?.includes("dockerd")) {
            for (const p of dockerdBuildProblems(build)) this.problem(`${at}.${p.field}`, `${p.message} (the scenario runs on dockerd)`);
            if (this.listing.entries.has(posix.join(build.context, ".dockerignore")))
              this.problem(`${at}.context`, "has a .dockerignore, which dockerd builds here do not apply yet: run this scenario on buildkitd only");
          }
          return build ? [build] : [];
        }
        case "prune":
          return [{ kind: "prune", all: (body as { all?: boolean } | null)?.all ?? false }];
        case "fresh-builder":
          return [{ kind: "fresh-builder" }];
        case "remove-image":
        case "pull": {
          const ref = this.registryReference((body as { ref: string }).ref, `${at}.ref`, scope.inRepeat, "the image");
          return ref === undefined ? [] : [{ kind, ref }];
        }
        case "wait":
          return [{ kind: "wait", seconds: (body as { seconds: number }).seconds }];
        case "repeat": {
          const r = body as { times: number; extendTo?: number; steps: InnerStepDocument[] };
          const extendTo = r.extendTo ?? r.times;
          if (extendTo < r.times) this.problem(`${at}.extendTo`, `must be ≥ times (${r.times}), found ${extendTo}`);
          const steps = this.readSteps(r.steps, `${at}.steps`, { inRepeat: true, repeatTimes: r.times });
          return [{ kind: "repeat", times: r.times, extendTo, steps }];
        }
        case "write":
        case "append":
        case "touch":
        case "chmod":
        case "delete":
        case "copy": {
          const edit = this.readEdit(kind, body as Record<string, unknown>, at, scope);
          return edit ? [edit] : [];
        }
        default:
          this.problem(at, `unknown step "${kind}"`);
          return [];
      }
    });
  }

  private readEdit(op: EditStep["op"], body: Record<string, unknown>, at: string, scope: Scope): EditStep | undefined {
    const targetKey = op === "copy" ? "to" : "path";
    const value = body[targetKey] as string;
    const creates = op === "write" || op === "copy";
    const rel = creates ? this.relativePath(value, `${at}.${targetKey}`) : this.existingEditTarget(value, `${at}.${targetKey}`);
    if (rel === undefined) return undefined;
    if (rel === "scenario.yaml") {
      this.problem(`${at}.${targetKey}`, "a scenario cannot edit its own scenario.yaml");
      return undefined;
    }
    this.edited.push({ rel, path: `${at}.${targetKey}` });
    if (this.listing.entries.get(rel)?.type === "symlink") {
      this.problem(`${at}.${targetKey}`, `${JSON.stringify(value)} is a symlink; edits change regular files and folders only`);
      return undefined;
    }
    if (creates) for (let d = rel; d !== "." && d !== ""; d = dirname(d)) this.created.add(d);
    switch (op) {
      case "write":
      case "append": {
        const content = body.content as string;
        this.templates(content, `${at}.content`, scope.inRepeat);
        return { kind: "edit", op, path: rel, content };
      }
      case "touch":
        return { kind: "edit", op, path: rel, time: body.time as number };
      case "chmod": {
        const mode = Number.parseInt(body.mode as string, 8);
        if ((mode & 0o6000) !== 0) {
          this.problem(`${at}.mode`, `"${body.mode as string}" makes the file setuid or setgid on the host; set such bits inside the image (RUN chmod u+s …)`);
          return undefined;
        }
        return { kind: "edit", op, path: rel, mode };
      }
      case "delete":
        return { kind: "edit", op, path: rel };
      case "copy": {
        const from = this.existing(body.from as string, `${at}.from`, "file");
        return from === undefined ? undefined : { kind: "edit", op, from, path: rel };
      }
    }
  }

  private existingEditTarget(value: string, path: string): string | undefined {
    const rel = this.relativePath(value, path);
    if (rel === undefined) return undefined;
    if (!this.listing.entries.has(rel) && !this.created.has(rel)) {
      this.problem(path, `${JSON.stringify(value)} does not exist in the scenario folder, and no earlier step creates it`);
      return undefined;
    }
    return rel;
  }

  private attributes(doc: Record<string, unknown>, skip: readonly string[], path: string, inRepeat: boolean): Record<string, string> {
    const attrs: Record<string, string> = {};
    for (const [k, v] of Object.entries(doc)) {
      if (skip.includes(k)) continue;
      if (k === "dest" || k === "src") {
        this.problem(
          `${path}.${k}`,
          `the harness chooses where outputs and local caches live; remove ${k} (assertions read outputs by their index; local caches go by name)`,
        );
        continue;
      }
      const text = String(v);
      this.templates(text, `${path}.${k}`, inRepeat);
      attrs[k] = text;
    }
    return attrs;
  }

  /** A reference a build pushes to or pulls from: it must be in the test registry. */
  private registryReference(value: string | undefined, path: string, inRepeat: boolean, what: string): string | undefined {
    if (value === undefined) {
      this.problem(path, `is required: ${what}, e.g. "{{registry}}/{{scenario}}:latest"`);
      return undefined;
    }
    if (!value.startsWith("{{registry}}/")) {
      this.problem(path, `${JSON.stringify(value)} must start with {{registry}}/: builds may reach only the test registry`);
      return undefined;
    }
    const rendered = this.render(value, path, inRepeat);
    if (rendered !== undefined && !inRegistry(rendered, PLACEHOLDER_REGISTRY)) {
      this.problem(path, `${JSON.stringify(value)} is not a valid image reference (lowercase repository path, optional :tag, one name only)`);
      return undefined;
    }
    return rendered === undefined ? undefined : value;
  }

  private readCacheImport(doc: CacheImportDocument, path: string, inRepeat: boolean): CacheImport | undefined {
    if (doc.type === "registry") {
      const ref = this.registryReference(doc.ref, `${path}.ref`, inRepeat, "the cache or image to import");
      return ref === undefined ? undefined : { type: "registry", ref, attrs: this.attributes(doc, ["type", "ref"], path, inRepeat) };
    }
    if (doc.name === undefined || doc.ref !== undefined) {
      this.problem(path, "a local cache import names a cache an earlier build exported (name: <cache>), and takes no ref");
      return undefined;
    }
    if (!this.localCaches.has(doc.name)) this.problem(`${path}.name`, `no earlier build exports a local cache named "${doc.name}"`);
    return { type: "local", name: doc.name, attrs: this.attributes(doc, ["type", "name"], path, inRepeat) };
  }

  private readCacheExport(doc: CacheExportDocument, path: string, inRepeat: boolean): CacheExport | undefined {
    switch (doc.type) {
      case "inline":
        if (doc.ref !== undefined || doc.name !== undefined) this.problem(path, "an inline cache goes into the image; it takes no ref or name");
        return { type: "inline", attrs: this.attributes(doc, ["type", "ref", "name"], path, inRepeat) };
      case "registry": {
        const ref = this.registryReference(doc.ref, `${path}.ref`, inRepeat, "where the cache goes");
        return ref === undefined ? undefined : { type: "registry", ref, attrs: this.attributes(doc, ["type", "ref"], path, inRepeat) };
      }
      case "local":
        if (doc.name === undefined || doc.ref !== undefined) {
          this.problem(path, "a local cache export is named (name: <cache>; the harness chooses its folder), and takes no ref");
          return undefined;
        }
        this.localCaches.add(doc.name);
        return { type: "local", name: doc.name, attrs: this.attributes(doc, ["type", "name"], path, inRepeat) };
    }
  }

  private readOutput(doc: OutputDocument, path: string, inRepeat: boolean): Output | undefined {
    switch (doc.type) {
      case "image":
      case "registry": {
        const name = this.registryReference(doc.name, `${path}.name`, inRepeat, "the image name");
        const push = doc.type === "registry" || doc.push === true;
        return name === undefined ? undefined : { type: doc.type, name, push, attrs: this.attributes(doc, ["type", "name", "push"], path, inRepeat) };
      }
      case "oci":
      case "docker": {
        const name = doc.name === undefined ? undefined : this.registryReference(doc.name, `${path}.name`, inRepeat, "the image name");
        if (doc.push !== undefined) this.problem(`${path}.push`, `an ${doc.type} output writes an archive; it does not push`);
        return { type: doc.type, ...(name !== undefined ? { name } : {}), attrs: this.attributes(doc, ["type", "name", "push"], path, inRepeat) };
      }
      case "local":
      case "tar":
        if (doc.name !== undefined || doc.push !== undefined) this.problem(path, `a ${doc.type} output writes the build's files; it takes no name or push`);
        return { type: doc.type, attrs: this.attributes(doc, ["type", "name", "push"], path, inRepeat) };
    }
  }

  private readDockerfile(rel: string, path: string, inRepeat: boolean): ParsedDockerfile | undefined {
    const read = readTextFile(this.dir, rel, "the Dockerfile");
    if ("problem" in read) {
      this.problem(path, read.problem);
      return undefined;
    }
    const rendered = this.render(read.text, `${path} (${rel})`, inRepeat);
    if (rendered === undefined) return undefined;
    const parsed = parseDockerfile(rendered);
    for (const p of dockerfileProblems(parsed, PLACEHOLDER_REGISTRY)) this.problem(`${path} (${rel}, line ${p.line})`, p.message);
    return parsed;
  }

  private readSourcePolicy(rel: string, path: string, inRepeat: boolean): void {
    const read = readTextFile(this.dir, rel, "the source policy");
    if ("problem" in read) {
      this.problem(path, read.problem);
      return;
    }
    const rendered = this.render(read.text, `${path} (${rel})`, inRepeat);
    if (rendered === undefined) return;
    let policy: unknown;
    try {
      policy = JSON.parse(rendered);
    } catch {
      this.problem(path, `${rel} is not JSON`);
      return;
    }
    const rules = (policy as { rules?: unknown }).rules;
    if (!Array.isArray(rules)) {
      this.problem(path, `${rel} has no "rules" list`);
      return;
    }
    rules.forEach((rule: { updates?: { identifier?: unknown } } | null, i) => {
      const identifier = rule?.updates?.identifier;
      if (identifier === undefined) return;
      const ref = typeof identifier === "string" && identifier.startsWith("docker-image://") ? identifier.slice("docker-image://".length) : undefined;
      if (ref === undefined || !inRegistry(ref, PLACEHOLDER_REGISTRY)) {
        this.problem(
          `${path} (${rel}, rules[${i}].updates.identifier)`,
          "a CONVERT must lead to docker-image://{{image:NAME}} or docker-image://{{registry}}/…: builds may reach only the test registry",
        );
      }
    });
  }

  private readBuild(doc: BuildDocument, at: string, scope: Scope): BuildStep | undefined {
    const before = this.problems.length;
    if (this.builds.has(doc.name)) this.problem(`${at}.name`, `a build named "${doc.name}" already exists; names must be unique`);
    const context = this.existing(doc.context ?? "context", `${at}.context`, "directory");
    const dockerfile = this.existing(doc.dockerfile ?? "Dockerfile", `${at}.dockerfile`, "file");
    const parsed = dockerfile === undefined ? undefined : this.readDockerfile(dockerfile, `${at}.dockerfile`, scope.inRepeat);
    if (dockerfile !== undefined) this.checkedFiles.set(dockerfile, "a build's Dockerfile");
    const buildArgs: Record<string, string> = {};
    for (const [k, v] of Object.entries(doc.buildArgs ?? {})) {
      if (FORBIDDEN_BUILD_ARGS.has(k)) this.problem(`${at}.buildArgs.${k}`, `${k} makes BuildKit pull a frontend image; not allowed`);
      buildArgs[k] = String(v);
      this.templates(buildArgs[k], `${at}.buildArgs.${k}`, scope.inRepeat);
    }
    const frontendOpts: Record<string, string> = {};
    for (const [k, v] of Object.entries(doc.frontendOpts ?? {})) {
      if (k.startsWith("build-arg:")) this.problem(`${at}.frontendOpts.${k}`, "give build arguments under buildArgs");
      else if (!FRONTEND_OPTS.has(k) && !FRONTEND_OPT_PREFIXES.some((p) => k.startsWith(p))) {
        this.problem(
          `${at}.frontendOpts.${k}`,
          `is not an option a scenario may set (allowed: ${[...FRONTEND_OPTS].join(", ")}, ${FRONTEND_OPT_PREFIXES.map((p) => `${p}*`).join(", ")})`,
        );
      }
      frontendOpts[k] = String(v);
      this.templates(frontendOpts[k], `${at}.frontendOpts.${k}`, scope.inRepeat);
    }
    const importCache = (doc.importCache ?? []).flatMap((c, i) => this.readCacheImport(c, `${at}.importCache[${i}]`, scope.inRepeat) ?? []);
    const exportCache = (doc.exportCache ?? []).flatMap((c, i) => this.readCacheExport(c, `${at}.exportCache[${i}]`, scope.inRepeat) ?? []);
    if ((doc.output === undefined) === (doc.outputs === undefined)) {
      this.problem(
        `${at}.output`,
        'a build has exactly one of output (one exporter) or outputs (several), e.g. output: { type: image, name: "{{registry}}/{{scenario}}:latest", push: true }',
      );
    }
    const outputDocs = doc.outputs ?? (doc.output ? [doc.output] : []);
    const outputs = outputDocs.flatMap((o, i) => this.readOutput(o, doc.outputs ? `${at}.outputs[${i}]` : `${at}.output`, scope.inRepeat) ?? []);
    if (outputDocs.length > 1) this.requires.add(SEVERAL_OUTPUTS);
    const sourcePolicy = doc.sourcePolicy === undefined ? undefined : this.existing(doc.sourcePolicy, `${at}.sourcePolicy`, "file");
    if (sourcePolicy !== undefined) this.readSourcePolicy(sourcePolicy, `${at}.sourcePolicy`, scope.inRepeat);
    if (sourcePolicy !== undefined) this.checkedFiles.set(sourcePolicy, "a build's source policy");
    if (this.problems.length > before || context === undefined || dockerfile === undefined) return undefined;
    const step: BuildStep = {
      kind: "build",
      name: doc.name,
      context,
      dockerfile,
      buildArgs: buildArgs as Attributes,
      frontendOpts: frontendOpts as Attributes,
      importCache,
      exportCache,
      outputs,
      ...(sourcePolicy !== undefined ? { sourcePolicy } : {}),
      noCache: doc.noCache ?? false,
    };
    this.builds.set(doc.name, { step, runs: scope.repeatTimes, ...(parsed ? { dockerfile: parsed } : {}) });
    return step;
  }

  private build(name: string, path: string): BuildInfo | undefined {
    const info = this.builds.get(name);
    if (!info) this.problem(path, `no build named "${name}" (builds: ${[...this.builds.keys()].join(", ") || "none"})`);
    return info;
  }

  /** A build (or one of its outputs) whose image an assertion reads. */
  private target(operand: OperandDocument | { build: string; output?: number }, path: string): Target | undefined {
    const { build, output } = typeof operand === "string" ? { build: operand, output: undefined } : operand;
    const info = this.build(build, typeof operand === "string" ? path : `${path}.build`);
    if (!info) return undefined;
    const outputs = info.step.outputs;
    if (output !== undefined) {
      if (output >= outputs.length) {
        this.problem(`${path}.output`, `build "${build}" has ${outputs.length} output(s); index ${output} does not exist`);
        return undefined;
      }
      if (!IMAGE_OUTPUT_TYPES.has(outputs[output]!.type)) {
        this.problem(`${path}.output`, `output ${output} of build "${build}" is a ${outputs[output]!.type} output, not an image`);
        return undefined;
      }
      return { build, output };
    }
    if (!outputs.some((o) => IMAGE_OUTPUT_TYPES.has(o.type))) {
      this.problem(path, `build "${build}" has no image output (image, registry, oci or docker) to read`);
      return undefined;
    }
    return { build };
  }

  private pair(list: readonly OperandDocument[], path: string): [Target, Target] | undefined {
    const a = this.target(list[0]!, `${path}[0]`);
    const b = this.target(list[1]!, `${path}[1]`);
    if (!a || !b) return undefined;
    if (a.build === b.build && (a.output ?? 0) === (b.output ?? 0)) {
      this.problem(path, `compares "${a.build}" with itself; name two different builds or outputs`);
      return undefined;
    }
    return [a, b];
  }

  private repeated(build: string, path: string, what: string): void {
    const info = this.builds.get(build);
    if (info && info.runs < 2) this.problem(path, `${what} needs several runs of "${build}": put the build in a repeat with times ≥ 2`);
  }

  private readAssertion(doc: AssertionDocument, path: string): Assertion | undefined {
    const kind = Object.keys(doc).find((k) => k !== "id")!;
    const at = `${path}.${kind}`;
    const body = (doc as Record<string, { versions?: string } | undefined>)[kind]!;
    const versions = body.versions === undefined ? undefined : this.range(body.versions, `${at}.versions`);
    const base = { id: doc.id, ...(versions !== undefined ? { versions } : {}) };
    const before = this.problems.length;
    const result = this.assertionBody(doc, at, base);
    return this.problems.length === before ? result : undefined;
  }

  /** One branch per kind, each reading the fields the schema guarantees for it. */
  private assertionBody(doc: AssertionDocument, at: string, base: { id: string; versions?: string }): Assertion | undefined {
    const on = (a: { build: string; output?: number }) => this.target({ build: a.build, ...(a.output !== undefined ? { output: a.output } : {}) }, at);
    if (doc["build-succeeds"]) {
      const a = doc["build-succeeds"];
      return this.build(a.build, `${at}.build`) && { ...base, kind: "build-succeeds", build: a.build };
    }
    if (doc["digest-stable"]) {
      const a = doc["digest-stable"];
      this.repeated(a.build, `${at}.build`, "digest-stable");
      const target = on(a);
      return target && { ...base, kind: "digest-stable", target, digest: a.digest as DigestKind };
    }
    for (const kind of ["digest-equal", "digest-differs"] as const) {
      const a = doc[kind];
      if (!a) continue;
      const targets = this.pair(a.builds, `${at}.builds`);
      return targets && { ...base, kind, targets, digest: a.digest as DigestKind };
    }
    if (doc["step-cached"]) {
      const a = doc["step-cached"];
      const info = this.build(a.build, `${at}.build`);
      const matches = info?.dockerfile ? instructionsMatching(info.dockerfile, a.step) : 1;
      if (info && matches !== 1) {
        this.problem(`${at}.step`, `${JSON.stringify(a.step)} appears in ${matches} instructions of ${info.step.dockerfile}; give text that names exactly one`);
      }
      return info && { ...base, kind: "step-cached", build: a.build, step: a.step, cached: a.cached };
    }
    for (const kind of ["file-equal", "file-differs"] as const) {
      const a = doc[kind];
      if (!a) continue;
      const targets = this.pair(a.builds, `${at}.builds`);
      return targets && { ...base, kind, targets, path: a.path };
    }
    if (doc["inline-cache-keeps-results"]) {
      const a = doc["inline-cache-keeps-results"];
      this.repeated(a.build, `${at}.build`, "inline-cache-keeps-results");
      return this.build(a.build, `${at}.build`) && { ...base, kind: "inline-cache-keeps-results", build: a.build };
    }
    if (doc["layer-mtimes"]) {
      const a = doc["layer-mtimes"];
      const target = on(a);
      return target && { ...base, kind: "layer-mtimes", target, notAfter: a.notAfter, layers: (a.layers ?? "last") as LayerSelection };
    }
    if (doc.whiteout) {
      const a = doc.whiteout;
      const target = on(a);
      return target && { ...base, kind: "whiteout", target, path: a.path, ...(a.mtimeNotAfter !== undefined ? { mtimeNotAfter: a.mtimeNotAfter } : {}) };
    }
    if (doc["config-key"]) {
      const a = doc["config-key"];
      const target = on(a);
      return target && { ...base, kind: "config-key", target, key: a.key, present: a.present };
    }
    if (doc["config-field"]) {
      const a = doc["config-field"];
      const target = on(a);
      return target && { ...base, kind: "config-field", target, field: a.field, equals: String(a.equals) };
    }
    if (doc["metadata-key"]) {
      const a = doc["metadata-key"];
      return this.build(a.build, `${at}.build`) && { ...base, kind: "metadata-key", build: a.build, key: a.key, present: a.present };
    }
    if (doc["layer-from-base"]) {
      const a = doc["layer-from-base"];
      const target = on(a);
      if (!this.imageNames.has(a.image)) this.problem(`${at}.image`, `no base image named "${a.image}" (known: ${[...this.imageNames].join(", ")})`);
      return target && { ...base, kind: "layer-from-base", target, layer: a.layer, image: a.image, baseLayer: a.baseLayer ?? a.layer };
    }
    if (doc["output-readable"]) {
      const target = on(doc["output-readable"]);
      return target && { ...base, kind: "output-readable", target };
    }
    if (doc.annotation) {
      const a = doc.annotation;
      const target = on(a);
      const present = a.present ?? true;
      if ((a.on === "layer") !== (a.layer !== undefined)) this.problem(`${at}.layer`, "is required with on: layer, and only then");
      if (!present && a.equals !== undefined) this.problem(`${at}.equals`, "goes with present: true (the default), not with present: false");
      return (
        target && {
          ...base,
          kind: "annotation",
          target,
          on: a.on as "index" | "manifest" | "layer",
          ...(a.layer !== undefined ? { layer: a.layer } : {}),
          key: a.key,
          ...(a.equals !== undefined ? { equals: a.equals } : {}),
          present,
        }
      );
    }
    this.problem(at, "unknown assertion");
    return undefined;
  }

  private uniqueIds(assertions: readonly Assertion[]): void {
    const seen = new Set<string>();
    assertions.forEach((a, i) => {
      if (seen.has(a.id)) this.problem(`assertions[${i}].id`, `"${a.id}" is used by another assertion; ids must be unique`);
      seen.add(a.id);
    });
  }

  private readKnownBug(doc: KnownBugDocument, path: string, assertions: readonly Assertion[]): KnownBug | undefined {
    const before = this.problems.length;
    const versions = this.range(doc.versions, `${path}.versions`);
    if (doc.status === "fixed" && doc.fixedIn === undefined) this.problem(`${path}.fixedIn`, 'is required with status "fixed": the first release with the fix');
    if (doc.status === "reproduces" && doc.fixedIn !== undefined) this.problem(`${path}.fixedIn`, 'only goes with status "fixed"');
    if (doc.racy && doc.status !== "reproduces") this.problem(`${path}.racy`, 'only goes with status "reproduces"');
    if (doc.racy && doc.racy.atLeast > doc.racy.of) this.problem(`${path}.racy.of`, `must be ≥ atLeast (${doc.racy.atLeast}), found ${doc.racy.of}`);
    const engine = doc.engine === undefined ? undefined : this.range(doc.engine, `${path}.engine`);
    if (doc.engine !== undefined && doc.builder !== "dockerd")
      this.problem(`${path}.engine`, "only goes with builder: dockerd (an engine version says nothing about a standalone buildkitd)");
    if (doc.builder !== undefined && !(this.doc.builders ?? ["buildkitd"]).includes(doc.builder))
      this.problem(`${path}.builder`, `"${doc.builder}" is not one of the scenario's builders (${(this.doc.builders ?? ["buildkitd"]).join(", ")})`);
    if (versions && doc.fixedIn && !semver.satisfies(doc.fixedIn, versions))
      this.problem(`${path}.fixedIn`, `${doc.fixedIn} is not in the entry's versions ${versions}`);
    const explains: Explained[] = doc.explains.map((e) => (typeof e === "string" ? { assertion: e } : e));
    // One assertion may be named again with another symptom: the bug shows as either (an error, or a crash on a racy release).
    const named = new Map<string, (string | undefined)[]>();
    explains.forEach((e, i) => {
      const at = `${path}.explains[${i}]`;
      const symptoms = named.get(e.assertion) ?? [];
      if (symptoms.length > 0 && (e.actualContains === undefined || symptoms.includes(undefined) || symptoms.includes(e.actualContains))) {
        this.problem(at, `names "${e.assertion}" twice; name it again only with another actualContains (either symptom then counts)`);
      }
      named.set(e.assertion, [...symptoms, e.actualContains]);
      const assertion = assertions.find((a) => a.id === e.assertion);
      if (!assertion) {
        this.problem(at, `no assertion has the id "${e.assertion}" (ids: ${assertions.map((a) => a.id).join(", ")})`);
      } else if (versions && assertion.versions && !semver.intersects(assertion.versions, versions)) {
        this.problem(at, `"${e.assertion}" is evaluated only on ${assertion.versions}, never on ${versions}`);
      }
    });
    if (this.problems.length > before || versions === undefined) return undefined;
    return {
      versions,
      ...(doc.builder !== undefined ? { builder: doc.builder as BuilderKind } : {}),
      ...(engine !== undefined ? { engine } : {}),
      status: doc.status as KnownBug["status"],
      ...(doc.fixedIn !== undefined ? { fixedIn: doc.fixedIn } : {}),
      reference: doc.reference,
      explains,
      ...(doc.racy ? { racy: doc.racy } : {}),
      ...(doc.note !== undefined ? { note: doc.note } : {}),
    };
  }
}

function countBuilds(steps: readonly Step[]): number {
  return steps.reduce((n, s) => n + (s.kind === "build" ? 1 : s.kind === "repeat" ? s.extendTo * countBuilds(s.steps) : 0), 0);
}

/** The Scenario a valid document describes, or the problems that keep it from being one. */
export function readScenario(doc: ScenarioDocument, dir: string, listing: FolderListing): { scenario: Scenario } | { problems: Problem[] } {
  const reader = new ScenarioReader(doc, dir, listing);
  const scenario = reader.read();
  return scenario ? { scenario } : { problems: reader.problems };
}
