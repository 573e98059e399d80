/**
 * The Docker engines the harness can run as builders, each with the embedded BuildKit it
 * carries. Every one is made offline: Debian's docker.io from a Debian suite through apt
 * (never installed on the host), or dockerd compiled from the Go module github.com/moby/moby/v2.
 * dockerd needs containerd, containerd-shim-runc-v2 and runc beside it; the lists name the
 * Debian packages that provide them and the shared libraries their binaries load (checked
 * when the image is made: a missing library fails the provisioning, it is never guessed).
 */
import { HarnessError } from "../errors.ts";

/** Packages every dockerd image takes from its Debian suite: the runtime dockerd starts, and libc. */
const RUNTIME = ["containerd", "runc", "tini", "libc6", "libseccomp2"] as const;

/** What Debian's dockerd links besides libc: libsystemd0 (journald) and, in bookworm, libdevmapper. */
const BOOKWORM_LIBRARIES = [
  "libsystemd0",
  "libcap2",
  "libgcrypt20",
  "libgpg-error0",
  "liblz4-1",
  "liblzma5",
  "libzstd1",
  "libdevmapper1.02.1",
  "libselinux1",
  "libpcre2-8-0",
  "libudev1",
] as const;

const TRIXIE_LIBRARIES = ["libsystemd0", "libcap2"] as const;

export type DockerdBuild = DebianDockerdBuild | ModuleDockerdBuild;

export interface DebianDockerdBuild {
  readonly kind: "debian";
  /** e.g. "debian-bookworm": names the image and what scenarios and reports call it. */
  readonly id: string;
  readonly suite: string;
  /** docker.io first, then its runtime and libraries. */
  readonly packages: readonly string[];
}

export interface ModuleDockerdBuild {
  readonly kind: "go-module";
  readonly id: string;
  /**
   * moby/moby/v2 is a Go module. github.com/docker/docker (the engine up to 28.x) is not:
   * the proxy serves it as `+incompatible` and its module file is `vendor.mod`.
   */
  readonly module: "github.com/moby/moby/v2" | "github.com/docker/docker";
  readonly version: string;
  /** What `dockerd --version` prints (dockerversion.Version, set at link time). */
  readonly reportedVersion: string;
  /** containerd, runc and tini come from this Debian suite (the module has no binaries of them). */
  readonly runtimeSuite: string;
  readonly runtimePackages: readonly string[];
}

export const DOCKERD_BUILDS: readonly DockerdBuild[] = [
  { kind: "debian", id: "debian-bookworm", suite: "bookworm", packages: ["docker.io", ...RUNTIME, ...BOOKWORM_LIBRARIES] },
  { kind: "debian", id: "debian-trixie", suite: "trixie", packages: ["docker.io", ...RUNTIME, ...TRIXIE_LIBRARIES] },
  // moby 27.0–27.1 (BuildKit v0.14.1, v0.15.0) lost inline cache on graph drivers (moby/buildkit#5242); 27.2.0 (v0.15.2) fixed it.
  ...["27.1.1", "27.2.0"].map(
    (release): ModuleDockerdBuild => ({
      kind: "go-module",
      id: `moby-v${release}`,
      module: "github.com/docker/docker",
      version: `v${release}+incompatible`,
      reportedVersion: release,
      runtimeSuite: "trixie",
      runtimePackages: [...RUNTIME],
    }),
  ),
  ...["v2.0.0-beta.1", "v2.0.0-beta.24"].map(
    (version): ModuleDockerdBuild => ({
      kind: "go-module",
      id: `moby-${version}`,
      module: "github.com/moby/moby/v2",
      version,
      reportedVersion: version,
      runtimeSuite: "trixie",
      runtimePackages: [...RUNTIME],
    }),
  ),
];

export function lookupDockerdBuild(id: string): DockerdBuild {
  const found = DOCKERD_BUILDS.find((b) => b.id === id);
  if (!found) {
    throw new HarnessError(
      "UNKNOWN_DOCKERD_BUILD",
      `There is no dockerd build "${id}" (known: ${DOCKERD_BUILDS.map((b) => b.id).join(", ")}).`,
      "Pick one of those, or add an entry to harness/provision/dockerd-builds.ts.",
    );
  }
  return found;
}
