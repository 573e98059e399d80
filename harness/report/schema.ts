import { Ajv2020 } from "ajv/dist/2020.js";
import { ResultsSchema } from "./model.ts";

/** JSON Schema of results.json (reports/results.schema.json is this, written out). */
export function resultsJsonSchema(): Record<string, unknown> {
  return { $schema: "https://json-schema.org/draft/2020-12/schema", ...JSON.parse(JSON.stringify(ResultsSchema)) };
}

const check = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true }).compile(ResultsSchema);

/** Problems that keep `doc` from being a results.json of this schema version (none: it is one). */
export function resultsProblems(doc: unknown): string[] {
  return check(doc) ? [] : (check.errors ?? []).map((e) => `${e.instancePath || "(top level)"}: ${e.message ?? e.keyword}`);
}
