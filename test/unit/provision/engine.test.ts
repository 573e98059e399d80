import { resolve } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { HarnessError } from "../../../harness/errors.ts";
import { ensureEngine } from "../../../harness/provision/engine.ts";

const ROOT = resolve(import.meta.dirname, "../../..");
const isRoot = process.getuid?.() === 0;

describe("ensureEngine without a Docker engine", () => {
  it("names DOCKER_HOST and says how to fix it when DOCKER_HOST points nowhere", async () => {
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = "unix:///nonexistent/docker.sock";
    try {
      const err = await ensureEngine().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HarnessError);
      expect((err as HarnessError).code).toBe("ENGINE_UNAVAILABLE");
      expect((err as HarnessError).describe()).toMatch(/No Docker engine answers at DOCKER_HOST=unix:\/\/\/nonexistent\/docker\.sock/);
      expect((err as HarnessError).describe()).toMatch(/Start a Docker engine/);
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  });

  // Needs root to become another user; on a non-root runner the first test covers the message.
  it.runIf(isRoot)("says it is not root, and what to do, for an unprivileged user", async () => {
    const result = await execa(process.execPath, ["--import", "tsx", "harness/cli/main.ts", "ensure-engine"], {
      cwd: ROOT,
      uid: 65534,
      gid: 65534,
      reject: false,
      // Its own writable places: the caller's TMPDIR (tsx's cache lives there) may be root's alone.
      env: { ...process.env, DOCKER_HOST: "", HOME: "/tmp", TMPDIR: "/tmp", BUILDKIT_REPRO_CACHE: "/tmp/buildkit-repro-nobody" },
    });
    expect(result.exitCode, result.stderr).toBe(3);
    expect(result.stderr).toMatch(/error \[ENGINE_UNAVAILABLE\]: No Docker engine answers at \/var\/run\/docker\.sock, and this process is not root/);
    expect(result.stderr).toMatch(/run as root on Debian\/Ubuntu/);
  });
});
