import { HOST_PACKAGES, type HostPackage, type PlannedPackage } from "./host-packages.ts";

/** Something a command will do on this host that needs Debian packages. */
export type HostActivity =
  /** install and start dockerd (no engine answers) */
  | "start-engine"
  /** compile buildkitd/buildctl and put them with the host's runc and busybox in an image */
  | "build-buildkit-image"
  /** put Debian's registry binary in an image */
  | "build-registry-image"
  /** the busybox base images scenarios build FROM */
  | "base-images"
  /** run the registry binary directly on the host (the registry client's tests) */
  | "serve-registry-on-host";

const NEEDS: Record<HostActivity, { readonly packages: readonly HostPackage[]; readonly what: string }> = {
  "start-engine": { packages: [HOST_PACKAGES.dockerEngine], what: "starting a Docker engine" },
  "build-buildkit-image": { packages: [HOST_PACKAGES.runc, HOST_PACKAGES.busyboxStatic], what: "building the BuildKit image locally" },
  "build-registry-image": { packages: [HOST_PACKAGES.registry], what: "building the registry image locally" },
  "base-images": { packages: [HOST_PACKAGES.busyboxStatic], what: "the busybox base images" },
  "serve-registry-on-host": { packages: [HOST_PACKAGES.registry], what: "a registry on the host" },
};

/** Every package the activities need, once each, in a stable order, with what needs it. */
export function planHostPackages(activities: Iterable<HostActivity>): PlannedPackage[] {
  const plan = new Map<string, { package: HostPackage; neededBy: string[] }>();
  for (const activity of new Set(activities)) {
    const { packages, what } = NEEDS[activity];
    for (const p of packages) {
      const entry = plan.get(p.name) ?? { package: p, neededBy: [] };
      entry.neededBy.push(what);
      plan.set(p.name, entry);
    }
  }
  return [...plan.values()].sort((a, b) => a.package.name.localeCompare(b.package.name));
}
