import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCorpusEnvironment } from "../../harness/corpus.ts";
import type { BuildkitEnvironment } from "../../harness/environment/environment.ts";
import { defaultVersion } from "../../harness/provision/versions.ts";
import { discoverScenarios, loadScenario } from "../../harness/scenario/load.ts";
import { runScenario } from "../../harness/scenario/runner.ts";

/**
 * The corpus, end to end, against the default pinned BuildKit: every folder under
 * scenarios/ is a test; adding a scenario needs no change here. A test passes when the
 * verdict is what the scenario declares for this version (pass, or its known bug
 * reproduced); an unexpected pass, a failure or an infrastructure error fails it.
 */
const version = defaultVersion();
const scenarios = discoverScenarios(resolve(import.meta.dirname, "../../scenarios")).map(loadScenario);

describe(`corpus on BuildKit ${version}`, () => {
  let env: BuildkitEnvironment | undefined;
  let images = new Map<string, string>();

  beforeAll(async () => {
    ({ env, images } = await startCorpusEnvironment(version));
  });

  afterAll(async () => {
    await env?.stop();
  });

  it("has scenarios to run", () => {
    expect(scenarios.length).toBeGreaterThan(0);
  });

  for (const scenario of scenarios) {
    it(scenario.id, async () => {
      const run = await runScenario(scenario, env!, images);
      const evidence = run.outcomes
        .map((o) => `${o.holds ? "holds" : "FAILS"}: ${o.description}\n    expected ${o.expected}\n    actual   ${o.actual}`)
        .join("\n");
      expect(run.verdict.loud, `${run.verdict.kind}: ${run.verdict.reason}\n${evidence}`).toBe(false);
      expect(["pass", "known-bug-reproduced", "not-applicable"]).toContain(run.verdict.kind);
    });
  }
});
