import { Ajv2020, type ErrorObject } from "ajv/dist/2020.js";
import { ScenarioDocument } from "./schema.ts";

/** One thing wrong with a document: where (a field path such as steps[2].build.name) and what. */
export interface Problem {
  readonly path: string;
  readonly message: string;
}

const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
ajv.addKeyword({ keyword: "x-expected", schemaType: "string" });
const check = ajv.compile(ScenarioDocument);

/** JSON Schema of scenario.yaml as editors read it (scenarios/scenario.schema.json is this, written out). */
export function scenarioJsonSchema(): Record<string, unknown> {
  return { $schema: "https://json-schema.org/draft/2020-12/schema", ...JSON.parse(JSON.stringify(ScenarioDocument)) };
}

/** Describes a value the way a problem names what it found, without echoing long text. */
function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === "string") return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === "object") return `a mapping with keys ${Object.keys(value).join(", ") || "(none)"}`;
  return `${typeof value} ${String(value)}`;
}

/** `/steps/0/build/name` → `steps[0].build.name`. */
export function fieldPath(pointer: string, child?: string): string {
  const parts = pointer
    .split("/")
    .slice(1)
    .map((p) => p.replaceAll("~1", "/").replaceAll("~0", "~"));
  if (child !== undefined) parts.push(child);
  return parts.reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), "");
}

function expectedText(schema: Record<string, unknown> | undefined): string | undefined {
  return typeof schema?.["x-expected"] === "string" ? schema["x-expected"] : undefined;
}

const TYPE_NAMES: Record<string, string> = {
  object: "a mapping",
  array: "a list",
  string: "a string",
  integer: "an integer",
  number: "a number",
  boolean: "true or false",
  null: "nothing",
};

function problemOf(error: ErrorObject): Problem | undefined {
  const at = fieldPath(error.instancePath);
  const parent = error.parentSchema as Record<string, unknown> | undefined;
  const found = describeValue(error.data);
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "required":
      return { path: fieldPath(error.instancePath, String(p.missingProperty)), message: "is required" };
    case "additionalProperties": {
      const key = String(p.additionalProperty);
      const allowed = Object.keys((parent?.properties as Record<string, unknown> | undefined) ?? {});
      return { path: fieldPath(error.instancePath, key), message: `unknown key "${key}"${allowed.length > 0 ? ` (allowed: ${allowed.join(", ")})` : ""}` };
    }
    case "type": {
      const types = (Array.isArray(p.type) ? p.type : String(p.type).split(",")).map((t) => TYPE_NAMES[String(t)] ?? String(t));
      return { path: at, message: `expected ${types.join(" or ")}, found ${found}` };
    }
    case "const":
    case "enum": {
      const allowed = ((p.allowedValues as unknown[] | undefined) ?? [p.allowedValue]).map((v) => JSON.stringify(v));
      return { path: at, message: `expected ${allowed.length === 1 ? allowed[0] : `one of ${allowed.join(", ")}`}, found ${found}` };
    }
    case "pattern":
      // Inside propertyNames the data is the key itself, and the path is its mapping's.
      if (error.propertyName !== undefined) {
        return {
          path: fieldPath(error.instancePath, error.propertyName),
          message: `the key is not ${expectedText(parent) ?? `text matching ${String(p.pattern)}`}`,
        };
      }
      return { path: at, message: `expected ${expectedText(parent) ?? `text matching ${String(p.pattern)}`}, found ${found}` };
    case "propertyNames":
      return undefined; // the key's own error (above) names it
    case "minProperties":
    case "maxProperties":
      return {
        path: at,
        message: `expected ${expectedText(parent) ?? `${error.keyword === "minProperties" ? "at least" : "at most"} ${String(p.limit)} keys`}, found ${found}`,
      };
    case "minItems":
    case "maxItems":
      return {
        path: at,
        message: `expected ${error.keyword === "minItems" ? "at least" : "at most"} ${String(p.limit)} ${p.limit === 1 ? "entry" : "entries"}, found ${found}`,
      };
    case "minLength":
      return { path: at, message: String(p.limit) === "1" ? "must not be empty" : `expected at least ${String(p.limit)} characters` };
    case "maxLength":
      return { path: at, message: `is too long: at most ${String(p.limit)} characters, found ${String((error.data as string).length)}` };
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return { path: at, message: `expected a number ${String(p.comparison)} ${String(p.limit)}, found ${found}` };
    case "anyOf":
      return { path: at, message: `expected ${expectedText(parent) ?? "one of the allowed forms"}, found ${found}` };
    default:
      return { path: at, message: `${error.message ?? "is invalid"} (found ${found})` };
  }
}

/**
 * Checks a parsed scenario.yaml against the schema. Every problem is listed, by field
 * path, at most once.
 */
export function validateStructure(doc: unknown): Problem[] {
  if (check(doc)) return [];
  const errors = check.errors ?? [];
  // A union that matched no branch is reported once, by what it expects; its branches'
  // own errors (one per alternative) would only repeat it.
  const unions = errors.filter((e) => e.keyword === "anyOf").map((e) => `${e.schemaPath}/`);
  const problems = errors.filter((e) => !unions.some((u) => e.schemaPath.startsWith(u))).flatMap((e) => problemOf(e) ?? []);
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\0${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
