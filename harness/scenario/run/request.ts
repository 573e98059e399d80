/**
 * A build step as a buildctl request: templates resolved, and every host path chosen by
 * the harness inside the scenario's work folder. References are checked once more against
 * the real registry host, so nothing but the test registry can be named even if a
 * template resolved to something unexpected.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { BuildRequest, CacheSpec, OutputSpec } from "../../buildkit/build-request.ts";
import { HarnessError } from "../../errors.ts";
import { parseDockerfile } from "../format/dockerfile.ts";
import { dockerfileProblems } from "../format/dockerfile-policy.ts";
import { inRegistry } from "../format/reference.ts";
import type { BuildStep, Output } from "../model.ts";
import { renderTemplate, type TemplateContext } from "../template.ts";

/** An output as it was requested: where the harness will find it afterwards. */
export interface PlannedOutput {
  readonly index: number;
  readonly type: Output["type"];
  /** The rendered image name (image/registry/oci/docker). */
  readonly name?: string;
  readonly push: boolean;
  /** Where the exporter writes (oci/docker/local/tar). */
  readonly dest?: string;
  /** oci/docker: a tarball (true) or a folder (tar=false). */
  readonly tarball: boolean;
}

export interface PlannedBuild {
  readonly request: BuildRequest;
  readonly outputs: readonly PlannedOutput[];
}

/** Where builds of one scenario attempt keep what the harness chose for them. */
export interface BuildPaths {
  /** The working copy of the scenario folder (contexts and templates are read from it). */
  readonly folder: string;
  /** A folder for everything the builds write. */
  readonly work: string;
}

function render(map: Readonly<Record<string, string>>, ctx: TemplateContext): Record<string, string> {
  return Object.fromEntries(Object.entries(map).map(([k, v]) => [k, renderTemplate(v, ctx)]));
}

export function inTestRegistry(reference: string, ctx: TemplateContext, what: string): string {
  if (!inRegistry(reference, ctx.registry)) {
    throw new HarnessError(
      "SCENARIO_INVALID",
      `${what} ${JSON.stringify(reference)} is not in the test registry ${ctx.registry}`,
      "Use {{registry}}/… for every image and cache.",
    );
  }
  return reference;
}

/** Writes `from` with its references resolved to `dest`; returns the text. */
async function renderedFile(from: string, ctx: TemplateContext, dest: string): Promise<string> {
  await mkdir(join(dest, ".."), { recursive: true });
  const text = renderTemplate(await readFile(from, "utf8"), ctx);
  await writeFile(dest, text);
  return text;
}

async function renderedPolicy(from: string, ctx: TemplateContext, dest: string): Promise<string> {
  await renderedFile(from, ctx, dest);
  return dest;
}

/** The loader's Dockerfile policy once more, on what is about to be built, against the real registry host. */
export function checkDockerfile(rendered: string, step: BuildStep, ctx: TemplateContext): void {
  const problems = dockerfileProblems(parseDockerfile(rendered), ctx.registry);
  if (problems.length > 0) {
    throw new HarnessError(
      "SCENARIO_INVALID",
      `the Dockerfile of build "${step.name}" (${step.dockerfile}) is refused: ${problems.map((p) => `line ${p.line}: ${p.message}`).join("; ")}`,
      "Builds may reach only the test registry; see scenarios/README.md.",
    );
  }
}

export async function planBuild(step: BuildStep, sequence: number, ctx: TemplateContext, paths: BuildPaths): Promise<PlannedBuild> {
  const dockerfileDir = join(paths.work, `build-${sequence}`);
  checkDockerfile(await renderedFile(join(paths.folder, step.dockerfile), ctx, join(dockerfileDir, "Dockerfile")), step, ctx);
  const cacheDir = (name: string) => join(paths.work, "caches", name);
  const importCache: CacheSpec[] = step.importCache.map((c) =>
    c.type === "registry"
      ? { type: "registry", attrs: { ref: inTestRegistry(renderTemplate(c.ref, ctx), ctx, "import cache"), ...render(c.attrs, ctx) } }
      : { type: "local", attrs: { src: cacheDir(c.name), ...render(c.attrs, ctx) } },
  );
  const exportCache: CacheSpec[] = step.exportCache.map((c) =>
    c.type === "inline"
      ? { type: "inline", attrs: render(c.attrs, ctx) }
      : c.type === "registry"
        ? { type: "registry", attrs: { ref: inTestRegistry(renderTemplate(c.ref, ctx), ctx, "export cache"), ...render(c.attrs, ctx) } }
        : { type: "local", attrs: { dest: cacheDir(c.name), ...render(c.attrs, ctx) } },
  );
  const planned: PlannedOutput[] = [];
  const outputs: OutputSpec[] = [];
  for (const [index, o] of step.outputs.entries()) {
    const attrs = render(o.attrs, ctx);
    const base = join(paths.work, "outputs", `${sequence}-${index}`);
    switch (o.type) {
      case "image":
      case "registry": {
        const name = inTestRegistry(renderTemplate(o.name, ctx), ctx, "output name");
        outputs.push({ type: o.type, attrs: { name, ...(o.type === "image" ? { push: String(o.push) } : {}), ...attrs } });
        planned.push({ index, type: o.type, name, push: o.push, tarball: false });
        break;
      }
      case "oci":
      case "docker": {
        const name = o.name !== undefined ? inTestRegistry(renderTemplate(o.name, ctx), ctx, "output name") : undefined;
        const tarball = attrs.tar !== "false";
        const dest = tarball ? `${base}.tar` : base;
        outputs.push({ type: o.type, attrs: { ...(name ? { name } : {}), ...attrs, dest } });
        planned.push({ index, type: o.type, ...(name ? { name } : {}), push: false, dest, tarball });
        break;
      }
      case "local":
      case "tar": {
        const dest = o.type === "tar" ? `${base}.tar` : base;
        outputs.push({ type: o.type, attrs: { ...attrs, dest } });
        planned.push({ index, type: o.type, push: false, dest, tarball: o.type === "tar" });
        break;
      }
    }
  }
  await mkdir(join(paths.work, "outputs"), { recursive: true });
  const request: BuildRequest = {
    frontend: "dockerfile.v0",
    locals: { context: join(paths.folder, step.context), dockerfile: dockerfileDir },
    // Builds run without network: RUN steps reach nothing, not even the test registry.
    frontendOpts: { ...render(step.frontendOpts, ctx), "force-network-mode": "none" },
    buildArgs: render(step.buildArgs, ctx),
    importCache,
    exportCache,
    outputs,
    noCache: step.noCache,
    metadataFile: join(paths.work, `metadata-${sequence}.json`),
    ...(step.sourcePolicy
      ? { sourcePolicyFile: await renderedPolicy(join(paths.folder, step.sourcePolicy), ctx, join(paths.work, `policy-${sequence}.json`)) }
      : {}),
  };
  return { request, outputs: planned };
}
