import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { HarnessError } from "../../../harness/errors.ts";
import { discoverScenarios, loadScenario, STEP_KINDS } from "../../../harness/scenario/load.ts";
import { ASSERTION_KINDS } from "../../../harness/scenario/types.ts";

/**
 * Keeps scenarios/scenario.schema.json and the loader in step without a JSON Schema
 * library: the kinds must be the same, the schema's examples must load, and the loader's
 * own messages ("unknown key ... (allowed: ...)", "... is required") must name the same
 * fields as the schema's `properties` and `required`.
 */
const SCENARIOS = resolve(import.meta.dirname, "../../../scenarios");

interface SchemaNode {
  $ref?: string;
  $schema?: string;
  $defs?: Record<string, SchemaNode>;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  maxProperties?: number;
  enum?: unknown[];
  const?: unknown;
  allOf?: Array<SchemaNode & { if?: SchemaNode; then?: SchemaNode }>;
  examples?: unknown[];
  description?: string;
}

const schema = JSON.parse(readFileSync(join(SCENARIOS, "scenario.schema.json"), "utf8")) as SchemaNode;

/** Follows `$ref: "#/$defs/<name>"` (the only kind of reference the schema uses). */
function deref(node: SchemaNode): SchemaNode {
  let current = node;
  for (let hops = 0; current.$ref !== undefined; hops++) {
    const name = /^#\/\$defs\/([^/]+)$/.exec(current.$ref)?.[1];
    const target = name !== undefined ? schema.$defs?.[name] : undefined;
    if (!target || hops > 10) throw new Error(`unresolvable $ref ${current.$ref}`);
    current = target;
  }
  return current;
}

function def(name: string): SchemaNode {
  const node = schema.$defs?.[name];
  if (!node) throw new Error(`scenario.schema.json has no $defs.${name}`);
  return node;
}

const stepKinds = Object.keys(def("step").properties ?? {});
const assertionKinds = Object.keys(def("assertion").properties ?? {});

// ---- scratch scenarios the probes below load

