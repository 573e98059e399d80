/**
 * The deterministic writer's real-world quirks, read back by GNU tar (an independent
 * reader) and by the harness's own readers; and the scenarios' committed base image
 * archives, regenerated from their recipes.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { archiveLimits } from "../../../harness/oci/archive/limits.ts";
import { openImageArchive } from "../../../harness/oci/archive/open.ts";
import { readTarMembers } from "../../../harness/oci/archive/tar-reader.ts";
import { writeDeterministicTar } from "../../../harness/oci/deterministic-tar.ts";
import { digestOf } from "../../../harness/oci/digest.ts";
import { listLayerEntries } from "../../../harness/oci/layer-entries.ts";
import { SCENARIO_IMAGES, scenarioImageArchive, scenarioImageDocuments } from "../../../scripts/scenario-images/images.ts";

const here = dirname(fileURLToPath(import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), "quirky-tar-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const QUIRKY = writeDeterministicTar(
  [
    { type: "file", path: "etc/pax.txt", mode: 0o644, content: "p\n", pax: { mtime: "1683046167.123456789" } },
    { type: "file", path: `usr/${"n".repeat(120)}`, mode: 0o644, content: "long\n", pax: { path: `usr/${"n".repeat(120)}` } },
    { type: "file", path: "usr/a", mode: 0o755, content: "a", mtime: 4_102_444_800, uid: 1000, gid: 1001 },
    { type: "hardlink", path: "usr/b", target: "usr/a", mode: 0o755 },
    { type: "file", path: "opt/no/parents.txt", mode: 0o600, content: "x" },
  ],
  { mtime: 1_683_046_167, recordSize: 10_240 },
);

describe("writeDeterministicTar quirks", () => {
  it("GNU tar reads PAX mtimes and names, owners, a future date, a hard link, and the record padding", async () => {
    expect(QUIRKY.length % 10_240).toBe(0);
    const path = join(scratch, "quirky.tar");
    writeFileSync(path, QUIRKY);
    const { stdout } = await execa("tar", ["--full-time", "--numeric-owner", "-tvf", path], { env: { TZ: "UTC" } });
    const lines = stdout.split("\n");
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/^-rw-r--r-- 0\/0 +2 2023-05-02 16:49:27\.123456789 etc\/pax\.txt$/);
    expect(lines[1]).toMatch(/^-rw------- 0\/0 +1 2023-05-02 16:49:27 +opt\/no\/parents\.txt$/);
    expect(lines[2]).toMatch(/^-rwxr-xr-x 1000\/1001 +1 2100-01-01 00:00:00 +usr\/a$/);
    expect(lines[3]).toMatch(/^hrwxr-xr-x 0\/0 +0 2023-05-02 16:49:27 +usr\/b link to usr\/a$/);
    expect(lines[4]).toMatch(new RegExp(`usr/${"n".repeat(120)}$`));
  });

  it("the layer lister sees the same, and the strict archive reader refuses the hard link", async () => {
    const entries = new Map((await listLayerEntries(QUIRKY)).map((e) => [e.name, e]));
    expect(entries.get("etc/pax.txt")).toMatchObject({ mtime: "2023-05-02T16:49:27.123456789Z" });
    expect(entries.get("usr/a")).toMatchObject({ uid: 1000, gid: 1001, mtime: "2100-01-01T00:00:00Z" });
    expect(entries.get("usr/b")).toMatchObject({ type: "hardlink", linkname: "usr/a" });
    expect(() => readTarMembers(QUIRKY, "layer.tar", archiveLimits())).toThrow(/"usr\/b": is a hard link/);
  });

  it("refuses a hard link to a file that comes later, and a record size that is not whole blocks", () => {
    expect(() =>
      writeDeterministicTar([
        { type: "hardlink", path: "a", target: "b", mode: 0o644 },
        { type: "file", path: "b", mode: 0o644, content: "" },
      ]),
    ).toThrow(/must name a file that comes earlier/);
    expect(() => writeDeterministicTar([], { recordSize: 1000 })).toThrow(/multiple of 512/);
  });
});

describe("the scenarios' base image archives", () => {
  for (const [image, scenario] of SCENARIO_IMAGES.flatMap((i) => i.scenarios.map((s) => [i, s] as const))) {
    const committed = join(here, "../../../scenarios", scenario, "images", `${image.name}.tar`);

    it(`${scenario}/images/${image.name}.tar is what its recipe generates`, async () => {
      const archive = await openImageArchive(committed);
      const pushed = archive.image(image.name);
      const docs = scenarioImageDocuments(image);
      // The uncompressed layer (hence the diff_id and the config) never depends on zlib.
      expect(pushed.descriptor.digest === docs.manifestDigest || process.versions.zlib !== "1.3.1-e00f703").toBe(true);
      const { manifest } = await archive.manifest(pushed.descriptor.digest);
      if (!("config" in manifest)) throw new Error("expected an image manifest");
      expect(manifest.config.digest).toBe(docs.configDigest);
      const tar = gunzipSync(await archive.blob(manifest.layers[0]!.digest));
      expect(digestOf(tar)).toBe(digestOf(gunzipSync(docs.blobs[0]!)));
      if (process.versions.zlib === "1.3.1-e00f703") expect(readFileSync(committed).equals(scenarioImageArchive(image))).toBe(true);
    });
  }

  it("padded and unpadded differ only by the zeros after the end-of-archive marker", async () => {
    const layer = async (name: string) => {
      const image = SCENARIO_IMAGES.find((i) => i.name === name)!;
      return gunzipSync(scenarioImageDocuments(image).blobs[0]!);
    };
    const padded = await layer("padded");
    const unpadded = await layer("unpadded");
    expect(padded.length).toBe(10_240);
    expect(padded.subarray(0, unpadded.length).equals(unpadded)).toBe(true);
    expect(padded.subarray(unpadded.length).every((b) => b === 0)).toBe(true);
  });
});
