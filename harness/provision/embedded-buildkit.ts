/**
 * Which BuildKit a dockerd binary embeds, read from the binary and its sources, never
 * inferred from the engine's version.
 *
 * - A module-mode build (moby/moby/v2 from the module proxy) lists github.com/moby/buildkit
 *   among its deps in the module info: that is the answer.
 * - Debian builds docker.io in GOPATH mode: no module info. The file paths compiled into
 *   the binary say which BuildKit tree was used (the engine's `vendor/` copy, or Debian's
 *   separate `orig-buildkit` component put on GOPATH), and the Debian source package says
 *   which version that tree is (see debian-buildkit.ts).
 */
import { readFile } from "node:fs/promises";
import { type GoBuildInfo, moduleVersion, readGoBuildInfo } from "./go-buildinfo.ts";

export const BUILDKIT_MODULE = "github.com/moby/buildkit";

export interface EmbeddedBuildkit {
  /** A module version (v0.33.0) or pseudo-version (v0.8.4-0.20221020190723-eeb7b65ab7d6). */
  readonly version: string;
  /** How it was read, in one sentence a report can print. */
  readonly evidence: string;
}

/** Where a GOPATH build took BuildKit from, by the source paths compiled into the binary. */
export type BuildkitTree = "engine-vendor" | "gopath";

const ENGINE_VENDOR_PATH = "github.com/docker/docker/vendor/github.com/moby/buildkit/";
const IMPORT_PATH = "github.com/moby/buildkit/";

/**
 * A GOPATH build names a vendored package by its vendor path in symbols and file names
 * (`github.com/docker/docker/vendor/github.com/moby/buildkit/...`, with or without a
 * -trimpath'd `/build/.../src/` before it); one on GOPATH proper by its import path alone.
 */
export function buildkitTreeOf(binary: Uint8Array): BuildkitTree | undefined {
  const bytes = Buffer.from(binary.buffer, binary.byteOffset, binary.byteLength);
  if (bytes.includes(ENGINE_VENDOR_PATH)) return "engine-vendor";
  if (bytes.includes(IMPORT_PATH)) return "gopath";
  return undefined;
}

export function fromModuleInfo(info: GoBuildInfo): EmbeddedBuildkit | undefined {
  const version = moduleVersion(info, BUILDKIT_MODULE);
  if (!version) return undefined;
  return { version, evidence: `module info of the binary (go version -m): dep ${BUILDKIT_MODULE} ${version}, built with ${info.goVersion}` };
}

/** Reads the module info; undefined when the binary has none for BuildKit (a GOPATH build). */
export async function embeddedBuildkitFromModuleInfo(dockerd: string): Promise<{ info: GoBuildInfo; buildkit: EmbeddedBuildkit | undefined }> {
  const info = await readGoBuildInfo(dockerd);
  return { info, buildkit: fromModuleInfo(info) };
}

export async function buildkitTreeOfFile(dockerd: string): Promise<BuildkitTree | undefined> {
  return buildkitTreeOf(await readFile(dockerd));
}
