import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type Explanation, explainImages, renderExplanationMarkdown, renderExplanationText } from "../../../../harness/oci/diff/index.ts";
import type { Manifest } from "../../../../harness/oci/types.ts";
import { BlobFolderStore } from "../../../tools/blob-folder.ts";

/**
 * Image pairs produced by corpus scenarios on real BuildKit daemons, recorded by
 * test/tools/capture-image-pairs.ts with only the blobs the explainer read. A blob the
 * explainer now wants and did not read then fails the test with "not recorded".
 */
const PAIRS = join(import.meta.dirname, "../../../fixtures/image-pairs");

interface Pair {
  scenario: string;
  buildkitVersion: string;
  a: { reference: string };
  b: { reference: string };
  mediaTypes: Record<string, string>;
}

async function explainPair(name: string): Promise<{ pair: Pair; store: BlobFolderStore; explanation: Explanation }> {
  const dir = join(PAIRS, name);
  const pair = JSON.parse(readFileSync(join(dir, "pair.json"), "utf8")) as Pair;
  const store = new BlobFolderStore(dir, pair.mediaTypes);
  const explanation = await explainImages({ store, reference: pair.a.reference }, { store, reference: pair.b.reference });
  return { pair, store, explanation };
}

function manifestOf(name: string, digest: string): Manifest {
  return JSON.parse(readFileSync(join(PAIRS, name, "blobs/sha256", digest.slice("sha256:".length)), "utf8")) as Manifest;
}

function recorded(name: string, digest: string): boolean {
  return existsSync(join(PAIRS, name, "blobs/sha256", digest.slice("sha256:".length)));
}

const entriesBy = (e: Explanation, cause: string) =>
  e.differences
    .filter((d) => d.cause === cause && d.entry !== undefined)
    .map((d) => `${d.layer}:${d.entry}`)
    .sort();

describe("moby/buildkit#3009 on v0.24.0: two rebuilds around the one where chains vanished", () => {
  const name = "chains-vanish-v0.24.0";

  it("finds only the inline cache's vanished chains, and reads no layer", async () => {
    const { pair, explanation } = await explainPair(name);
    expect(pair).toMatchObject({ scenario: "inline-cache-chains-vanish", buildkitVersion: "v0.24.0" });
    expect(explanation.result).toBe("different");
    // The scenario's note: the COPY --link record loses its `chains`; the layers never change.
    expect(explanation.levels).toEqual({ index: "absent", manifest: "different", config: "different", layers: "same" });
    expect(explanation.causes.map((c) => c.cause)).toEqual(["cache-metadata"]);
    expect(explanation.differences).toHaveLength(1);
    expect(explanation.differences[0]).toMatchObject({
      level: "config",
      change: "removed",
      subject: expect.stringMatching(/^moby\.buildkit\.cache\.v0 records\[[0-9a-f]{12}\]\.chains$/),
      note: "chains vanished",
    });
    expect(explanation.summary).toMatch(/^only cache metadata differs \(config moby\.buildkit\.cache\.v0 records\[[0-9a-f]{12}\]\.chains vanished\)$/);
    for (const side of [pair.a, pair.b]) for (const layer of manifestOf(name, side.reference).layers) expect(recorded(name, layer.digest)).toBe(false);
  });
});

describe("SOURCE_DATE_EPOCH without rewrite-timestamp on v0.12.5: two cold builds", () => {
  const name = "sde-mtimes-v0.12.5";

  it("finds only the mtimes of the RUN layer's entries: the new file and runc's mount points", async () => {
    const { pair, explanation } = await explainPair(name);
    expect(pair).toMatchObject({ scenario: "sde-plain-layer-mtimes", buildkitVersion: "v0.12.5" });
    expect(explanation.causes.map((c) => c.cause)).toEqual(["timestamp"]);
    // UPSTREAM.md §4: `hello` and the dev/ proc/ sys/ runc creates keep the build's wall clock;
    // the config's times are clamped to the epoch, so the config differs only in diff_ids.
    expect(entriesBy(explanation, "timestamp")).toEqual(["1:dev", "1:hello", "1:proc", "1:sys"]);
    expect(explanation.differences.every((d) => d.field === "mtime")).toBe(true);
    expect(explanation.differences.filter((d) => d.level === "config")).toEqual([]);
    expect(explanation.summary).toBe("only timestamps differ (4 entries in layer 1)");
    expect(explanation.layers.map((l) => l.status)).toEqual(["same", "different"]);
    const base = manifestOf(name, pair.a.reference).layers[0]!;
    expect(recorded(name, base.digest)).toBe(false);
  });
});

