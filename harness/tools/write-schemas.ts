/**
 * Writes the JSON Schemas that are generated from the project's own definitions:
 * scenarios/scenario.schema.json (for editors) and reports/results.schema.json (for readers
 * of results.json). A unit test fails when a committed file differs from what this writes.
 *
 *   npm run schemas
 */
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { resultsJsonSchema } from "../report/schema.ts";
import { scenarioJsonSchema } from "../scenario/format/validate.ts";

const ROOT = resolve(import.meta.dirname, "../..");
export const SCHEMA_FILES = {
  scenario: resolve(ROOT, "scenarios/scenario.schema.json"),
  results: resolve(ROOT, "reports/results.schema.json"),
};

export function schemaText(schema: Record<string, unknown>): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}

if (process.argv[1] === import.meta.filename) {
  writeFileSync(SCHEMA_FILES.scenario, schemaText(scenarioJsonSchema()));
  writeFileSync(SCHEMA_FILES.results, schemaText(resultsJsonSchema()));
  console.log(`wrote ${SCHEMA_FILES.scenario} and ${SCHEMA_FILES.results}`);
}
