/**
 * Why two images of a failed digest assertion differ, explained while the test registry
 * still holds them (the next attempt or scenario replaces it). The explanation is an
 * observation attached to the outcome; it changes no verdict.
 */
import { log } from "../../log.ts";
import { RegistryRepository } from "../../oci/content-store.ts";
import { type Explanation, explainImages } from "../../oci/diff/index.ts";
import type { RegistryClient } from "../../oci/registry-client.ts";
import type { Platform } from "../../oci/types.ts";
import type { AssertionOutcome, ImageRef } from "../judge/outcome.ts";
import type { AttemptObservation, ImageObservation } from "../observation.ts";

function imageAt(observation: AttemptObservation, ref: ImageRef): ImageObservation | undefined {
  return observation.builds.find((b) => b.sequence === ref.sequence)?.outputs.find((o) => o.index === ref.output)?.image;
}

export async function explainDifferences(
  outcomes: readonly AssertionOutcome[],
  observation: AttemptObservation,
  registry: RegistryClient,
  platform: Platform,
): Promise<AssertionOutcome[]> {
  const cache = new Map<string, Promise<Explanation>>();
  const explained: AssertionOutcome[] = [];
  for (const outcome of outcomes) {
    const images = outcome.status === "fails" && outcome.differing ? outcome.differing.map((ref) => imageAt(observation, ref)) : [];
    const [a, b] = images;
    if (!a?.repository || !b?.repository) {
      explained.push(outcome);
      continue;
    }
    const key = `${a.location} ${b.location}`;
    let explanation = cache.get(key);
    if (!explanation) {
      const side = (image: ImageObservation) => ({
        store: new RegistryRepository(registry, image.repository!),
        reference: image.indexDigest ?? image.manifestDigest,
      });
      explanation = explainImages(side(a), side(b), { platform });
      cache.set(key, explanation);
    }
    try {
      const e = await explanation;
      explained.push({ ...outcome, actual: `${outcome.actual}; ${e.summary}`, explanation: e });
    } catch (err) {
      log("explain", `could not explain ${key}: ${(err as Error).message}`);
      explained.push(outcome);
    }
  }
  return explained;
}
