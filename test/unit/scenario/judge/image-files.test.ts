/**
 * File lookup in an image per the OCI image-spec, layer.md ("Whiteouts", "Opaque Whiteout",
 * "Changeset over existing files"). Layers are real tar archives read by the harness's
 * layer reader, so whiteout names are parsed the way they are in a run.
 */

import { pack } from "tar-stream";
import { describe, expect, it } from "vitest";
import { listLayerEntries } from "../../../../harness/oci/layer-entries.ts";
import { fileInImage, regularFileInImage, whiteoutsOf } from "../../../../harness/scenario/judge/image-files.ts";
import type { ListedLayer } from "../../../../harness/scenario/observation.ts";

type Spec = string | { name: string; type?: "file" | "directory" | "symlink" | "link"; content?: string; linkname?: string; mtime?: number };

/** A layer from tar entry specs: "dir/" is a directory, ".wh." names are whiteouts, anything else a file named after itself. */
async function tarLayer(specs: readonly Spec[]): Promise<ListedLayer> {
  const p = pack();
  for (const raw of specs) {
    const s = typeof raw === "string" ? (raw.endsWith("/") ? { name: raw, type: "directory" as const } : { name: raw, content: `${raw}\n` }) : raw;
    const type = s.type ?? "file";
    const header = { name: s.name, type, mode: type === "directory" ? 0o755 : 0o644, mtime: new Date((s.mtime ?? 0) * 1000) };
    if (type === "file") p.entry(header, s.content ?? "");
    else p.entry({ ...header, ...(s.linkname !== undefined ? { linkname: s.linkname } : {}) });
  }
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of p) chunks.push(chunk as Buffer);
  const entries = await listLayerEntries(Buffer.concat(chunks));
  return { digest: `sha256:${"0".repeat(64)}`, entries, fromBaseImage: false };
}

const layers = (...specs: Spec[][]) => Promise.all(specs.map(tarLayer));
const content = (name: string) => expect.objectContaining({ name, type: "file" });

describe("fileInImage: the filesystem the layers make, top layer first", () => {
  it("finds a file of the only layer, with or without slashes around the path", async () => {
    const image = await layers(["a/", "a/b/", "a/b/c"]);
    for (const path of ["/a/b/c", "a/b/c", "./a/b/c", "/a//b/c"]) expect(fileInImage(image, path), path).toEqual(content("a/b/c"));
    expect(fileInImage(image, "/a/b/")).toMatchObject({ name: "a/b", type: "directory" });
    expect(fileInImage(image, "/a/b/d")).toBeUndefined();
  });

  it("a higher layer's entry replaces a lower one (modification)", async () => {
    const image = await layers(["f"], [{ name: "f", content: "new\n" }]);
    const upper = image[1]!.entries.find((e) => e.name === "f")!;
    expect(fileInImage(image, "/f")?.contentDigest).toBe(upper.contentDigest);
  });

  it("a whiteout of the file deletes it", async () => {
    // The spec's example: ./etc/.wh.my-app-config removes /etc/my-app-config.
    const image = await layers(
      ["etc/", "etc/my-app-config", "bin/", "bin/my-app-tools"],
      ["etc/", "etc/my-app.d/", "etc/my-app.d/default.cfg", "etc/.wh.my-app-config"],
    );
    expect(fileInImage(image, "/etc/my-app-config")).toBeUndefined();
    expect(fileInImage(image, "/etc/my-app.d/default.cfg")).toEqual(content("etc/my-app.d/default.cfg"));
    expect(fileInImage(image, "/bin/my-app-tools")).toEqual(content("bin/my-app-tools"));
  });

  it("the whiteout entry itself is hidden", async () => {
    const image = await layers(["etc/", "etc/x"], ["etc/.wh.x"]);
    expect(fileInImage(image, "/etc/.wh.x")).toBeUndefined();
  });

  it("a whiteout of a directory above the file deletes the file", async () => {
    const image = await layers(["a/", "a/b/", "a/b/c"], [".wh.a"]);
    expect(fileInImage(image, "/a/b/c")).toBeUndefined();
    expect(fileInImage(image, "/a")).toBeUndefined();
    const deeper = await layers(["a/", "a/b/", "a/b/c"], ["a/", "a/.wh.b"]);
    expect(fileInImage(deeper, "/a/b/c")).toBeUndefined();
    expect(fileInImage(deeper, "/a")).toMatchObject({ type: "directory" });
  });

  it("a whiteout deletes only its own name, not one it is a prefix of", async () => {
    const image = await layers(["ab", "a/", "a/bc"], [".wh.a", "a/"]);
    expect(fileInImage(image, "/ab")).toEqual(content("ab"));
    const sibling = await layers(["a/", "a/bc", "a/b"], ["a/", "a/.wh.b"]);
    expect(fileInImage(sibling, "/a/bc")).toEqual(content("a/bc"));
    expect(fileInImage(sibling, "/a/b")).toBeUndefined();
  });

  it("a whiteout does not hide entries of its own layer (a deleted directory re-created with new content)", async () => {
    const image = await layers(["a/", "a/old"], [".wh.a", "a/", "a/new"]);
    expect(fileInImage(image, "/a/new")).toEqual(content("a/new"));
    expect(fileInImage(image, "/a/old")).toBeUndefined();
  });

  it("an opaque whiteout in a directory above hides the lower layers' descendants, not its own layer's", async () => {
    // The spec's example: a/b is deleted and re-created with a/b/c/foo in one layer.
    const image = await layers(["a/", "a/b/", "a/b/c/", "a/b/c/bar"], ["a/", "a/.wh..wh..opq", "a/b/", "a/b/c/", "a/b/c/foo"]);
    expect(fileInImage(image, "/a/b/c/bar")).toBeUndefined();
    expect(fileInImage(image, "/a/b/c/foo")).toEqual(content("a/b/c/foo"));
    expect(fileInImage(image, "/a/b")).toMatchObject({ type: "directory" });
  });

  it("the same, whichever order the opaque whiteout comes in the tar", async () => {
    const image = await layers(["a/", "a/b/", "a/b/c/", "a/b/c/bar"], ["a/", "a/b/", "a/b/c/", "a/b/c/foo", "a/.wh..wh..opq"]);
    expect(fileInImage(image, "/a/b/c/bar")).toBeUndefined();
    expect(fileInImage(image, "/a/b/c/foo")).toEqual(content("a/b/c/foo"));
  });

  it("an opaque whiteout of a file's parent hides it, and only in lower layers", async () => {
    const image = await layers(["bin/", "bin/my-app-binary", "bin/tools/", "bin/tools/one"], ["bin/", "bin/.wh..wh..opq"]);
    expect(fileInImage(image, "/bin/my-app-binary")).toBeUndefined();
    expect(fileInImage(image, "/bin/tools/one")).toBeUndefined();
    expect(fileInImage(image, "/bin")).toMatchObject({ type: "directory" });
    const recreated = await layers(["bin/", "bin/x"], ["bin/", "bin/.wh..wh..opq"], ["bin/", "bin/x"]);
    expect(fileInImage(recreated, "/bin/x")?.contentDigest).toBe(recreated[2]!.entries.find((e) => e.name === "bin/x")!.contentDigest);
  });

  it("an opaque whiteout at the root hides everything below", async () => {
    const image = await layers(["etc/", "etc/x", "y"], [".wh..wh..opq", "z"]);
    expect(fileInImage(image, "/etc/x")).toBeUndefined();
    expect(fileInImage(image, "/y")).toBeUndefined();
    expect(fileInImage(image, "/z")).toEqual(content("z"));
  });

  it("a non-directory entry replacing a directory above hides what the directory held", async () => {
    const asFile = await layers(["a/", "a/b/", "a/b/c"], ["a"]);
    expect(fileInImage(asFile, "/a/b/c")).toBeUndefined();
    expect(fileInImage(asFile, "/a")).toEqual(content("a"));
    const asSymlink = await layers(["a/", "a/b/", "a/b/c"], [{ name: "a/b", type: "symlink", linkname: "/elsewhere" }]);
    expect(fileInImage(asSymlink, "/a/b/c")).toBeUndefined();
  });

  it("a directory entry over a directory replaces only its attributes", async () => {
    const image = await layers(["a/", "a/b"], [{ name: "a/", type: "directory", mtime: 99 }]);
    expect(fileInImage(image, "/a/b")).toEqual(content("a/b"));
    expect(fileInImage(image, "/a")?.mtimeEpochSeconds).toBe(99);
  });

  it("a deleted file re-created in a higher layer is there again, with the new content", async () => {
    const image = await layers(["f"], [".wh.f"], [{ name: "f", content: "again\n" }]);
    expect(fileInImage(image, "/f")?.contentDigest).toBe(image[2]!.entries[0]!.contentDigest);
    expect(fileInImage(image.slice(0, 2), "/f")).toBeUndefined();
  });
});

