/**
 * What a build step can ask of a dockerd engine. `docker build` (POST /build) has one
 * image result, tagged in the engine's store and pushed from there; it imports cache only
 * from images (`--cache-from`) and exports it only inline (BUILDKIT_INLINE_CACHE=1), and
 * of the frontend options only a target. A scenario that runs on dockerd must say its
 * builds in those terms, so that both kinds of builder do the same thing.
 */
import type { BuildStep } from "../model.ts";

/** Frontend options the engine API has a parameter for. */
const ENGINE_FRONTEND_OPTS = new Set(["target"]);

/** One problem per field of `step` a dockerd build cannot express, keyed by the field's path below the step. */
export function dockerdBuildProblems(step: BuildStep): { field: string; message: string }[] {
  const problems: { field: string; message: string }[] = [];
  const [first, ...others] = step.outputs;
  if (others.length > 0 || first === undefined) problems.push({ field: "outputs", message: "a dockerd build has exactly one output: the image it tags" });
  if (first && !(first.type === "image" && first.push)) {
    problems.push({
      field: "output",
      message:
        'a dockerd build gives an image that the harness pushes and reads from the test registry: use { type: image, name: "{{registry}}/…", push: true }',
    });
  }
  if (first && Object.keys(first.attrs).length > 0) {
    problems.push({ field: "output", message: `exporter attributes (${Object.keys(first.attrs).join(", ")}) have no docker build equivalent` });
  }
  step.importCache.forEach((c, i) => {
    if (c.type !== "registry" || Object.keys(c.attrs).length > 0)
      problems.push({
        field: `importCache[${i}]`,
        message: "a dockerd build imports cache only from an image (--cache-from): { type: registry, ref } without attributes",
      });
  });
  step.exportCache.forEach((c, i) => {
    if (c.type !== "inline" || Object.keys(c.attrs).length > 0)
      problems.push({ field: `exportCache[${i}]`, message: "a dockerd build exports cache only inline (BUILDKIT_INLINE_CACHE=1): { type: inline }" });
  });
  for (const key of Object.keys(step.frontendOpts)) {
    if (!ENGINE_FRONTEND_OPTS.has(key)) problems.push({ field: `frontendOpts.${key}`, message: "a dockerd build takes only target among frontend options" });
  }
  if (step.sourcePolicy !== undefined) problems.push({ field: "sourcePolicy", message: "docker build has no source policy" });
  if ("BUILDKIT_INLINE_CACHE" in step.buildArgs) {
    problems.push({ field: "buildArgs.BUILDKIT_INLINE_CACHE", message: "say exportCache: [{ type: inline }]; the harness sets the build arg for dockerd" });
  }
  return problems;
}