const root = mkdtempSync(join(tmpdir(), "scenario-schema-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let probes = 0;

/** A scenario folder holding `doc` as scenario.yaml and the files the schema's examples name. */
function folder(doc: unknown): string {
  const dir = join(root, `probe-${++probes}`);
  mkdirSync(join(dir, "context"), { recursive: true });
  writeFileSync(join(dir, "Dockerfile"), "FROM {{image:busybox}}\nCOPY . /app\n");
  writeFileSync(join(dir, "context", "app.txt"), "hello\n");
  writeFileSync(join(dir, "policy.json"), '{ "rules": [] }\n');
  writeFileSync(join(dir, "scenario.yaml"), YAML.stringify(doc));
  return dir;
}

/** undefined when the scenario loads, else the SCENARIO_INVALID message. */
function problems(doc: unknown): string | undefined {
  try {
    loadScenario(folder(doc));
    return undefined;
  } catch (err) {
    if (err instanceof HarnessError && err.code === "SCENARIO_INVALID") return err.message;
    throw err;
  }
}

const build = (name: string) => ({ build: { name, output: { type: "image", name: `{{registry}}/{{scenario}}:${name}`, push: true } } });

/** A valid scenario with every top-level key; the probes put the part under test into it. */
function base(): Record<string, unknown> {
  return {
    id: "schema-probe",
    title: "A probe of the schema",
    upstream: ["https://github.com/moby/buildkit/issues/3009"],
    tags: ["probe"],
    expectation: "The loader accepts what the schema describes.",
    applies: ">=0.10.0",
    knownBugs: [],
    steps: [build("first"), build("second")],
    assertions: [{ "digest-stable": { build: "first", digest: "config" } }],
  };
}

interface Target {
  /** Where the loader reports problems of this part, e.g. "steps[0].write". */
  readonly path: string;
  readonly node: SchemaNode;
  /** A whole scenario with `body` in this part's place. */
  readonly place: (body: Record<string, unknown>) => unknown;
}

const KNOWN_BUG = { versions: ">=0.10.0", status: "reproduces", reference: "https://github.com/moby/buildkit/issues/3009" };
const targets: Target[] = [
  { path: "", node: schema, place: (body) => body },
  { path: "knownBugs[0]", node: def("knownBug"), place: (body) => ({ ...base(), knownBugs: [body] }) },
  {
    path: "knownBugs[0].racy",
    node: deref(def("knownBug").properties!.racy!),
    place: (body) => ({ ...base(), knownBugs: [{ ...KNOWN_BUG, racy: body }] }),
  },
  ...stepKinds.map((kind) => ({
    path: `steps[0].${kind}`,
    node: deref(def("step").properties![kind]!),
    place: (body: Record<string, unknown>) => ({ ...base(), steps: [{ [kind]: body }, ...(base().steps as unknown[])] }),
  })),
  ...assertionKinds.map((kind) => ({
    path: `assertions[0].${kind}`,
    node: deref(def("assertion").properties![kind]!),
    place: (body: Record<string, unknown>) => ({ ...base(), assertions: [{ [kind]: body }] }),
  })),
];

/** `required`, plus what an `allOf` of `if: {properties: {k: {const}}}, then: {required}` adds for this example. */
function requiredFor(node: SchemaNode, example: Record<string, unknown>): Set<string> {
  const required = new Set(node.required ?? []);
  for (const rule of node.allOf ?? []) {
    const conditions = Object.entries(rule.if?.properties ?? {});
    if (conditions.length > 0 && conditions.every(([k, c]) => example[k] === c.const)) for (const k of rule.then?.required ?? []) required.add(k);
  }
  return required;
}

const examplesOf = (t: Target): Array<Record<string, unknown>> => (t.path === "" ? [base()] : ((t.node.examples ?? []) as Array<Record<string, unknown>>));
const at = (path: string, key: string) => (path ? `${path}.${key}` : key);
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("scenario.schema.json", () => {
  it("is a draft 2020-12 schema whose references all resolve", () => {
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    const refs: string[] = [];
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(walk);
      else if (value !== null && typeof value === "object") {
        for (const [k, v] of Object.entries(value)) k === "$ref" && typeof v === "string" ? refs.push(v) : walk(v);
      }
    };
    walk(schema);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect(() => deref({ $ref: ref }), ref).not.toThrow();
  });

  it("lists the loader's step kinds", () => {
    expect([...stepKinds].sort()).toEqual([...STEP_KINDS].sort());
  });

  it("lists the loader's assertion kinds", () => {
    expect([...assertionKinds].sort()).toEqual([...ASSERTION_KINDS].sort());
  });

  it("describes every property, so editors show help", () => {
    const missing: string[] = [];
    for (const t of targets) {
      for (const [key, node] of Object.entries(t.node.properties ?? {})) {
        if (!node.description && !deref(node).description) missing.push(at(t.path, key));
      }
    }
    expect(missing).toEqual([]);
  });

  describe.each(targets.map((t) => [t.path || "(top level)", t] as const))("%s", (_label, t) => {
    it("has examples the loader accepts", () => {
      const examples = examplesOf(t);
      expect(examples.length).toBeGreaterThan(0);
      for (const example of examples) expect(problems(t.place(example))).toBeUndefined();
    });

    if (!t.node.properties) {
      // fresh-builder: no properties at all.
      it("takes no options, as the loader says", () => {
        expect(t.node.maxProperties).toBe(0);
        expect(problems(t.place({ extra: true }))).toMatch(new RegExp(`^  - ${escapeRegExp(t.path)}: takes no options`, "m"));
      });
      return;
    }

    it("has the keys the loader allows", () => {
      const message = problems(t.place({ ...examplesOf(t)[0], zzUnknown: 1 })) ?? "";
      const allowed = new RegExp(`^  - ${escapeRegExp(at(t.path, "zzUnknown"))}: unknown key "zzUnknown" \\(allowed: ([^)]*)\\)$`, "m").exec(message)?.[1];
      expect(allowed, message).toBeDefined();
      expect(allowed!.split(", ").sort()).toEqual(Object.keys(t.node.properties!).sort());
    });

    it("requires exactly the keys the loader requires", () => {
      for (const example of examplesOf(t)) {
        const required = requiredFor(t.node, example);
        for (const key of Object.keys(example)) {
          const { [key]: _removed, ...rest } = example;
          const message = problems(t.place(rest));
          if (required.has(key)) expect(message, `without ${at(t.path, key)}`).toMatch(new RegExp(`^  - ${escapeRegExp(at(t.path, key))}: `, "m"));
          else expect(message, `without ${at(t.path, key)}`).toBeUndefined();
        }
      }
      for (const key of t.node.required ?? []) expect(Object.keys(examplesOf(t)[0]!), `the first example shows required ${key}`).toContain(key);
    });

    const enums = Object.entries(t.node.properties).filter(([, node]) => deref(node).enum !== undefined);
    if (t.path.startsWith("assertions") && enums.length > 0) {
      it("accepts every value its enums list, and no other", () => {
        for (const [key, node] of enums) {
          for (const value of deref(node).enum!) expect(problems(t.place({ ...examplesOf(t)[0], [key]: value })), `${key}: ${String(value)}`).toBeUndefined();
          expect(problems(t.place({ ...examplesOf(t)[0], [key]: "not-in-the-enum" }))).toMatch(new RegExp(`^  - ${escapeRegExp(at(t.path, key))}: `, "m"));
        }
      });
    }
  });
});

describe("scenarios/", () => {
  const dirs = discoverScenarios(SCENARIOS);

  it("holds scenarios", () => {
    expect(dirs.length).toBeGreaterThan(0);
  });

  it.each(dirs.map((d) => [d.slice(SCENARIOS.length + 1), d] as const))("%s loads", (_name, dir) => {
    expect(() => loadScenario(dir)).not.toThrow();
  });
});
