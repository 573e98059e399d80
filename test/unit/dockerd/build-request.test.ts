import { describe, expect, it } from "vitest";
import { buildQuery, dockerBuildCommand } from "../../../harness/dockerd/build-request.ts";
import { pushedDigest, splitTag, streamError } from "../../../harness/dockerd/engine-builder.ts";

describe("POST /build query", () => {
  it("asks for BuildKit and passes args, cache sources and target the way the docker CLI does", () => {
    const req = {
      contextDir: "/ctx",
      tags: ["registry:5000/app:latest", "registry:5000/app:1"],
      buildArgs: { BUILDKIT_INLINE_CACHE: "1", V: "2" },
      cacheFrom: ["registry:5000/app:latest"],
      target: "final",
      noCache: true,
      labels: { a: "b" },
    };
    expect(buildQuery(req)).toEqual({
      version: "2",
      dockerfile: "Dockerfile",
      t: ["registry:5000/app:latest", "registry:5000/app:1"],
      buildargs: '{"BUILDKIT_INLINE_CACHE":"1","V":"2"}',
      cachefrom: '["registry:5000/app:latest"]',
      target: "final",
      nocache: "1",
      labels: '{"a":"b"}',
    });
    expect(dockerBuildCommand(req)).toEqual([
      "docker",
      "build",
      "-t",
      "registry:5000/app:latest",
      "-t",
      "registry:5000/app:1",
      "--build-arg",
      "BUILDKIT_INLINE_CACHE=1",
      "--build-arg",
      "V=2",
      "--cache-from",
      "registry:5000/app:latest",
      "--target",
      "final",
      "--no-cache",
      "--label",
      "a=b",
      "/ctx",
    ]);
  });

  it("leaves out what was not asked for", () => {
    expect(buildQuery({ contextDir: "/ctx", dockerfile: "fail.Dockerfile", buildArgs: {}, cacheFrom: [] })).toEqual({
      version: "2",
      dockerfile: "fail.Dockerfile",
    });
  });
});

describe("push and pull helpers", () => {
  it("splits a tag from a reference without mistaking a registry port for one", () => {
    expect(splitTag("registry:5000/app:latest")).toEqual({ name: "registry:5000/app", tag: "latest" });
    expect(splitTag("registry:5000/app")).toEqual({ name: "registry:5000/app", tag: "latest" });
    expect(splitTag("app:v1")).toEqual({ name: "app", tag: "v1" });
  });

  it("finds the pushed digest in both image stores' streams", () => {
    const digest = `sha256:${"ab".repeat(32)}`;
    const graphdriver = `{"status":"Pushed","progressDetail":{},"id":"0175aa7a3ba4"}\r\n{"status":"latest: digest: ${digest} size: 735"}\r\n{"progressDetail":{},"aux":{"Tag":"latest","Digest":"${digest}","Size":735}}\r\n`;
    const containerd = `{"status":"Pushed","progressDetail":{},"id":"0175aa7a3ba4"}\r\n{"status":"latest: digest: ${digest} size: 852"}\r\n`;
    expect(pushedDigest(graphdriver)).toBe(digest);
    expect(pushedDigest(containerd)).toBe(digest);
    expect(pushedDigest('{"status":"Preparing"}')).toBeUndefined();
  });

  it("reports the first error of a stream", () => {
    const stream =
      '{"status":"Preparing"}\n{"errorDetail":{"message":"An image does not exist locally with the tag: registry:5000/app"},"error":"An image does not exist locally with the tag: registry:5000/app"}\n';
    expect(streamError(stream)).toBe("An image does not exist locally with the tag: registry:5000/app");
    expect(streamError('{"status":"Pushed"}\n{"partial')).toBeUndefined();
  });
});
