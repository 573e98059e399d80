/**
 * Time to explain the recorded real image pairs (test/fixtures/image-pairs, read from disk
 * with every digest verified), and one synthetic pair large enough to show the limits at
 * work: a 10,000-entry layer in which every mtime differs. Printed, not asserted.
 *
 *   npm run bench:explain [-- --runs N]
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { ContentStore } from "../harness/oci/content-store.ts";
import { explainImages, renderExplanationMarkdown } from "../harness/oci/diff/index.ts";
import { BlobFolderStore } from "../test/tools/blob-folder.ts";
import { EPOCH, MemoryStore, putImage, tar } from "../test/unit/oci/diff/synthetic-image.ts";

const { values } = parseArgs({ options: { runs: { type: "string", default: "30" } } });
const runs = Number(values.runs);
const PAIRS = join(import.meta.dirname, "../test/fixtures/image-pairs");

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

async function measure(name: string, a: { store: ContentStore; reference: string }, b: { store: ContentStore; reference: string }): Promise<void> {
  const explain: number[] = [];
  const render: number[] = [];
  let summary = "";
  let listed = 0;
  let omitted = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const e = await explainImages(a, b);
    const t1 = performance.now();
    renderExplanationMarkdown(e);
    render.push(performance.now() - t1);
    explain.push(t1 - t0);
    summary = e.summary;
    listed = e.differences.length;
    omitted = e.omittedDifferences;
  }
  const ms = (x: number) => x.toFixed(2).padStart(7);
  process.stdout.write(
    `${name.padEnd(28)} explain median ${ms(percentile(explain, 0.5))} ms  p90 ${ms(percentile(explain, 0.9))} ms  ` +
      `markdown median ${ms(percentile(render, 0.5))} ms  (${listed} listed, ${omitted} counted only)\n  ${summary.slice(0, 150)}\n`,
  );
}

process.stdout.write(`difference explainer, ${runs} runs per pair (first run included)\n`);
for (const name of readdirSync(PAIRS, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort()) {
  const dir = join(PAIRS, name);
  const pair = JSON.parse(readFileSync(join(dir, "pair.json"), "utf8")) as {
    a: { reference: string };
    b: { reference: string };
    mediaTypes: Record<string, string>;
  };
  const store = new BlobFolderStore(dir, pair.mediaTypes);
  await measure(name, { store, reference: pair.a.reference }, { store, reference: pair.b.reference });
}

const store = new MemoryStore();
const names = Array.from({ length: 10_000 }, (_, i) => `usr/share/file-${String(i).padStart(5, "0")}`);
const a = putImage(store, { layers: [{ tar: await tar(names.map((name) => ({ name, content: name }))), gzip: 6 }] });
const b = putImage(store, { layers: [{ tar: await tar(names.map((name) => ({ name, content: name, mtime: EPOCH + 1 }))), gzip: 6 }] });
await measure("synthetic 10k-entry layer", { store, reference: a.digest }, { store, reference: b.digest });
