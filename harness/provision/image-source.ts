import { HarnessError } from "../errors.ts";
import { log } from "../log.ts";
import { inspectImage, tryPull } from "./docker-images.ts";
import { provisionHostPackages } from "./host-packages.ts";
import { planHostPackages } from "./host-plan.ts";
import { buildLocalImage, cachedLocalImage, type LocalImageSpec } from "./local-image.ts";

/** Where an image a run uses came from. Reports print this; a local build is never called official. */
export interface ProvisionedImage {
  /** What `docker run` is given: a digest-pinned official reference or a local tag. */
  readonly reference: string;
  readonly imageId: string;
  readonly source: "official" | "local-build";
  /** One line for people: e.g. "official moby/buildkit:v0.13.2@sha256:…" or "local build of github.com/moby/buildkit@v0.13.2 with go1.22.12". */
  readonly description: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** "auto": official when present or pullable, else a local build. Set with BUILDKIT_REPRO_IMAGES. */
export type ImageSourcePolicy = "auto" | "official" | "local";

export function imageSourcePolicy(): ImageSourcePolicy {
  const value = process.env.BUILDKIT_REPRO_IMAGES ?? "auto";
  if (value === "auto" || value === "official" || value === "local") return value;
  throw new HarnessError("IMAGE_PROVISION_FAILED", `BUILDKIT_REPRO_IMAGES=${value} is not one of auto, official, local.`, "Unset it or pick one of those.");
}

/** An image ready to use, or the local build that will make it. */
export type ImagePlan = { readonly ready: ProvisionedImage } | { readonly localBuild: LocalImageSpec };

/**
 * Resolves an image by policy without building anything: the official one pinned by
 * digest when it is here or can be pulled, else a local build made earlier with the same
 * recipe, else the local build still to do (whose host packages a caller plans first).
 */
export async function planImage(opts: {
  what: string;
  official: { repository: string; tag: string; digest: string | null };
  policy: ImageSourcePolicy;
  local: LocalImageSpec;
}): Promise<ImagePlan> {
  const { official, policy, what } = opts;
  if (policy !== "local") {
    if (official.digest) {
      const reference = `${official.repository}:${official.tag}@${official.digest}`;
      let image = await inspectImage(reference);
      let why = "";
      if (!image) {
        log("provision", `pulling official ${what} ${reference}`);
        const pulled = await tryPull(reference);
        if (pulled.ok) image = await inspectImage(reference);
        else why = pulled.reason;
      }
      if (image) {
        return { ready: { reference, imageId: image.Id, source: "official", description: `official ${reference}`, labels: image.Config?.Labels ?? {} } };
      }
      if (policy === "official") {
        throw new HarnessError(
          "IMAGE_PROVISION_FAILED",
          `The official ${what} ${reference} is not present and could not be pulled: ${why}`,
          "Check registry access, or set BUILDKIT_REPRO_IMAGES=auto to allow a local build.",
        );
      }
      log("provision", `official ${what} not available (${why}); using a local build`);
    } else if (policy === "official") {
      throw new HarnessError(
        "IMAGE_PROVISION_FAILED",
        `No official digest is pinned for ${what} ${official.repository}:${official.tag}.`,
        "Pin one in harness/provision/buildkit-versions.json (from public pinned references), or allow a local build.",
      );
    } else {
      log("provision", `no official digest pinned for ${what} ${official.repository}:${official.tag}; using a local build`);
    }
  }
  const cached = await cachedLocalImage(opts.local);
  return cached ? { ready: cached } : { localBuild: opts.local };
}

/** The image of a plan; a local build's host packages must already be installed. */
export function realizeImage(plan: ImagePlan): Promise<ProvisionedImage> {
  return "ready" in plan ? Promise.resolve(plan.ready) : buildLocalImage(plan.localBuild);
}

/** One image on its own: its plan, the host packages a local build needs, the build. */
export async function provisionPlannedImage(plan: ImagePlan): Promise<ProvisionedImage> {
  if ("localBuild" in plan) await provisionHostPackages(planHostPackages([plan.localBuild.activity]));
  return realizeImage(plan);
}
