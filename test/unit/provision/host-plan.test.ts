import { describe, expect, it } from "vitest";
import { HOST_PACKAGES } from "../../../harness/provision/host-packages.ts";
import { planHostPackages } from "../../../harness/provision/host-plan.ts";

const names = (activities: Parameters<typeof planHostPackages>[0]) => planHostPackages(activities).map((p) => p.package.name);

describe("planHostPackages", () => {
  it("plans the fresh machine's first run as one install of all four packages", () => {
    const plan = planHostPackages(["start-engine", "base-images", "build-buildkit-image", "build-registry-image"]);
    expect(plan.map((p) => p.package.name)).toEqual(["busybox-static", "docker-registry", "docker.io", "runc"]);
    // busybox-static is needed twice, and says so once per need
    expect(plan.find((p) => p.package === HOST_PACKAGES.busyboxStatic)?.neededBy).toEqual(["the busybox base images", "building the BuildKit image locally"]);
  });

  it("plans nothing for nothing", () => {
    expect(planHostPackages([])).toEqual([]);
  });

  it("lists a package needed by two activities once, and an activity named twice once", () => {
    expect(names(["build-registry-image", "serve-registry-on-host", "serve-registry-on-host"])).toEqual(["docker-registry"]);
    expect(planHostPackages(["build-registry-image", "serve-registry-on-host"])[0]?.neededBy).toEqual([
      "building the registry image locally",
      "a registry on the host",
    ]);
  });

  it("gives the unit tests busybox and the registry binary, and no engine", () => {
    expect(names(["base-images", "serve-registry-on-host"])).toEqual(["busybox-static", "docker-registry"]);
  });

  it("does not depend on the order activities are named in", () => {
    expect(names(["build-buildkit-image", "start-engine"])).toEqual(names(["start-engine", "build-buildkit-image"]));
  });
});
