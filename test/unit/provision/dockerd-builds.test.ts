import { describe, expect, it } from "vitest";
import { DOCKERD_BUILDS, lookupDockerdBuild } from "../../../harness/provision/dockerd-builds.ts";

describe("dockerd builds", () => {
  it("have unique ids, and every Debian build starts with docker.io and carries a runtime", () => {
    expect(new Set(DOCKERD_BUILDS.map((b) => b.id)).size).toBe(DOCKERD_BUILDS.length);
    for (const b of DOCKERD_BUILDS) {
      const packages = b.kind === "debian" ? b.packages : b.runtimePackages;
      if (b.kind === "debian") expect(packages[0]).toBe("docker.io");
      for (const p of ["containerd", "runc", "libc6"]) expect(packages).toContain(p);
    }
  });

  it("look up by id, and say which ids exist when one does not", () => {
    expect(lookupDockerdBuild("moby-v2.0.0-beta.24")).toMatchObject({ kind: "go-module", module: "github.com/moby/moby/v2", version: "v2.0.0-beta.24" });
    expect(lookupDockerdBuild("moby-v27.1.1")).toMatchObject({
      module: "github.com/docker/docker",
      version: "v27.1.1+incompatible",
      reportedVersion: "27.1.1",
    });
    expect(() => lookupDockerdBuild("debian-sid")).toThrow(/known: debian-bookworm, debian-trixie/);
  });
});
