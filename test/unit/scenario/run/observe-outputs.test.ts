/**
 * Which digest a pushed image is read back by. With several exporters BuildKit merges their
 * responses and `containerimage.digest` may name another output's manifest (moby/buildkit#5556):
 * the reported digest is trusted only when the push is the build's one output.
 */
import { describe, expect, it } from "vitest";
import { type ImageReader, observeOutputs } from "../../../../harness/scenario/run/observe.ts";
import type { PlannedOutput } from "../../../../harness/scenario/run/request.ts";
import { image } from "../judge/observations.ts";

function recordingReader(): { reader: ImageReader; reads: (string | undefined)[] } {
  const reads: (string | undefined)[] = [];
  const fake = {
    fromRegistry: async (name: string, digest: string | undefined) => {
      reads.push(digest === undefined ? `${name} by tag` : `${name}@${digest}`);
      return image();
    },
    fromArchive: async (path: string) => {
      reads.push(`archive ${path}`);
      return image();
    },
  };
  return { reader: fake as unknown as ImageReader, reads };
}

const pushed: PlannedOutput = { index: 0, type: "image", name: "registry:5000/s:x", push: true, tarball: false };
const ociTar: PlannedOutput = { index: 1, type: "oci", push: false, dest: "/work/out-1.tar", tarball: true };
const REPORTED = `sha256:${"a".repeat(64)}`;

describe("observeOutputs", () => {
  it("reads the one pushed output by the digest the build reported", async () => {
    const { reader, reads } = recordingReader();
    await observeOutputs([pushed], REPORTED, reader);
    expect(reads).toEqual([`registry:5000/s:x@${REPORTED}`]);
  });

  it("reads a pushed image by its tag when the build has another output too", async () => {
    const { reader, reads } = recordingReader();
    const outputs = await observeOutputs([pushed, ociTar], REPORTED, reader);
    expect(reads).toEqual(["registry:5000/s:x by tag", "archive /work/out-1.tar"]);
    expect(outputs.map((o) => o.unreadable)).toEqual([undefined, undefined]);
  });
});
