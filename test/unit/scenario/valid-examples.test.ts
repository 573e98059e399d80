import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { openImageArchive } from "../../../harness/oci/archive/open.ts";
import { loadScenario, SCENARIO_FILE } from "../../../harness/scenario/load.ts";

/**
 * The worked examples of CONTRIBUTING.md, as real scenario folders: each must load, each
 * image it ships must be a real image archive, and CONTRIBUTING.md must show its
 * scenario.yaml as it is here (without the editor's schema line), so the guide cannot
 * drift from what the loader accepts.
 */
const EXAMPLES = resolve(import.meta.dirname, "../../fixtures/valid-examples");
const GUIDE = resolve(import.meta.dirname, "../../../CONTRIBUTING.md");

const names = readdirSync(EXAMPLES, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

describe("worked examples of CONTRIBUTING.md", () => {
  it("are the four the guide promises", () => {
    expect(names).toEqual(["base-layer-unchanged", "build-error-as-known-bug", "own-base-image", "two-outputs"]);
  });

  it.for(names)("%s loads", async (name) => {
    const dir = join(EXAMPLES, name);
    const scenario = loadScenario(dir);
    for (const image of scenario.images) {
      const archive = await openImageArchive(join(dir, image.path), { description: image.path });
      expect(archive.images.length, `${image.path} holds no image`).toBeGreaterThan(0);
    }
  });

  it.for(names)("%s is shown in CONTRIBUTING.md as it is", (name) => {
    const yaml = readFileSync(join(EXAMPLES, name, SCENARIO_FILE), "utf8")
      .split("\n")
      .filter((line) => !line.startsWith("# yaml-language-server:"))
      .join("\n");
    expect(readFileSync(GUIDE, "utf8")).toContain(`\`\`\`yaml\n${yaml}\`\`\``);
  });

  it("cover what the guide says they cover", () => {
    const load = (name: string) => loadScenario(join(EXAMPLES, name));
    const error = load("build-error-as-known-bug");
    expect(error.assertions.find((a) => a.kind === "build-succeeds")).toBeDefined();
    expect(error.knownBugs.some((b) => b.explains.some((e) => e.actualContains !== undefined))).toBe(true);
    const two = load("two-outputs");
    expect(two.steps.some((s) => s.kind === "build" && s.outputs.length === 2)).toBe(true);
    expect(load("own-base-image").images.map((i) => i.path)).toEqual(["images/unpadded.tar"]);
    expect(load("base-layer-unchanged").assertions.map((a) => a.kind)).toEqual(["layer-from-base", "layer-from-base"]);
  });
});
