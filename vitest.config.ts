import { defineConfig } from "vitest/config";

/** Provisions the host (Debian packages, an engine for e2e) once for the projects this run selects. */
const PREPARE_HOST = "test/setup/host.ts";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          // test/browser: the report page in a headless chromium (installed as a host package).
          include: ["test/unit/**/*.test.ts", "test/browser/**/*.test.ts"],
          globalSetup: [PREPARE_HOST],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          // Provisions the engine once, shares one run id with the workers, and sweeps
          // everything of the run at the end, also when a test failed.
          globalSetup: [PREPARE_HOST, "test/e2e/global-setup.ts"],
          testTimeout: 30 * 60_000,
          hookTimeout: 30 * 60_000,
          // One BuildKit environment at a time: the machines have two cores.
          fileParallelism: false,
        },
      },
    ],
  },
});
