import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { interrupted } from "../../harness/interruption.ts";
import { defaultVersion, lookupVersion } from "../../harness/provision/versions.ts";
import { scenarioRecord } from "../../harness/report/records.ts";
import { DockerdSession } from "../../harness/run/dockerd-session.ts";
import { RunRecorder } from "../../harness/run/recorder.ts";
import { VersionSession } from "../../harness/run/version-session.ts";
import { loadCorpus } from "../../harness/scenario/load.ts";

/**
 * The corpus, end to end, against the default pinned BuildKit, and the scenarios that run
 * on dockerd against Debian's engine: every folder under
 * scenarios/ is a test; adding a scenario needs no change here. A test passes when the
 * verdict is what the scenario declares for this version (pass, or its known bug
 * reproduced); anything loud fails it. The run's reports are written to reports/ like the
 * CLI's, so CI can publish them.
 */
const ROOT = resolve(import.meta.dirname, "../..");
const version = lookupVersion(defaultVersion()).version;
const corpus = loadCorpus(resolve(ROOT, "scenarios"));

/** The engine the corpus's dockerd scenarios run on in every test run: made from Debian packages, quick to provision. */
const ENGINE = "dockerd:debian-bookworm";
const sessions = [new VersionSession(version), new DockerdSession(ENGINE)] as const;
let recorder: RunRecorder | undefined;

beforeAll(async () => {
  recorder = await RunRecorder.create(resolve(ROOT, "reports"));
});

afterAll(async () => {
  await recorder?.finish({
    versions: sessions.map((s) => s.record),
    scenarios: corpus.scenarios.map((s) => scenarioRecord(s, ROOT)),
    invalidScenarios: corpus.invalid.map((i) => ({ folder: i.dir, message: i.error.describe() })),
    complete: !interrupted(),
  });
});

it("has scenarios, and every folder is valid", () => {
  expect(corpus.invalid.map((i) => i.error.describe())).toEqual([]);
  expect(corpus.scenarios.length).toBeGreaterThan(0);
  expect(corpus.scenarios.some((s) => s.builders.includes("dockerd"))).toBe(true);
});

for (const session of sessions) {
  const onDockerd = session instanceof DockerdSession;
  // On the engine, only the scenarios that say they run there (the others are not applicable by definition).
  const scenarios = corpus.scenarios.filter((s) => !onDockerd || s.builders.includes("dockerd"));
  describe(`corpus on ${onDockerd ? ENGINE : `BuildKit ${version}`}`, () => {
    beforeAll(async () => {
      await session.open();
    });

    afterAll(async () => {
      await session.close();
    });

    for (const scenario of scenarios) {
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
}