describe("a content change on v0.34.0: dockerignore-stabilises-copy without its .dockerignore", () => {
  const name = "context-change-v0.34.0";

  it("finds the two files whose content changed, beside the timestamps of the rebuilt steps", async () => {
    const { pair, explanation } = await explainPair(name);
    expect(pair).toMatchObject({ scenario: "dockerignore-stabilises-copy", buildkitVersion: "v0.34.0" });
    // .git/HEAD was rewritten between the builds (COPY . /app, layer 1), and the RUN after it
    // wrote 16 new random bytes (layer 2); nothing else in the build changes content.
    expect(entriesBy(explanation, "content")).toEqual(["1:app/.git/HEAD", "2:app/built-at-random"]);
    expect(explanation.causes.map((c) => c.cause)).toEqual(["timestamp", "content"]);
    expect(explanation.summary).toMatch(
      /^timestamps and content differ: timestamps \(config created, .*\); content \(1 entry in layer 1, 1 entry in layer 2\)$/,
    );
    expect(explanation.layers.map((l) => l.status)).toEqual(["same", "different", "different"]);
    expect(recorded(name, manifestOf(name, pair.a.reference).layers[0]!.digest)).toBe(false);
  });
});

describe("a provenance attestation on v0.34.0: two reproducible builds (rewrite-timestamp) with attest:provenance", () => {
  const name = "provenance-v0.34.0";

  it("finds only the attestation manifest in the index, and stops at the equal image manifest", async () => {
    const { pair, explanation } = await explainPair(name);
    expect(pair).toMatchObject({ scenario: "sde-rewrite-timestamp", buildkitVersion: "v0.34.0" });
    // UPSTREAM.md §5: provenance records build times SOURCE_DATE_EPOCH does not clamp, so the
    // index differs while the image manifest (reproducible with rewrite-timestamp) stays equal.
    expect(explanation.levels).toEqual({ index: "different", manifest: "same", config: "not-compared", layers: "not-compared" });
    expect(explanation.differences).toEqual([
      expect.objectContaining({
        level: "index",
        cause: "build-info",
        subject: "manifests[attestation of linux/amd64]",
        note: expect.stringContaining("although the manifest it attests is the same"),
      }),
    ]);
    expect(explanation.indexEntries?.find((x) => x.followed)).toMatchObject({ key: "linux/amd64", kind: "platform" });
    const recordedBlobs = readdirSync(join(PAIRS, name, "blobs/sha256"));
    expect(recordedBlobs).toHaveLength(3); // the two indexes and the one image manifest
  });
});

describe("renderers on the real pairs", () => {
  it("put the summary first and one line or row per difference", async () => {
    for (const name of readdirSync(PAIRS, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)) {
      const { explanation } = await explainPair(name);
      const text = renderExplanationText(explanation);
      const markdown = renderExplanationMarkdown(explanation);
      expect(text.split("\n")[0]).toBe(`different: ${explanation.summary}`);
      expect(markdown.split("\n")[0]).toBe(`**different**: ${explanation.summary.replace(/\|/g, "\\|")}`);
      const rows = markdown.split("\n").filter((l) => /^\| [-+~↕] \|/.test(l));
      expect(rows).toHaveLength(explanation.differences.length);
      for (const d of explanation.differences) expect(text).toContain(d.field ? `${d.subject} ${d.field}` : d.subject);
    }
  });

  it("keep the explanation JSON-serialisable without loss", async () => {
    const { explanation } = await explainPair("context-change-v0.34.0");
    expect(JSON.parse(JSON.stringify(explanation))).toEqual(explanation);
  });
});

describe("the recorded store", () => {
  it("refuses a blob that was not recorded, so reading more than at capture shows", async () => {
    const { store, pair } = await explainPair("chains-vanish-v0.24.0");
    const layer = manifestOf("chains-vanish-v0.24.0", pair.a.reference).layers[0]!;
    await expect(store.blob(layer.digest)).rejects.toThrow(/is not recorded/);
  });
});
