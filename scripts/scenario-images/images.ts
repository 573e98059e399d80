/**
 * The scenario-local base images (scenarios/<id>/images/*.tar), as recipes: each is one layer
 * written by harness/oci/deterministic-tar.ts with the quirks of real-world images, gzip
 * compressed with node:zlib (level 9, no name or time in the gzip header), packed as an
 * OCI layout tar. Regenerate with `npx tsx scripts/scenario-images/generate.ts`.
 *
 * gzip bytes depend on the zlib build (node:zlib bundles its own; the committed archives
 * were written with the zlib of Node v20.20.2, 1.3.1-e00f703); the uncompressed layers,
 * hence the diff_ids, never do.
 */
import { type DeterministicTarOptions, type TarEntrySpec, writeDeterministicTar } from "../../harness/oci/deterministic-tar.ts";
import { buildImageDocuments, type ImageDocuments } from "../../harness/oci/image-writer.ts";
import { writeOciLayoutTar } from "../../harness/oci/oci-layout-writer.ts";

/** 2023-05-02T16:49:27Z: a plausible date for a base image built long before the scenario. */
export const BASE_CREATED_SECONDS = 1_683_046_167;
export const BASE_CREATED = new Date(BASE_CREATED_SECONDS * 1000).toISOString().replace(".000Z", "Z");
/** 2100-01-01T00:00:00Z: the mtime of a file from a build machine with a wrong clock. */
export const FUTURE_SECONDS = 4_102_444_800;
/** GNU tar's default record: 20 blocks of 512 bytes. */
export const GNU_RECORD = 10_240;

export interface ScenarioImage {
  /** `{{image:<name>}}` in the scenarios' Dockerfiles; written to `<scenario>/images/<name>.tar` for each scenario. */
  readonly name: string;
  readonly scenarios: readonly string[];
  readonly description: string;
  readonly entries: readonly TarEntrySpec[];
  readonly tar: DeterministicTarOptions;
}

const PLAIN_FILES: TarEntrySpec[] = [
  { type: "directory", path: "etc", mode: 0o755 },
  { type: "file", path: "etc/os-release", mode: 0o644, content: "NAME=buildkit-repro draft base\nVERSION_ID=1\n" },
  { type: "directory", path: "usr", mode: 0o755 },
  { type: "directory", path: "usr/share", mode: 0o755 },
  { type: "file", path: "usr/share/base.txt", mode: 0o644, content: "a base layer written like real-world images are\n" },
];

/** One path component of 120 characters: beyond ustar's 100-byte name field, so only a PAX record can carry it. */
const LONG_NAME = `usr/lib/${"a-file-name-longer-than-ustar-allows-".repeat(3)}${"x".repeat(9)}.txt`;

/** Every quirk at once: what moby/buildkit#4805-like bugs would need, and what a reader must cope with. */
const QUIRKY_FILES: TarEntrySpec[] = [
  ...PLAIN_FILES,
  // PAX: an exact mtime with nanoseconds, as GNU tar --format=posix and Go's archive/tar write.
  { type: "file", path: "etc/pax-mtime.txt", mode: 0o644, content: "pax mtime\n", pax: { mtime: `${BASE_CREATED_SECONDS}.123456789` } },
  // PAX: a name longer than ustar's 100+155 bytes split allows.
  { type: "file", path: LONG_NAME, mode: 0o644, content: "long name\n", pax: { path: LONG_NAME } },
  // A file dated in the future, owned by a non-root user.
  { type: "file", path: "usr/share/future.txt", mode: 0o644, content: "from the future\n", mtime: FUTURE_SECONDS, uid: 1000, gid: 1000 },
  // A hard link to a file that comes earlier in name order.
  { type: "hardlink", path: "usr/share/hardlink-to-base.txt", target: "usr/share/base.txt", mode: 0o644 },
  // A file whose parent directories have no entries of their own.
  { type: "file", path: "opt/orphan/dir/file.txt", mode: 0o600, content: "no parent entries\n" },
];

export const SCENARIO_IMAGES: readonly ScenarioImage[] = [
  {
    name: "unpadded",
    scenarios: ["rewrite-timestamp-padded-base-layer", "sde-base-image-history"],
    description: "one gzip layer, mtimes 2023-05-02, the tar ends right after its end-of-archive marker (as Go's archive/tar writes)",
    entries: PLAIN_FILES,
    tar: { mtime: BASE_CREATED_SECONDS },
  },
  {
    name: "padded",
    scenarios: ["rewrite-timestamp-padded-base-layer"],
    description: "the same files as unpadded, the tar padded with zeros after its end-of-archive marker to a 10240-byte record (as GNU tar writes)",
    entries: PLAIN_FILES,
    tar: { mtime: BASE_CREATED_SECONDS, recordSize: GNU_RECORD },
  },
  {
    name: "quirky",
    scenarios: ["rewrite-timestamp-padded-base-layer"],
    description:
      "padding after the end-of-archive marker, PAX records (nanosecond mtime, long name), a future mtime, uid 1000, a hard link, files without parent directory entries",
    entries: QUIRKY_FILES,
    tar: { mtime: BASE_CREATED_SECONDS, recordSize: GNU_RECORD },
  },
];

export function scenarioImageDocuments(image: ScenarioImage): ImageDocuments {
  return buildImageDocuments({
    layers: [writeDeterministicTar(image.entries, image.tar)],
    compression: "gzip",
    config: {
      architecture: "amd64",
      os: "linux",
      created: BASE_CREATED,
      config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"] },
      // The text predates the scenarios leaving their drafts folder; it is in the committed archives' configs, so it stays.
      history: [{ created_by: `buildkit-repro draft base image ${image.name}`, comment: image.description }],
    },
  });
}

export function scenarioImageArchive(image: ScenarioImage): Buffer {
  return writeOciLayoutTar([{ documents: scenarioImageDocuments(image), refName: image.name }]);
}
