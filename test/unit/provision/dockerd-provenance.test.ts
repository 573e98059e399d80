/**
 * How the harness tells which dockerd and which embedded BuildKit an image holds, on
 * recorded real inputs: `go version -m` of the three kinds of dockerd binary, and files of
 * Debian's docker.io source packages (test/fixtures/dockerd/README.md says where from).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseSourceUris, parseStanza, sourcesList } from "../../../harness/provision/debian-archive.ts";
import {
  buildkitInGoMod,
  buildkitInVendorConf,
  moduleQuery,
  patchTouches,
  seriesPatches,
  sourcePackageOf,
  upstreamVersion,
} from "../../../harness/provision/debian-buildkit.ts";
import { parseDockerdVersion } from "../../../harness/provision/dockerd-image.ts";
import { buildkitTreeOf, fromModuleInfo } from "../../../harness/provision/embedded-buildkit.ts";
import { moduleVersion, parseGoVersionM } from "../../../harness/provision/go-buildinfo.ts";

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/dockerd/${name}`, import.meta.url), "utf8");

describe("go version -m", () => {
  it("moby/moby/v2 built from the module proxy lists BuildKit among its deps", () => {
    const info = parseGoVersionM(fixture("go-version-m-moby-v2.0.0-beta.24.txt"));
    expect(info.goVersion).toBe("go1.26.8");
    expect(info.path).toBe("github.com/moby/moby/v2/cmd/dockerd");
    // Built in the module cache, the main module has no version: hence the -X ldflag.
    expect(info.main).toEqual({ path: "github.com/moby/moby/v2", version: "(devel)" });
    expect(moduleVersion(info, "github.com/moby/buildkit")).toBe("v0.33.0");
    expect(info.settings.get("CGO_ENABLED")).toBe("0");
    expect(fromModuleInfo(info)).toEqual({
      version: "v0.33.0",
      evidence: "module info of the binary (go version -m): dep github.com/moby/buildkit v0.33.0, built with go1.26.8",
    });
  });

  it.each(["debian-bookworm", "debian-trixie"])("Debian's %s GOPATH build has no deps at all", (suite) => {
    const info = parseGoVersionM(fixture(`go-version-m-${suite}.txt`));
    expect(info.path).toBe("github.com/docker/docker/cmd/dockerd");
    expect(info.deps.size).toBe(0);
    expect(fromModuleInfo(info)).toBeUndefined();
  });

  it("follows a replace directive", () => {
    const info = parseGoVersionM(
      "x: go1.22.0\n\tpath\tx/cmd\n\tdep\tgithub.com/moby/buildkit\tv0.13.0\th1:a=\n\t=>\tgithub.com/fork/buildkit\tv0.13.0-fork\th1:b=\n",
    );
    expect(moduleVersion(info, "github.com/moby/buildkit")).toBe("github.com/fork/buildkit@v0.13.0-fork");
  });

  it("refuses what is not its output", () => {
    expect(() => parseGoVersionM("go: cannot find main module")).toThrow(/not `go version -m` output/);
  });
});

describe("BuildKit source tree compiled into a GOPATH binary", () => {
  it("tells the engine's vendor copy from BuildKit on GOPATH", () => {
    const bytes = (s: string) => Buffer.from(`\0junk\0${s}\0more`);
    expect(buildkitTreeOf(bytes("github.com/docker/docker/vendor/github.com/moby/buildkit/solver/edge.go"))).toBe("engine-vendor");
    // -trimpath'd GOPATH build (trixie) names the package by its import path only.
    expect(buildkitTreeOf(bytes("github.com/moby/buildkit/solver/pb/ops.pb.go"))).toBe("gopath");
    expect(buildkitTreeOf(bytes("github.com/docker/docker/daemon/daemon.go"))).toBeUndefined();
  });
});

describe("Debian source package files", () => {
  it("bookworm's 20.10.24 vendor.conf pins a BuildKit commit after v0.8.3, and the comment names its pseudo-version", () => {
    const pinned = buildkitInVendorConf(fixture("debian/bookworm-engine-vendor.conf"));
    expect(pinned).toEqual({ commit: "eeb7b65ab7d651770a5ec52a06ea7c96eb97a249", comment: "v0.8.4-0.20221020190723-eeb7b65ab7d6" });
    expect(moduleQuery(pinned!)).toBe("v0.8.4-0.20221020190723-eeb7b65ab7d6");
  });

  it("a pseudo-version whose hash is not the pinned commit is not trusted", () => {
    expect(moduleQuery({ commit: "0123456789abcdef0123456789abcdef01234567", comment: "v0.8.4-0.20221020190723-eeb7b65ab7d6" })).toBe(
      "0123456789abcdef0123456789abcdef01234567",
    );
    expect(moduleQuery({ commit: "v0.8.3" })).toBe("v0.8.3");
  });

  it("trixie's 26.1.5 vendor.mod requires BuildKit v0.13.2", () => {
    expect(buildkitInGoMod(fixture("debian/trixie-engine-vendor.mod"))).toBe("v0.13.2");
    expect(buildkitInGoMod("module x\nrequire github.com/moby/buildkit v0.9.0 // indirect\n")).toBe("v0.9.0");
  });

  it("lists the quilt series and finds which patches touch the BuildKit tree, whatever their path prefix", () => {
    const series = seriesPatches(fixture("debian/trixie-patches-series"));
    expect(series).toContain("buildkit-CVE-2026-33748-git-subdir-symlink-escape.patch");
    expect(series.every((p) => !p.startsWith("#") && p !== "")).toBe(true);
    expect(patchTouches(fixture("debian/trixie-patch-buildkit-CVE-2026-33748.head.patch"), "buildkit/")).toBe(true);
    // "--- docker.io.orig/buildkit/..." rather than a/ b/
    expect(patchTouches(fixture("debian/trixie-patch-buildkit-remove-hcsshim.head.patch"), "buildkit/")).toBe(true);
    expect(patchTouches(fixture("debian/trixie-patch-engine-cve.head.patch"), "buildkit/")).toBe(false);
  });

  it("names the source package of a binNMU and its upstream version", () => {
    const fields = parseStanza(fixture("debian/trixie-apt-cache-show-docker.io.txt"));
    expect(fields.Version).toBe("26.1.5+dfsg1-9+deb13u1+b1");
    expect(sourcePackageOf(fields)).toEqual({ name: "docker.io", version: "26.1.5+dfsg1-9+deb13u1" });
    expect(sourcePackageOf({ Package: "runc", Version: "1.1.5+ds1-1" })).toEqual({ name: "runc", version: "1.1.5+ds1-1" });
    expect(upstreamVersion("26.1.5+dfsg1-9+deb13u1")).toBe("26.1.5+dfsg1");
    expect(upstreamVersion("1:2.66-4+deb12u3")).toBe("2.66");
  });

  it("reads apt-get source --print-uris", () => {
    const files = parseSourceUris(fixture("debian/trixie-source-print-uris.txt"));
    expect(files.map((f) => f.name)).toEqual([
      "docker.io_26.1.5+dfsg1-9+deb13u1.dsc",
      "docker.io_26.1.5+dfsg1.orig-buildkit.tar.xz",
      "docker.io_26.1.5+dfsg1.orig-cli.tar.xz",
      "docker.io_26.1.5+dfsg1.orig.tar.xz",
      "docker.io_26.1.5+dfsg1-9+deb13u1.debian.tar.xz",
    ]);
    expect(files[1]).toMatchObject({ size: 1406148, sha256: "3a4a472c237b1caf456aac2cae810fea2b4fae9d0e9e71af5540645b510ff10c" });
  });

  it("writes a signed sources list with the security suite", () => {
    expect(sourcesList("trixie", { main: "http://m/debian", security: "http://m/debian-security" })).toBe(
      [
        "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://m/debian trixie main",
        "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://m/debian trixie main",
        "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://m/debian-security trixie-security main",
        "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://m/debian-security trixie-security main",
        "",
      ].join("\n"),
    );
  });
});

describe("dockerd --version", () => {
  it("takes the version from the line every engine prints", () => {
    expect(parseDockerdVersion("Docker version 20.10.24+dfsg1, build 5d6db84")).toBe("20.10.24+dfsg1");
    expect(parseDockerdVersion("Docker version v2.0.0-beta.24, build library-import")).toBe("v2.0.0-beta.24");
    expect(parseDockerdVersion("dockerd: not found")).toBeUndefined();
  });
});
