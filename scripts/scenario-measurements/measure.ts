/**
 * Replays the builds of five scenarios (rewrite-timestamp-padded-base-layer,
 * rewrite-timestamp-push-base-only, sde-base-image-history, two-outputs-agree,
 * oci-layout-dir-and-docker-tar) by hand on real BuildKit daemons and prints what it saw,
 * as JSON lines: the measurements behind their EVIDENCE.md, made while they were drafts
 * the scenario format could not say yet (raw output in 2026-12-02/). `npm run repro -- run`
 * is how they run now; this replays them outside the harness's judge:
 * each version gets a harness environment (registry + buildkitd, built-in base images),
 * the drafts' `images/*.tar` are pushed with pushArchiveImage, every build starts on a
 * fresh builder, and pushed images and OCI/docker outputs are read with observeImage /
 * observeImageOutput.
 *
 *   npx tsx scripts/scenario-measurements/measure.ts --version v0.13.1 --version v0.13.2 [--case NAME]... [--keep]
 *
 * --keep leaves the outputs (OCI layouts, tars) in the printed work directory.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { OutputSpec } from "../../harness/buildkit/build-request.ts";
import { Buildctl } from "../../harness/buildkit/buildctl.ts";
import type { BuildkitEnvironment } from "../../harness/environment/environment.ts";
import { openImageArchive } from "../../harness/oci/archive/open.ts";
import { type PushedArchiveImage, pushArchiveImage } from "../../harness/oci/archive/push.ts";
import { observeImageOutput } from "../../harness/oci/build-output.ts";
import { RegistryRepository } from "../../harness/oci/content-store.ts";
import { type ImageObservation, type LayerObservation, observeImage, sameLayerBlob } from "../../harness/oci/image-observation.ts";
import { RegistryClient } from "../../harness/oci/registry-client.ts";
import { startToolEnvironment } from "../../harness/tools/environment.ts";

const DRAFTS = join(dirname(fileURLToPath(import.meta.url)), "../../scenarios");

interface Context {
  readonly version: string;
  readonly env: BuildkitEnvironment;
  readonly client: RegistryClient;
  /** name → digest-pinned reference as the daemon sees it. */
  readonly images: Map<string, string>;
  /** name → what was pushed (scenario-local images only). */
  readonly local: Map<string, PushedArchiveImage>;
  readonly work: string;
}

interface BuildOutcome {
  readonly exitCode: number;
  readonly error?: string;
  readonly daemonLog?: string[];
  readonly metadata: Record<string, unknown>;
  readonly command: readonly string[];
}

