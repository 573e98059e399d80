import { HarnessError } from "../../errors.ts";
import { type ContentStore, platformString, readConfig, resolveImage } from "../content-store.ts";
import type { FetchedManifest } from "../registry-client.ts";
import { type Index, isIndex, type Manifest, type Platform } from "../types.ts";
import { compareConfigs } from "./config-diff.ts";
import { Findings } from "./findings.ts";
import { compareIndexes } from "./index-diff.ts";
import { compareLayers } from "./layer-diff.ts";
import { compareManifests } from "./manifest-diff.ts";
import { summarizeCauses } from "./summary.ts";
import {
  type DescriptorSummary,
  EXPLANATION_SCHEMA_VERSION,
  type ExplainLimits,
  type Explanation,
  type ExplanationError,
  type ImageSide,
  type IndexEntryComparison,
  type LayerComparison,
} from "./types.ts";

/** An image as the explainer reads it: where its content is, and a tag or digest there. */
export interface ImageReference {
  store: ContentStore;
  reference: string;
}

export interface ExplainOptions {
  /** The platform followed through indexes (default linux/amd64). */
  platform?: Platform;
  limits?: Partial<ExplainLimits>;
}

const DEFAULT_PLATFORM: Platform = { os: "linux", architecture: "amd64" };

export const DEFAULT_LIMITS: ExplainLimits = {
  maxLayerBytes: 64 * 1024 * 1024,
  maxEntryDifferences: 100,
  maxDocumentDifferences: 200,
  maxValueChars: 400,
};

/** Reads each manifest once, whether asked for by tag or by digest. */
class ManifestCache implements ContentStore {
  private readonly manifests = new Map<string, Promise<FetchedManifest>>();
  constructor(private readonly inner: ContentStore) {}

  get description(): string {
    return this.inner.description;
  }

  manifest(reference: string): Promise<FetchedManifest> {
    let fetched = this.manifests.get(reference);
    if (!fetched) {
      fetched = this.inner.manifest(reference);
      this.manifests.set(reference, fetched);
      fetched.then((m) => this.manifests.set(m.digest, fetched!)).catch(() => this.manifests.delete(reference));
    }
    return fetched;
  }

  blob(digest: string): Promise<Buffer> {
    return this.inner.blob(digest);
  }
}

const describe = (m: FetchedManifest): DescriptorSummary => ({ digest: m.digest, mediaType: m.mediaType, size: m.bytes.length });

/** The state of one explanation as it goes down the levels. */
class Walk {
  readonly findings: Findings;
  readonly a: ImageSide;
  readonly b: ImageSide;
  readonly levels: Explanation["levels"] = { index: "not-compared", manifest: "not-compared", config: "not-compared", layers: "not-compared" };
  indexEntries: IndexEntryComparison[] | undefined;
  layers: LayerComparison[] = [];
  same = false;

  constructor(
    readonly left: ImageReference,
    readonly right: ImageReference,
    readonly platform: Platform,
    readonly limits: ExplainLimits,
  ) {
    this.findings = new Findings(limits);
    this.a = { store: left.store.description, reference: left.reference };
    this.b = { store: right.store.description, reference: right.reference };
  }

  async run(): Promise<void> {
    const storeA = new ManifestCache(this.left.store);
    const storeB = new ManifestCache(this.right.store);
    const [topA, topB] = await Promise.all([storeA.manifest(this.left.reference), storeB.manifest(this.right.reference)]);
    const indexA = isIndex(topA.manifest);
    const indexB = isIndex(topB.manifest);
    if (indexA) this.a.index = describe(topA);
    if (indexB) this.b.index = describe(topB);
    if (topA.digest === topB.digest) {
      this.same = true;
      this.levels.index = indexA ? "same" : "absent";
      if (!indexA) {
        this.a.manifest = this.b.manifest = describe(topA);
        this.a.config = this.b.config = configOf(topA.manifest as Manifest);
        this.levels.manifest = "same";
      }
      return;
    }

    const [imageA, imageB] = await Promise.all([resolveImage(storeA, topA.digest, this.platform), resolveImage(storeB, topB.digest, this.platform)]);
    const [manifestA, manifestB] = await Promise.all([storeA.manifest(imageA.manifestDigest), storeB.manifest(imageB.manifestDigest)]);
    this.a.manifest = describe(manifestA);
    this.b.manifest = describe(manifestB);
    this.compareIndexLevel(topA, topB, imageA.manifestDigest, imageB.manifestDigest);
    if (manifestA.digest === manifestB.digest) {
      this.levels.manifest = "same";
      this.a.config = this.b.config = configOf(imageA.manifest);
      return;
    }

    this.levels.manifest = "different";
    compareManifests(
      { manifest: imageA.manifest, mediaType: manifestA.mediaType, bytes: manifestA.bytes },
      { manifest: imageB.manifest, mediaType: manifestB.mediaType, bytes: manifestB.bytes },
      this.findings,
      this.limits,
    );
    this.a.config = configOf(imageA.manifest);
    this.b.config = configOf(imageB.manifest);

    let diffIdsA: readonly string[] | undefined;
    let diffIdsB: readonly string[] | undefined;
    if (imageA.manifest.config.digest === imageB.manifest.config.digest) {
      this.levels.config = "same";
    } else {
      this.levels.config = "different";
      const [configA, configB] = await Promise.all([readConfig(storeA, imageA.manifest.config), readConfig(storeB, imageB.manifest.config)]);
      compareConfigs(configA, configB, this.findings, this.limits);
      diffIdsA = configA.config.rootfs?.diff_ids;
      diffIdsB = configB.config.rootfs?.diff_ids;
    }

    const layersA = imageA.manifest.layers;
    const layersB = imageB.manifest.layers;
    if (layersA.length === layersB.length && layersA.every((l, i) => l.digest === layersB[i]!.digest) && sameList(diffIdsA, diffIdsB)) {
      this.levels.layers = "same";
      this.layers = layersA.map((l, i) => ({ index: i, status: "same" as const, a: layerSide(l, diffIdsA?.[i]), b: layerSide(layersB[i]!, diffIdsB?.[i]) }));
      return;
    }
    // An equal config lists equal diff_ids, so a layer digest that differs under it is compression only.
    this.layers = await compareLayers(
      { store: storeA, descriptors: layersA, diffIds: diffIdsA },
      { store: storeB, descriptors: layersB, diffIds: diffIdsB },
      this.findings,
      this.limits,
      { configsEqual: this.levels.config === "same" },
    );
    this.levels.layers = this.layers.every((l) => l.status === "same") ? "same" : "different";
  }