describe("regularFileInImage: the regular file whose content a path shows", () => {
  it("follows a hardlink to the file it shares content with", async () => {
    const image = await layers(["bin/", { name: "bin/busybox", content: "ELF" }, { name: "bin/sh", type: "link", linkname: "bin/busybox" }]);
    expect(fileInImage(image, "/bin/sh")).toMatchObject({ type: "hardlink" });
    expect(regularFileInImage(image, "/bin/sh")).toMatchObject({ name: "bin/busybox", contentDigest: image[0]!.entries[1]!.contentDigest });
  });

  it("reads the hardlink's target as the hardlink's layer saw it, not as a later layer changed it", async () => {
    const image = await layers(
      [
        { name: "a", content: "one" },
        { name: "b", type: "link", linkname: "a" },
      ],
      [{ name: "a", content: "two" }],
    );
    expect(regularFileInImage(image, "/b")?.contentDigest).toBe(image[0]!.entries[0]!.contentDigest);
    expect(regularFileInImage(image, "/a")?.contentDigest).toBe(image[1]!.entries[0]!.contentDigest);
  });

  it("is undefined for a directory, a symlink, a missing path or a dangling hardlink", async () => {
    const image = await layers(["d/", { name: "s", type: "symlink", linkname: "d" }, { name: "h", type: "link", linkname: "gone" }]);
    for (const path of ["/d", "/s", "/nothing", "/h"]) expect(regularFileInImage(image, path), path).toBeUndefined();
  });
});

describe("whiteoutsOf", () => {
  it("lists the whiteouts of the path itself in every layer, bottom first", async () => {
    const image = await layers(["etc/", "etc/x"], [{ name: "etc/.wh.x", mtime: 5 }], [{ name: "etc/x" }], [{ name: "etc/.wh.x", mtime: 7 }], [".wh.etc"]);
    expect(whiteoutsOf(image, "/etc/x").map((e) => e.mtimeEpochSeconds)).toEqual([5, 7]);
    expect(whiteoutsOf(image, "etc")).toHaveLength(1);
    expect(whiteoutsOf(image, "/etc/y")).toEqual([]);
  });
});
