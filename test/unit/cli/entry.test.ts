import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";

/** Every way a command ends waits for its exit tasks, and ends with the documented status. */
const ROOT = resolve(import.meta.dirname, "../../..");
const dir = mkdtempSync(join(tmpdir(), "entry-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function command(mode: string, marker: string) {
  return execa(process.execPath, ["--import", "tsx", "test/support/exit-tasks-command.ts", marker, mode], { cwd: ROOT, reject: false });
}

describe("runCommand", () => {
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    it(`exits ${code} on ${signal}, after its exit tasks`, async () => {
      const marker = join(dir, signal);
      const child = command("signal", marker);
      await new Promise<void>((ready) => child.stdout!.once("data", () => ready()));
      child.kill(signal);
      const result = await child;
      expect(result.exitCode).toBe(code);
      expect(readFileSync(marker, "utf8")).toBe(`task ran for ${signal}\n`);
    });
  }

  it("exits 0 after its exit tasks when the command succeeds", async () => {
    const marker = join(dir, "ok");
    expect((await command("ok", marker)).exitCode).toBe(0);
    expect(readFileSync(marker, "utf8")).toBe("task ran for exit\n");
  });

  it("exits 3 for an infrastructure error and 4 for a harness bug, after its exit tasks", async () => {
    const infra = await command("harness-error", join(dir, "infra"));
    expect(infra.exitCode).toBe(3);
    expect(infra.stderr).toBe("error [ENGINE_UNAVAILABLE]: no engine here\n  → start one");
    expect(readFileSync(join(dir, "infra"), "utf8")).toBe("task ran for exit\n");
    const bug = await command("bug", join(dir, "bug"));
    expect(bug.exitCode).toBe(4);
    expect(bug.stderr).toMatch(/^unexpected error: TypeError: a harness bug/);
    expect(readFileSync(join(dir, "bug"), "utf8")).toBe("task ran for exit\n");
  });
});
