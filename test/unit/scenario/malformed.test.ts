import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { HarnessError } from "../../../harness/errors.ts";
import { loadScenario, SCENARIO_FILE } from "../../../harness/scenario/load.ts";

/**
 * The malformed-scenario corpus: every folder of test/fixtures/malformed/ is a scenario the
 * loader must reject, and its expected-error.txt says with which problems. Adding a case is
 * adding a folder (test/fixtures/malformed/README.md describes the files).
 */
const CORPUS = resolve(import.meta.dirname, "../../fixtures/malformed");
const EXPECTED = "expected-error.txt";
const SYMLINKS = "symlinks.txt";

const cases = readdirSync(CORPUS, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

let scratch: string | undefined;
afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** Non-empty lines of a corpus file, without `#` comment lines. */
function lines(file: string): string[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .map((l) => l.replace(/\r$/, ""))
    .filter((l) => l.trim() !== "" && !l.startsWith("#"));
}

/**
 * The folder to load. A case with symlinks.txt is copied to a temporary folder and gets its
 * symlinks there: a link leading out of its folder would lead tools walking the repository
 * (and git on systems without symlinks) astray, so the repository holds none.
 */
function prepare(name: string): string {
  const source = join(CORPUS, name);
  if (!existsSync(join(source, SYMLINKS))) return source;
  scratch ??= mkdtempSync(join(tmpdir(), "malformed-scenarios-"));
  const dir = join(scratch, name);
  cpSync(source, dir, { recursive: true });
  for (const line of lines(join(source, SYMLINKS))) {
    const match = /^(\S+) -> (\S+)$/.exec(line);
    if (!match) throw new Error(`${join(source, SYMLINKS)}: expected "<path> -> <target>", found ${JSON.stringify(line)}`);
    symlinkSync(match[2]!, join(dir, match[1]!));
  }
  return dir;
}

function rejection(dir: string): HarnessError {
  try {
    loadScenario(dir);
  } catch (err) {
    if (err instanceof HarnessError) return err;
    throw err;
  }
  throw new Error(`${dir}: the loader accepted this malformed scenario`);
}

describe("malformed scenario corpus", () => {
  it("holds at least 30 cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it.each(cases)("%s is rejected with the expected problems", (name) => {
    const expectedFile = join(CORPUS, name, EXPECTED);
    expect(existsSync(expectedFile), `${name} needs an ${EXPECTED}`).toBe(true);
    const patterns = lines(expectedFile).map((l) => new RegExp(l, "m"));
    expect(patterns.length, `${expectedFile} holds no regex`).toBeGreaterThan(0);

    const dir = prepare(name);
    const err = rejection(dir);
    expect(err.code).toBe("SCENARIO_INVALID");
    const [first, ...problems] = err.message.split("\n");
    // Problems of the folder itself (its listing) name the folder; all others its scenario.yaml.
    expect([`${join(dir, SCENARIO_FILE)}:`, `${dir}:`]).toContain(first);
    for (const pattern of patterns) expect(err.message).toMatch(pattern);
    // Every problem reported is an expected one: a case is malformed only in the way it says.
    for (const problem of problems) {
      expect(
        patterns.some((p) => p.test(problem)),
        `${name}: no regex in ${EXPECTED} matches the problem ${JSON.stringify(problem)}`,
      ).toBe(true);
    }
  });
});
