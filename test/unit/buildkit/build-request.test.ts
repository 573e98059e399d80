import { describe, expect, it } from "vitest";
import { type BuildRequest, buildctlBuildArgs, csvField, formatTypedAttrs } from "../../../harness/buildkit/build-request.ts";

const base: BuildRequest = {
  frontend: "dockerfile.v0",
  locals: { context: "/src", dockerfile: "/src/docker" },
  frontendOpts: {},
  importCache: [],
  exportCache: [],
  outputs: [],
};

describe("csvField", () => {
  it("leaves plain fields alone", () => {
    expect(csvField("ref=localhost:5000/cache:latest")).toBe("ref=localhost:5000/cache:latest");
  });
  it("wraps a field with a comma in quotes", () => {
    expect(csvField("name=a,b")).toBe('"name=a,b"');
  });
  it("doubles inner quotes", () => {
    expect(csvField('annotation.x=say "hi"')).toBe('"annotation.x=say ""hi"""');
  });
});

describe("formatTypedAttrs", () => {
  it("puts type first and keeps attribute order", () => {
    expect(formatTypedAttrs({ type: "registry", attrs: { ref: "r", mode: "max" } })).toBe("type=registry,ref=r,mode=max");
    expect(formatTypedAttrs({ type: "registry", attrs: { mode: "max", ref: "r" } })).toBe("type=registry,mode=max,ref=r");
  });
  it("quotes only the fields that need it", () => {
    // Verified against real buildctl v0.12.5 (encoding/csv) and v0.34.2 (go-csvvalue): the
    // OCI exporter wrote the annotation value `x,y "quoted"` intact.
    expect(
      formatTypedAttrs({
        type: "oci",
        attrs: { dest: "/out.tar", "annotation.org.opencontainers.image.description": 'x,y "quoted"' },
      }),
    ).toBe('type=oci,dest=/out.tar,"annotation.org.opencontainers.image.description=x,y ""quoted"""');
  });
  it("rejects a type attribute", () => {
    expect(() => formatTypedAttrs({ type: "local", attrs: { type: "registry" } })).toThrow(/type/);
  });
});

describe("buildctlBuildArgs", () => {
  it("renders locals, opts, build args, caches, outputs and switches in a stable order", () => {
    const args = buildctlBuildArgs({
      ...base,
      locals: { context: "/src", dockerfile: "/src/docker", bbroot: "/tmp/bb" },
      frontendOpts: { filename: "Dockerfile.x", target: "final", "context:base": "local:bbroot", "attest:provenance": "mode=max" },
      buildArgs: { SOURCE_DATE_EPOCH: "0", LIST: "a,b" },
      importCache: [{ type: "local", attrs: { src: "/tmp/c" } }],
      exportCache: [
        { type: "registry", attrs: { ref: "r", mode: "max" } },
        { type: "inline", attrs: {} },
      ],
      outputs: [{ type: "image", attrs: { name: "localhost:5000/x:1,localhost:5000/x:latest", push: "true" } }],
      noCache: true,
      sourcePolicyFile: "/p.json",
      metadataFile: "/m.json",
    });
    expect(args).toEqual([
      "--frontend",
      "dockerfile.v0",
      "--local",
      "context=/src",
      "--local",
      "dockerfile=/src/docker",
      "--local",
      "bbroot=/tmp/bb",
      "--opt",
      "filename=Dockerfile.x",
      "--opt",
      "target=final",
      "--opt",
      "context:base=local:bbroot",
      "--opt",
      "attest:provenance=mode=max",
      "--opt",
      "build-arg:SOURCE_DATE_EPOCH=0",
      // --opt is split at the first "=" by buildctl, not CSV-parsed: no quoting.
      "--opt",
      "build-arg:LIST=a,b",
      "--import-cache",
      "type=local,src=/tmp/c",
      "--export-cache",
      "type=registry,ref=r,mode=max",
      "--export-cache",
      "type=inline",
      "--output",
      'type=image,"name=localhost:5000/x:1,localhost:5000/x:latest",push=true',
      "--no-cache",
      "--source-policy-file",
      "/p.json",
      "--metadata-file",
      "/m.json",
    ]);
  });

  it("emits only the frontend and locals for a minimal request", () => {
    expect(buildctlBuildArgs(base)).toEqual(["--frontend", "dockerfile.v0", "--local", "context=/src", "--local", "dockerfile=/src/docker"]);
  });

  it("is pure", () => {
    const req = { ...base, buildArgs: { A: "1" } };
    const snapshot = structuredClone(req);
    expect(buildctlBuildArgs(req)).toEqual(buildctlBuildArgs(req));
    expect(req).toEqual(snapshot);
  });
});
