import { ResultsSchema } from "./model.ts";

/** JSON Schema of results.json (reports/results.schema.json is this, written out). */
export function resultsJsonSchema(): Record<string, unknown> {
  return { $schema: "https://json-schema.org/draft/2020-12/schema", ...JSON.parse(JSON.stringify(ResultsSchema)) };
}
