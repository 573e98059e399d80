/**
 * Synthetic observations for judging tests: the smallest BuildObservation, ImageObservation
 * and AttemptObservation that carry what an assertion reads, with everything else empty.
 */
import { createHash } from "node:crypto";
import type { LayerEntry } from "../../../../harness/oci/layer-entries.ts";
import type { ImageConfig, Index, Manifest } from "../../../../harness/oci/types.ts";
import type {
  AttemptObservation,
  BaseImageObservation,
  BuildObservation,
  ImageObservation,
  ListedLayer,
  OutputObservation,
  StepObservation,
} from "../../../../harness/scenario/observation.ts";

/** A digest that reads as its seed in messages (which show the first 12 hex digits). */
export const digest = (seed: string | number): string => `sha256:${String(seed).padEnd(64, "0")}`;

/** A regular file (or another type) as the layer reader lists it. */
export function entry(name: string, options: { type?: LayerEntry["type"]; mtime?: number; content?: string; linkname?: string } = {}): LayerEntry {
  const type = options.type ?? "file";
  const mtime = options.mtime ?? 0;
  return {
    name,
    type,
    mode: type === "directory" ? 0o755 : 0o644,
    uid: 0,
    gid: 0,
    mtime: new Date(mtime * 1000).toISOString().replace(".000Z", "Z"),
    mtimeEpochSeconds: mtime,
    size: options.content?.length ?? 0,
    ...(type === "file" ? { contentDigest: digest(options.content ?? "") } : {}),
    ...(options.linkname !== undefined ? { linkname: options.linkname } : {}),
  };
}

/** `.wh.<base>` deleting `path`. */
export function whiteoutEntry(path: string, mtime = 0): LayerEntry {
  const slash = path.lastIndexOf("/");
  const name = slash === -1 ? `.wh.${path}` : `${path.slice(0, slash)}/.wh.${path.slice(slash + 1)}`;
  return { ...entry(name, { mtime }), whiteout: { kind: "file", target: path } };
}

export function layer(entries: readonly LayerEntry[], options: { fromBaseImage?: boolean } = {}): ListedLayer {
  const id = createHash("sha256").update(JSON.stringify(entries)).digest("hex");
  return { digest: `sha256:${id}`, entries, fromBaseImage: options.fromBaseImage ?? false };
}

export interface ImageSpec {
  readonly manifestDigest?: string;
  readonly configDigest?: string;
  readonly indexDigest?: string;
  readonly index?: Index;
  readonly config?: Partial<ImageConfig> & Record<string, unknown>;
  readonly manifest?: Partial<Manifest>;
  readonly layers?: readonly ListedLayer[];
  readonly inlineCache?: ImageObservation["inlineCache"];
}

export function image(spec: ImageSpec = {}): ImageObservation {
  const layers = spec.layers ?? [];
  const config: ImageConfig = {
    architecture: "amd64",
    os: "linux",
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId ?? l.digest) },
    ...spec.config,
  } as ImageConfig;
  const manifest: Manifest = {
    schemaVersion: 2,
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: spec.configDigest ?? digest("c"), size: 1 },
    layers: layers.map((l) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: l.digest, size: 100 })),
    ...spec.manifest,
  };
  return {
    source: "registry",
    location: "registry:5000/s@sha256:…",
    ...(spec.indexDigest !== undefined ? { indexDigest: spec.indexDigest } : {}),
    ...(spec.index !== undefined ? { index: spec.index } : {}),
    manifestDigest: spec.manifestDigest ?? digest("m"),
    manifest,
    configDigest: spec.configDigest ?? digest("c"),
    config,
    ...(spec.inlineCache !== undefined ? { inlineCache: spec.inlineCache } : {}),
    layers,
  };
}

export function step(text: string, cached: boolean, vertices = 1, cachedVertices = cached ? vertices : 0): StepObservation {
  return { step: text, cached, vertices, cachedVertices };
}

export interface BuildSpec {
  readonly sequence: number;
  readonly iteration?: number;
  readonly exitCode?: number;
  readonly error?: string;
  readonly crash?: BuildObservation["crash"];
  readonly steps?: readonly StepObservation[];
  readonly metadata?: Record<string, unknown>;
  /** Shorthand for one pushed image output. */
  readonly image?: ImageObservation;
  readonly outputs?: readonly OutputObservation[];
}

export function build(name: string, spec: BuildSpec): BuildObservation {
  const failed = (spec.exitCode ?? 0) !== 0;
  const outputs = spec.outputs ?? (spec.image ? [{ index: 0, type: "image" as const, image: spec.image }] : []);
  return {
    build: name,
    ...(spec.iteration !== undefined ? { iteration: spec.iteration } : {}),
    sequence: spec.sequence,
    command: ["buildctl", "build"],
    exitCode: spec.exitCode ?? 0,
    ...(spec.error !== undefined ? { error: spec.error } : {}),
    ...(spec.crash ? { crash: spec.crash } : {}),
    wallMs: 100,
    metadata: spec.metadata ?? (failed ? {} : { "containerimage.digest": digest("m") }),
    steps: spec.steps ?? [],
    warnings: [],
    outputs: failed ? [] : outputs,
  };
}

/** Runs of one build in a repeat: sequence and iteration 1..n, one image each. */
export function runs(name: string, images: readonly ImageObservation[], from = 1): BuildObservation[] {
  return images.map((img, i) => build(name, { sequence: from + i, iteration: i + 1, image: img }));
}

export function attempt(
  builds: readonly BuildObservation[],
  extra: { baseImages?: Record<string, BaseImageObservation>; stoppedEarly?: string } = {},
): AttemptObservation {
  return {
    baseImages: extra.baseImages ?? {},
    builds,
    events: [],
    daemons: [],
    ...(extra.stoppedEarly !== undefined ? { stoppedEarly: extra.stoppedEarly } : {}),
    wallMs: 1000,
    buildctlWallMs: 800,
  };
}
