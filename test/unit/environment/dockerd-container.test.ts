import { describe, expect, it } from "vitest";
import { daemonJson, demuxedText, dockerdArgs, engineStorage } from "../../../harness/environment/dockerd-container.ts";

describe("dockerd's argv", () => {
  it("gives the engine its own roots and TCP API, the test registry over http, and no host networking changes", () => {
    const args = dockerdArgs({ registryHost: "registry:5000" });
    expect(args[0]).toBe("dockerd");
    expect(args).toContain("--tls=false");
    expect(args).toContain("--data-root=/var/lib/docker");
    expect(args).toContain("--insecure-registry=http://registry:5000");
    expect(args).toContain("--iptables=false");
    expect(args).toContain("--ip-forward=false");
    expect(args.some((a) => a.startsWith("--feature"))).toBe(false);
    expect(args.some((a) => a.startsWith("--storage-driver"))).toBe(false);
  });

  it("sets the containerd-snapshotter feature in daemon.json only when an image store is asked for", () => {
    expect(JSON.parse(daemonJson("default"))).toEqual({});
    expect(JSON.parse(daemonJson("graphdriver"))).toEqual({ features: { "containerd-snapshotter": false } });
    expect(JSON.parse(daemonJson("containerd"))).toEqual({ features: { "containerd-snapshotter": true } });
  });
});

describe("engineStorage", () => {
  it("reads the image store from /info", () => {
    expect(engineStorage({ Driver: "overlay2", DriverStatus: [["Backing Filesystem", "tmpfs"]] })).toEqual({ driver: "overlay2", imageStore: "graphdriver" });
    expect(engineStorage({ Driver: "overlayfs", DriverStatus: [["driver-type", "io.containerd.snapshotter.v1"]] })).toEqual({
      driver: "overlayfs",
      imageStore: "containerd",
    });
    expect(engineStorage({})).toEqual({ driver: "unknown", imageStore: "graphdriver" });
  });
});

describe("demuxedText", () => {
  it("drops the 8-byte frame headers of a non-TTY log", () => {
    const frame = (stream: number, text: string) => {
      const body = Buffer.from(text);
      const header = Buffer.alloc(8);
      header[0] = stream;
      header.writeUInt32BE(body.length, 4);
      return Buffer.concat([header, body]);
    };
    expect(demuxedText(Buffer.concat([frame(1, "out\n"), frame(2, "err\n")]))).toBe("out\nerr\n");
    expect(demuxedText(Buffer.from("plain text"))).toBe("plain text");
  });
});
