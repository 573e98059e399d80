import { resolve } from "node:path";
import { execa } from "execa";
import type { TestProject } from "vitest/node";

const ROOT = resolve(import.meta.dirname, "../..");
let prepared: Promise<void> | undefined;

/**
 * Global setup of every test project: the host gets what all projects of this vitest
 * run need (for `vitest run`, unit and e2e) in one plan, before the first test.
 */
export default function setup(project: TestProject): Promise<void> {
  prepared ??= execa(process.execPath, ["--import", "tsx", "test/setup/prepare-host.ts", ...project.vitest.projects.map((p) => p.name)], {
    cwd: ROOT,
    stdio: "inherit",
  }).then(() => undefined);
  return prepared;
}
