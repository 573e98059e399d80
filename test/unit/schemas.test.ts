import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { resultsJsonSchema } from "../../harness/report/schema.ts";
import { scenarioJsonSchema } from "../../harness/scenario/format/validate.ts";
import { SCHEMA_FILES, schemaText } from "../../harness/tools/write-schemas.ts";

/** The committed schemas are what the definitions generate: `npm run schemas` rewrites them. */
describe("generated JSON Schemas", () => {
  it("scenarios/scenario.schema.json is up to date", () => {
    expect(readFileSync(SCHEMA_FILES.scenario, "utf8")).toBe(schemaText(scenarioJsonSchema()));
  });
  it("reports/results.schema.json is up to date", () => {
    expect(readFileSync(SCHEMA_FILES.results, "utf8")).toBe(schemaText(resultsJsonSchema()));
  });
});
