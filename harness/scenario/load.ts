import { existsSync, lstatSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import YAML from "yaml";
import { HarnessError } from "../errors.ts";
import { inspectFolder, readTextFile } from "./format/folder.ts";
import { LIMITS } from "./format/limits.ts";
import { readScenario } from "./format/read-scenario.ts";
import type { ScenarioDocument } from "./format/schema.ts";
import { printable, textProblems } from "./format/text.ts";
import { fieldPath, type Problem, validateStructure } from "./format/validate.ts";
import type { Scenario } from "./model.ts";

export const SCENARIO_FILE = "scenario.yaml";

/** The error for a scenario that does not load. Paths and problems come from the scenario, so control characters in them are printed escaped. */
function invalid(file: string, problems: readonly Problem[]): HarnessError {
  return new HarnessError(
    "SCENARIO_INVALID",
    `${printable(file)}:\n${problems.map((p) => `  - ${printable(p.path) || "(top level)"}: ${printable(p.message)}`).join("\n")}`,
    "Fix the fields named above (the format is described in scenarios/README.md); nothing of this scenario ran.",
  );
}

/**
 * Loads and validates one scenario folder; any problem throws SCENARIO_INVALID listing all
 * of them by field path. Nothing is run and nothing outside the folder is read.
 */
export function loadScenario(dir: string): Scenario {
  const folder = resolve(dir);
  const file = join(folder, SCENARIO_FILE);
  const listing = inspectFolder(folder);
  if (listing.problems.length > 0) throw invalid(folder, listing.problems);
  const read = readTextFile(folder, SCENARIO_FILE, "the scenario file");
  if ("problem" in read) throw invalid(file, [{ path: "", message: read.problem }]);
  let doc: unknown;
  try {
    doc = YAML.parse(read.text, { uniqueKeys: true, maxAliasCount: 50 });
  } catch (err) {
    // A stack overflow is the parser's answer to nesting too deep to read.
    if (err instanceof RangeError || /call stack/i.test((err as Error).message))
      throw invalid(file, [{ path: "", message: `lists and mappings nest deeper than ${LIMITS.yamlDepth} levels` }]);
    // The first line names the problem and its position; later lines quote the file.
    throw invalid(file, [{ path: "", message: `not valid YAML: ${(err as Error).message.split("\n")[0]}` }]);
  }
  const tooDeep = deeperThan(doc, LIMITS.yamlDepth);
  if (tooDeep !== undefined) throw invalid(file, [{ path: tooDeep, message: `lists and mappings nest deeper than ${LIMITS.yamlDepth} levels` }]);
  const surface = [...textProblems(doc), ...validateStructure(doc)];
  if (surface.length > 0) throw invalid(file, surface);
  const result = readScenario(doc as ScenarioDocument, folder, listing);
  if ("problems" in result) throw invalid(file, result.problems);
  return result.scenario;
}

/** The field path of the first value nested deeper than `limit`, found without recursion (the checks after this recurse). */
function deeperThan(doc: unknown, limit: number): string | undefined {
  const stack: { value: unknown; depth: number; pointer: string }[] = [{ value: doc, depth: 0, pointer: "" }];
  while (stack.length > 0) {
    const { value, depth, pointer } = stack.pop()!;
    if (value === null || typeof value !== "object") continue;
    if (depth >= limit) return fieldPath(pointer) || "(top level)";
    for (const [k, v] of Object.entries(value))
      stack.push({ value: v, depth: depth + 1, pointer: `${pointer}/${k.replaceAll("~", "~0").replaceAll("/", "~1")}` });
  }
  return undefined;
}

/** Scenario folders under `root`: every folder holding a scenario.yaml, by name. */
function discoverScenarios(root: string): string[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, d.name, SCENARIO_FILE)))
    .map((d) => join(root, d.name))
    .sort();
}

export interface InvalidScenario {
  readonly dir: string;
  readonly error: HarnessError;
}

export interface Corpus {
  readonly scenarios: readonly Scenario[];
  /** Folders that could not be loaded, each with why; the others still run. */
  readonly invalid: readonly InvalidScenario[];
}

/**
 * Every scenario under `root`. A folder that does not load is reported and skipped; two
 * folders with the same id are both refused (neither can be told apart in a report).
 */
export function loadCorpus(root: string): Corpus {
  if (!existsSync(root) || !lstatSync(root).isDirectory()) {
    throw new HarnessError(
      "SCENARIO_INVALID",
      `${root} is not a folder of scenario folders.`,
      "Point --scenarios at a folder whose subfolders hold scenario.yaml files.",
    );
  }
  const loaded: Scenario[] = [];
  const invalidScenarios: InvalidScenario[] = [];
  for (const dir of discoverScenarios(root)) {
    try {
      loaded.push(loadScenario(dir));
    } catch (err) {
      if (!(err instanceof HarnessError)) throw err;
      invalidScenarios.push({ dir, error: err });
    }
  }
  const byId = new Map<string, Scenario[]>();
  for (const s of loaded) byId.set(s.id, [...(byId.get(s.id) ?? []), s]);
  for (const [id, same] of byId) {
    if (same.length < 2) continue;
    for (const s of same) {
      const others = same.filter((o) => o !== s).map((o) => o.dir);
      invalidScenarios.push({
        dir: s.dir,
        error: invalid(s.file, [{ path: "id", message: `"${id}" is also the id of ${others.map(printable).join(", ")}; ids must be unique` }]),
      });
    }
  }
  const scenarios = loaded.filter((s) => (byId.get(s.id)?.length ?? 0) < 2);
  return { scenarios, invalid: invalidScenarios.sort((a, b) => a.dir.localeCompare(b.dir)) };
}