function emit(record: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(record)}\n`);
}

function layerSummary(layer: LayerObservation | undefined) {
  return layer && { digest: layer.digest, size: layer.size, mediaType: layer.mediaType, ...(layer.annotations ? { annotations: layer.annotations } : {}) };
}

async function pushDraftImages(ctx: Omit<Context, "images" | "local">, builtIn: Map<string, string>) {
  const images = new Map(builtIn);
  const local = new Map<string, PushedArchiveImage>();
  for (const scenario of await readdir(DRAFTS)) {
    const dir = join(DRAFTS, scenario, "images");
    const files = await readdir(dir).catch(() => [] as string[]);
    for (const file of files.filter((f) => f.endsWith(".tar"))) {
      const name = file.slice(0, -".tar".length);
      if (local.has(name)) continue;
      const archive = await openImageArchive(join(dir, file), { description: `${scenario}/images/${file}` });
      const pushed = await pushArchiveImage(ctx.client, archive, { repo: `draft/${name}` });
      local.set(name, pushed);
      images.set(name, `${ctx.env.registry.hostInNetwork}/${pushed.repo}@${pushed.digest}`);
    }
  }
  return { images, local };
}

async function build(ctx: Context, draft: string, dockerfile: string, buildArgs: Record<string, string>, outputs: OutputSpec[]): Promise<BuildOutcome> {
  await ctx.env.freshBuilder();
  const dir = join(DRAFTS, draft);
  const rendered = (await readFile(join(dir, dockerfile), "utf8")).replace(/\{\{\s*image:([A-Za-z0-9._-]+)\s*\}\}/g, (_, name: string) => {
    const ref = ctx.images.get(name);
    if (!ref) throw new Error(`no image ${name}`);
    return ref;
  });
  const dockerfileDir = await mkdtemp(join(ctx.work, "dockerfile-"));
  await writeFile(join(dockerfileDir, "Dockerfile"), rendered);
  const buildctl = new Buildctl({ binary: ctx.env.description.buildctl.path, addr: ctx.env.daemon.addr, clientVersion: ctx.env.description.buildctl.version });
  const result = await buildctl.build({
    frontend: "dockerfile.v0",
    locals: { context: join(dir, "context"), dockerfile: dockerfileDir },
    frontendOpts: {},
    buildArgs,
    importCache: [],
    exportCache: [],
    outputs,
    metadataFile: join(dockerfileDir, "metadata.json"),
  });
  // A dropped connection means the daemon died: keep the end of its log (a panic's first lines).
  const daemonLog = result.error?.includes("code = Unavailable") ? await daemonLogTail(ctx) : undefined;
  return {
    exitCode: result.exitCode,
    ...(result.error ? { error: result.error } : {}),
    ...(daemonLog ? { daemonLog } : {}),
    metadata: result.metadata,
    command: result.command,
  };
}

async function daemonLogTail(ctx: Context): Promise<string[]> {
  const stream = await ctx.env.daemon.container.logs();
  const chunks: string[] = [];
  await new Promise<void>((resolve) => {
    stream.on("data", (c: Buffer | string) => chunks.push(c.toString()));
    stream.on("end", () => resolve());
    setTimeout(resolve, 2000);
  });
  const lines = chunks.join("").split("\n");
  const panic = lines.findIndex((l) => l.startsWith("panic:"));
  return panic === -1 ? lines.slice(-15) : lines.slice(panic, panic + 25);
}

function pushedRepo(ctx: Context, name: string): RegistryRepository {
  return new RegistryRepository(ctx.client, name);
}

function imageSummary(o: ImageObservation) {
  return {
    digest: o.digest,
    manifestDigest: o.manifestDigest,
    manifestMediaType: o.manifestMediaType,
    configDigest: o.configDigest,
    layers: o.layers.map(layerSummary),
    history: o.config.history?.map((h) => h.created),
  };
}

/** moby/buildkit#4805: is the base layer carried unchanged into a rewrite-timestamp=true result? */
async function paddedBaseLayer(ctx: Context): Promise<void> {
  const draft = "rewrite-timestamp-padded-base-layer";
  for (const base of ["unpadded", "padded", "quirky"]) {
    const baseLayer = ctx.local.get(base)!.layers[0]!;
    for (const rewrite of [true, false]) {
      const repo = `out/4805-${base}-${rewrite ? "rewrite" : "plain"}`;
      const ociDest = join(ctx.work, `${repo.replaceAll("/", "_")}.tar`);
      const attrs: Record<string, string> = rewrite ? { "rewrite-timestamp": "true" } : {};
      const pushed = await build(ctx, draft, `${base}.Dockerfile`, { SOURCE_DATE_EPOCH: "0" }, [
        { type: "image", attrs: { name: `${ctx.env.registry.hostInNetwork}/${repo}:latest`, push: "true", ...attrs } },
      ]);
      const oci = await build(ctx, draft, `${base}.Dockerfile`, { SOURCE_DATE_EPOCH: "0" }, [{ type: "oci", attrs: { dest: ociDest, ...attrs } }]);
      const record: Record<string, unknown> = { case: "padded-base-layer", version: ctx.version, base, rewriteTimestamp: rewrite, baseLayer0: baseLayer };
      if (pushed.exitCode === 0) {
        const image = await observeImage(pushedRepo(ctx, repo), "latest", { entries: (_, i) => i === 0 });
        record.pushed = {
          sameBlobAsBase: sameLayerBlob(image.layers[0]!, baseLayer, "equivalent"),
          sameMediaTypeAsBase: image.layers[0]!.mediaType === baseLayer.mediaType,
          layer0: layerSummary(image.layers[0]),
          layer0Mtimes: [...new Set(image.layers[0]!.entries!.map((e) => e.mtime))],
          history: image.config.history?.map((h) => h.created),
          manifestDigest: image.manifestDigest,
        };
      } else record.pushed = { exitCode: pushed.exitCode, error: pushed.error };
      if (oci.exitCode === 0) {
        const out = await observeImageOutput(ociDest, { entries: (_, i) => i === 0 });
        const image = out.images[0]!;
        record.oci = {
          sameBlobAsBase: sameLayerBlob(image.layers[0]!, baseLayer, "equivalent"),
          sameMediaTypeAsBase: image.layers[0]!.mediaType === baseLayer.mediaType,
          layer0: layerSummary(image.layers[0]),
          layer0Mtimes: [...new Set(image.layers[0]!.entries!.map((e) => e.mtime))],
          manifestDigest: image.manifestDigest,
        };
      } else record.oci = { exitCode: oci.exitCode, error: oci.error };
      emit(record);
    }
  }
}

/** moby/buildkit#4793 / #5008: push=true with rewrite-timestamp=true of an image that adds no layer. */
async function pushBaseOnly(ctx: Context): Promise<void> {
  const draft = "rewrite-timestamp-push-base-only";
  for (const dockerfile of ["Dockerfile", "copy.Dockerfile"]) {
    for (const rewrite of [true, false]) {
      const repo = `out/4793-${dockerfile.toLowerCase().replace(".", "-")}-${rewrite}`;
      const outcome = await build(ctx, draft, dockerfile, { SOURCE_DATE_EPOCH: "0" }, [
        {
          type: "image",
          attrs: { name: `${ctx.env.registry.hostInNetwork}/${repo}:latest`, push: "true", ...(rewrite ? { "rewrite-timestamp": "true" } : {}) },
        },
      ]);
      const record: Record<string, unknown> = {
        case: "push-base-only",
        version: ctx.version,
        dockerfile,
        rewriteTimestamp: rewrite,
        exitCode: outcome.exitCode,
      };
      if (outcome.error) record.error = outcome.error;
      if (outcome.daemonLog) record.daemonLog = outcome.daemonLog;
      if (outcome.exitCode === 0) record.image = imageSummary(await observeImage(pushedRepo(ctx, repo), "latest"));
      emit(record);
    }
  }
}

/** Two outputs of one build (v0.13.0+): a pushed image and an OCI tar must describe the same image. */
async function twoOutputs(ctx: Context): Promise<void> {
  const draft = "two-outputs-agree";
  const variants: Array<{ rewrite: boolean; ociMediaTypes?: string }> = [{ rewrite: false }, { rewrite: true }, { rewrite: false, ociMediaTypes: "true" }];
  for (const { rewrite, ociMediaTypes } of variants) {
    const repo = `out/two-outputs-${rewrite}-${ociMediaTypes ?? "default"}`;
    const ociDest = join(ctx.work, `two-outputs-${rewrite}-${ociMediaTypes ?? "default"}.tar`);
    const extra: Record<string, string> = rewrite ? { "rewrite-timestamp": "true" } : {};
    const mediaTypes: Record<string, string> = ociMediaTypes ? { "oci-mediatypes": ociMediaTypes } : {};
    const outcome = await build(ctx, draft, "Dockerfile", { SOURCE_DATE_EPOCH: "0" }, [
      { type: "image", attrs: { name: `${ctx.env.registry.hostInNetwork}/${repo}:latest`, push: "true", ...extra, ...mediaTypes } },
      { type: "oci", attrs: { dest: ociDest, ...extra } },
    ]);
    const record: Record<string, unknown> = {
      case: "two-outputs",
      version: ctx.version,
      rewriteTimestamp: rewrite,
      imageOciMediaTypes: ociMediaTypes ?? "default",
      exitCode: outcome.exitCode,
    };
    if (outcome.error) record.error = outcome.error;
    if (outcome.exitCode === 0) {
      const pushed = imageSummary(await observeImage(pushedRepo(ctx, repo), "latest"));
      const oci = imageSummary((await observeImageOutput(ociDest)).images[0]!);
      record.metadataDigest = outcome.metadata["containerimage.digest"];
      record.pushed = pushed;
      record.oci = oci;
      record.manifestsAgree = pushed.manifestDigest === oci.manifestDigest;
    }
    emit(record);
  }
  // moby/buildkit#5556: an OCI layout directory and a docker tar from one build; with
  // oci-mediatypes=false the two exporters' manifests differ on every version.
  for (const dockerMediaTypes of [undefined, "false"]) {
    await ociDirAndDocker(ctx, "oci-layout-dir-and-docker-tar", dockerMediaTypes);
  }
}

async function ociDirAndDocker(ctx: Context, draft: string, ociMediaTypes: string | undefined): Promise<void> {
  const layoutDir = await mkdtemp(join(ctx.work, "oci-dir-"));
  const dockerTar = `${layoutDir}.docker.tar`;
  const outcome = await build(ctx, draft, "Dockerfile", {}, [
    { type: "oci", attrs: { dest: layoutDir, tar: "false" } },
    { type: "docker", attrs: { dest: dockerTar, name: "two-outputs:latest", ...(ociMediaTypes ? { "oci-mediatypes": ociMediaTypes } : {}) } },
  ]);
  const record: Record<string, unknown> = {
    case: "oci-dir-and-docker",
    version: ctx.version,
    dockerOciMediaTypes: ociMediaTypes ?? "default",
    exitCode: outcome.exitCode,
  };
  if (outcome.error) record.error = outcome.error;
  for (const [key, path] of [
    ["ociDir", layoutDir],
    ["docker", dockerTar],
  ] as const) {
    if (outcome.exitCode !== 0) break;
    try {
      const out = await observeImageOutput(path);
      record[key] = { format: out.format, names: out.images.map((i) => i.names), ...imageSummary(out.images[0]!) };
    } catch (err) {
      record[key] = { refused: (err as Error).message };
    }
  }
  emit(record);
}

/** moby/buildkit#4614 / #4663: SOURCE_DATE_EPOCH must not rewrite the base image's history dates. */
async function baseHistory(ctx: Context): Promise<void> {
  const repo = "out/base-history";
  const outcome = await build(ctx, "sde-base-image-history", "Dockerfile", { SOURCE_DATE_EPOCH: "0" }, [
    { type: "image", attrs: { name: `${ctx.env.registry.hostInNetwork}/${repo}:latest`, push: "true" } },
  ]);
  const record: Record<string, unknown> = { case: "base-history", version: ctx.version, exitCode: outcome.exitCode };
  if (outcome.error) record.error = outcome.error;
  if (outcome.exitCode === 0) {
    const image = await observeImage(pushedRepo(ctx, repo), "latest");
    const base = await observeImage(pushedRepo(ctx, ctx.local.get("unpadded")!.repo), "latest");
    record.baseHistory = base.config.history;
    record.history = image.config.history;
    record.created = image.config.created;
  }
  emit(record);
}

const CASES: Record<string, (ctx: Context) => Promise<void>> = {
  "base-history": baseHistory,
  "padded-base-layer": paddedBaseLayer,
  "push-base-only": pushBaseOnly,
  "two-outputs": twoOutputs,
};

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const versions = args.flatMap((a, i) => (args[i - 1] === "--version" ? [a] : []));
  const wanted = args.flatMap((a, i) => (args[i - 1] === "--case" ? [a] : []));
  const keep = args.includes("--keep");
  const cases = Object.entries(CASES).filter(([name]) => wanted.length === 0 || wanted.includes(name));
  for (const version of versions) {
    const { env, images: builtIn } = await startToolEnvironment(version);
    const work = await mkdtemp(join(tmpdir(), "draft-measure-"));
    try {
      const client = new RegistryClient(env.registry.urlFromHost);
      const base = { version, env, client, work };
      const { images, local } = await pushDraftImages(base, builtIn);
      for (const [name, pushed] of local) emit({ case: "pushed-image", version, name, ...pushed });
      for (const [, run] of cases) {
        if (!/^v0\.(1[3-9]|[2-9]\d)\./.test(version) && run === twoOutputs) continue; // several outputs: v0.13.0+
        await run({ ...base, images, local });
      }
    } finally {
      await env.stop();
      if (keep) process.stderr.write(`outputs kept in ${work}\n`);
      else await rm(work, { recursive: true, force: true });
    }
  }
}

await main();
