import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { interrupted } from "../../harness/interruption.ts";
import { defaultVersion, lookupVersion } from "../../harness/provision/versions.ts";
import { scenarioRecord } from "../../harness/report/records.ts";
import { RunRecorder } from "../../harness/run/recorder.ts";
import { VersionSession } from "../../harness/run/version-session.ts";
import { loadCorpus } from "../../harness/scenario/load.ts";

/**
 * The corpus, end to end, against the default pinned BuildKit: every folder under
 * scenarios/ is a test; adding a scenario needs no change here. A test passes when the
 * verdict is what the scenario declares for this version (pass, or its known bug
 * reproduced); anything loud fails it. The run's reports are written to reports/ like the
 * CLI's, so CI can publish them.
 */
const ROOT = resolve(import.meta.dirname, "../..");
const version = lookupVersion(defaultVersion()).version;
const corpus = loadCorpus(resolve(ROOT, "scenarios"));

describe(`corpus on BuildKit ${version}`, () => {
  const session = new VersionSession(version);
  let recorder: RunRecorder | undefined;

  beforeAll(async () => {
    recorder = await RunRecorder.create(resolve(ROOT, "reports"));
    await session.open();
  });

  afterAll(async () => {
    await session.close();
    await recorder?.finish({
      versions: [session.record],
      scenarios: corpus.scenarios.map((s) => scenarioRecord(s, ROOT)),
      invalidScenarios: corpus.invalid.map((i) => ({ folder: i.dir, message: i.error.describe() })),
      complete: !interrupted(),
    });
  });

  it("has scenarios, and every folder is valid", () => {
    expect(corpus.invalid.map((i) => i.error.describe())).toEqual([]);
    expect(corpus.scenarios.length).toBeGreaterThan(0);
  });

  for (const scenario of corpus.scenarios) {
    it(scenario.id, async () => {
      const result = await session.run(scenario);
      const record = await recorder!.add(result);
      const evidence = record.attempts
        .flatMap((a) => a.outcomes)
        .map((o) => `${o.status} (${o.role}): ${o.description}\n    expected ${o.expected}\n    observed ${o.actual}`)
        .join("\n");
      expect(result.verdict.loud, `${result.verdict.kind}: ${result.verdict.reason}\n${evidence}`).toBe(false);
      expect(["pass", "known-bug-reproduced", "not-applicable"]).toContain(result.verdict.kind);
    });
  }
});