  private compareIndexLevel(topA: FetchedManifest, topB: FetchedManifest, followedA: string, followedB: string): void {
    const indexA = isIndex(topA.manifest);
    const indexB = isIndex(topB.manifest);
    if (!indexA && !indexB) {
      this.levels.index = "absent";
      return;
    }
    this.levels.index = "different";
    if (indexA && indexB) {
      this.indexEntries = compareIndexes(
        { index: topA.manifest as Index, mediaType: topA.mediaType, bytes: topA.bytes, followed: followedA },
        { index: topB.manifest as Index, mediaType: topB.mediaType, bytes: topB.bytes, followed: followedB },
        this.findings,
        this.limits,
      );
      return;
    }
    const index = indexA ? topA : topB;
    this.findings.add({
      level: "index",
      cause: "other",
      change: indexA ? "removed" : "added",
      subject: "(index)",
      ...(indexA ? { before: index.digest } : { after: index.digest }),
      note: `${indexA ? "a" : "b"} names an index (${index.mediaType}), the other an image manifest; the index's ${platformString(this.platform)} manifest is compared`,
    });
  }
}

function configOf(manifest: Manifest): DescriptorSummary {
  return { digest: manifest.config.digest, mediaType: manifest.config.mediaType, size: manifest.config.size };
}

function layerSide(d: Manifest["layers"][number], diffId: string | undefined) {
  return { digest: d.digest, mediaType: d.mediaType, size: d.size, ...(diffId ? { diffId } : {}) };
}

function sameList(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

function errorOf(err: HarnessError): ExplanationError {
  return { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) };
}

/**
 * Explains why two images differ, level by level (index → manifest → config → layers →
 * tar entries), reading nothing below a level where they agree. Content that cannot be
 * read (missing, digest mismatch, unknown platform, unreadable layer) gives the result
 * "error" with what was compared so far; other exceptions are harness bugs and propagate.
 */
export async function explainImages(a: ImageReference, b: ImageReference, options: ExplainOptions = {}): Promise<Explanation> {
  const platform = options.platform ?? DEFAULT_PLATFORM;
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const walk = new Walk(a, b, platform, limits);
  let error: ExplanationError | undefined;
  try {
    await walk.run();
  } catch (err) {
    if (!(err instanceof HarnessError)) throw err;
    error = errorOf(err);
  }
  const findings = walk.findings;
  if (!error && !walk.same && findings.count === 0) {
    findings.add({ level: "manifest", cause: "other", change: "changed", subject: "(document)", note: "the digests differ, but no compared field does" });
  }
  const causes = findings.causes();
  const result = error ? "error" : walk.same ? "same" : "different";
  const topDigest = walk.a.index?.digest ?? walk.a.manifest?.digest;
  const summary = result === "error" ? `error: ${error!.message}` : result === "same" ? `same: both are ${topDigest}` : summarizeCauses(causes);
  return {
    schemaVersion: EXPLANATION_SCHEMA_VERSION,
    result,
    summary,
    platform: platformString(platform),
    a: walk.a,
    b: walk.b,
    levels: walk.levels,
    ...(walk.indexEntries ? { indexEntries: walk.indexEntries } : {}),
    layers: walk.layers,
    causes,
    differences: findings.listed,
    omittedDifferences: findings.omitted,
    limits,
    ...(error ? { error } : {}),
  };
}
