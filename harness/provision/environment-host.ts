import { planBuildkitImage } from "./buildkit-image.ts";
import { assertCanStartEngine, type EngineInfo, ensureEngine, pingEngine } from "./engine.ts";
import { provisionHostPackages } from "./host-packages.ts";
import { type HostActivity, planHostPackages } from "./host-plan.ts";
import { type ImagePlan, imageSourcePolicy } from "./image-source.ts";
import { planRegistryImage } from "./registry-image.ts";
import { sweepLegacyRootfsDirs } from "./rootfs-dir.ts";

export interface PreparedHost {
  readonly engine: EngineInfo;
  readonly buildkit: ImagePlan;
  readonly registry: ImagePlan;
}

function localBuilds(...plans: ImagePlan[]): HostActivity[] {
  return plans.flatMap((p) => ("localBuild" in p ? [p.localBuild.activity] : []));
}

/**
 * Everything the host needs before `version`'s environment can start: an engine, and the
 * Debian packages of whatever will be built locally, installed in one go before any build
 * starts. `also` adds activities of the caller's own (a test suite's).
 *
 * With an engine answering, images are resolved first (present, pulled, or a local build
 * of the same recipe), so only the builds still to do are planned. Without one nothing
 * can be inspected or pulled yet, so the plan covers every local build the image policy
 * allows; on an online machine that may install a package a pull later makes unneeded.
 */
export async function prepareEnvironmentHost(version: string, also: readonly HostActivity[] = []): Promise<PreparedHost> {
  await sweepLegacyRootfsDirs();
  if (!(await pingEngine())) {
    assertCanStartEngine();
    const possibleBuilds: HostActivity[] = imageSourcePolicy() === "official" ? [] : ["build-buildkit-image", "build-registry-image"];
    await provisionHostPackages(planHostPackages(["start-engine", "base-images", ...possibleBuilds, ...also]));
  }
  const engine = await ensureEngine();
  const buildkit = await planBuildkitImage(version);
  const registry = await planRegistryImage();
  await provisionHostPackages(planHostPackages(["base-images", ...localBuilds(buildkit, registry), ...also]));
  return { engine, buildkit, registry };
}
