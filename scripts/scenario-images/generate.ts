/**
 * Writes every scenario-local base image archive (`scenarios/<scenario>/images/<name>.tar`)
 * from the recipes in images.ts. Deterministic: running it again gives the same bytes with
 * the same zlib (see images.ts).
 *
 *   npx tsx scripts/scenario-images/generate.ts
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { digestOf } from "../../harness/oci/digest.ts";
import { SCENARIO_IMAGES, scenarioImageArchive, scenarioImageDocuments } from "./images.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "../../scenarios");
for (const image of SCENARIO_IMAGES) {
  const archive = scenarioImageArchive(image);
  const docs = scenarioImageDocuments(image);
  for (const scenario of image.scenarios) {
    const path = join(root, scenario, "images", `${image.name}.tar`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, archive);
    process.stdout.write(`${path}: ${archive.length} bytes, manifest ${docs.manifestDigest}, layer ${digestOf(docs.blobs[0]!)}\n`);
  }
}
