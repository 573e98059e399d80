import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../../harness/oci/canonical-json.ts";
import { writeDeterministicTar } from "../../../harness/oci/deterministic-tar.ts";
import { digestOf } from "../../../harness/oci/digest.ts";
import { buildImageDocuments } from "../../../harness/oci/image-writer.ts";
import { MediaType } from "../../../harness/oci/types.ts";
import { elfInterpreter, payloadBytes } from "../../../harness/provision/base-images.ts";

describe("canonicalJson", () => {
  it("sorts keys at every depth, drops undefined, adds no whitespace", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 0, y: "é" }], c: undefined }, "": null })).toBe('{"":null,"a":{"d":[1,{"y":"é","z":0}]},"b":1}');
  });
});

describe("buildImageDocuments", () => {
  const layer = writeDeterministicTar([{ type: "file", path: "f", mode: 0o644, content: "f" }]);
  const spec = {
    layers: [layer],
    config: { architecture: "amd64", os: "linux", created: "2020-01-01T00:00:00Z", config: { Env: ["A=1"], Cmd: ["sh"] }, history: [{ created_by: "x" }] },
  };

  it("writes an OCI image with uncompressed layers, diff_id = blob digest, the fixed created time", () => {
    const docs = buildImageDocuments(spec);
    const manifest = JSON.parse(docs.manifestBytes.toString()) as {
      mediaType: string;
      config: { digest: string; size: number; mediaType: string };
      layers: Array<{ mediaType: string; digest: string; size: number }>;
    };
    const config = JSON.parse(docs.configBytes.toString()) as Record<string, unknown> & { rootfs: { diff_ids: string[] } };
    expect(manifest.mediaType).toBe(MediaType.ociManifest);
    expect(manifest.config).toEqual({ mediaType: MediaType.ociConfig, digest: docs.configDigest, size: docs.configBytes.length });
    expect(manifest.layers).toEqual([{ mediaType: MediaType.ociLayerTar, digest: digestOf(layer), size: layer.length }]);
    expect(config.rootfs.diff_ids).toEqual([digestOf(layer)]);
    expect(config.created).toBe("2020-01-01T00:00:00Z");
    expect(config.history).toEqual([{ created: "2020-01-01T00:00:00Z", created_by: "x" }]);
    expect(docs.configBytes.toString()).not.toMatch(/\s/);
    expect(docs.manifestDigest).toBe(digestOf(docs.manifestBytes));
  });

  it("is deterministic", () => {
    expect(buildImageDocuments(spec).manifestDigest).toBe(buildImageDocuments(structuredClone(spec)).manifestDigest);
  });

  it("checks history against the layers", () => {
    expect(() => buildImageDocuments({ ...spec, config: { ...spec.config, history: [] } })).toThrow(/non-empty entries/);
  });
});

describe("base image helpers", () => {
  it("derives the payload from its seed", () => {
    const bytes = payloadBytes();
    expect(bytes.length).toBe(64 * 1024);
    expect(bytes.equals(payloadBytes())).toBe(true);
    expect(bytes.subarray(0, 32).equals(Buffer.from(digestOf("buildkit-repro payload v1").slice(7), "hex"))).toBe(true);
  });

  it("reads the ELF interpreter: none for a static binary, ld.so for a dynamic one", () => {
    if (!existsSync("/bin/busybox")) throw new Error("/bin/busybox is missing: sudo apt-get install -y busybox-static");
    expect(elfInterpreter(readFileSync("/bin/busybox"))).toBeUndefined();
    expect(elfInterpreter(readFileSync(process.execPath))).toMatch(/^\/lib.*ld-/);
    expect(() => elfInterpreter(Buffer.from("#!/bin/sh\necho not elf\n".padEnd(64)))).toThrow(/not an ELF/);
  });
});

describe("buildImageDocuments with gzip layers", () => {
  const layer = writeDeterministicTar([{ type: "file", path: "f", mode: 0o644, content: "f" }]);
  const spec = { layers: [layer], compression: "gzip" as const, config: { architecture: "amd64", os: "linux", created: "2020-01-01T00:00:00Z" } };

  it("stores gzip blobs, keeps diff_ids of the uncompressed tar, and is deterministic", async () => {
    const { gunzipSync } = await import("node:zlib");
    const docs = buildImageDocuments(spec);
    const manifest = JSON.parse(docs.manifestBytes.toString()) as { layers: Array<{ mediaType: string; digest: string }> };
    const config = JSON.parse(docs.configBytes.toString()) as { rootfs: { diff_ids: string[] } };
    expect(manifest.layers[0]!.mediaType).toBe(MediaType.ociLayerTarGzip);
    expect(manifest.layers[0]!.digest).toBe(digestOf(docs.blobs[0]!));
    expect(gunzipSync(docs.blobs[0]!).equals(layer)).toBe(true);
    expect(config.rootfs.diff_ids).toEqual([digestOf(layer)]);
    expect(buildImageDocuments(structuredClone(spec)).manifestDigest).toBe(docs.manifestDigest);
  });
});
