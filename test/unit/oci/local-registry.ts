/**
 * A real registry for unit tests: Debian's docker-registry (distribution 2.x) on
 * 127.0.0.1, filesystem storage in a temp dir, started per test file.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { RegistryClient } from "../../../harness/oci/registry-client.ts";

const REGISTRY_BINARY = "/usr/bin/docker-registry";

export interface LocalRegistry {
  readonly client: RegistryClient;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export async function startLocalRegistry(): Promise<LocalRegistry> {
  if (!existsSync(REGISTRY_BINARY)) {
    throw new Error(`${REGISTRY_BINARY} is missing, so the registry integration tests cannot run. Install it: sudo apt-get install -y docker-registry`);
  }
  const dir = mkdtempSync(join(tmpdir(), "oci-registry-test-"));
  const port = await freePort();
  const config = join(dir, "config.yml");
  writeFileSync(
    config,
    [
      "version: 0.1",
      "log:",
      "  level: error",
      "  accesslog:",
      "    disabled: true",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${join(dir, "data")}`,
      "  delete:",
      "    enabled: true",
      "http:",
      `  addr: 127.0.0.1:${port}`,
      "",
    ].join("\n"),
  );
  const proc: ResultPromise = execa(REGISTRY_BINARY, ["serve", config], { reject: false, all: true, buffer: true });
  const stop = async () => {
    if (proc.exitCode === null) {
      proc.kill("SIGTERM");
      await proc;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) break;
    const ok = await fetch(`${url}/v2/`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return { client: new RegistryClient(url), stop };
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill();
  const result = await proc;
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`${REGISTRY_BINARY} did not answer on ${url}/v2/ within 15 s (exit ${String(result.exitCode)}): ${String(result.all ?? "")}`);
}
