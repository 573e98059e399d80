import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          // Provisions the engine once, shares one run id with the workers, and sweeps
          // everything of the run at the end, also when a test failed.
          globalSetup: ["test/e2e/global-setup.ts"],
          testTimeout: 30 * 60_000,
          hookTimeout: 30 * 60_000,
          // One BuildKit environment at a time: the machines have two cores.
          fileParallelism: false,
        },
      },
    ],
  },
});
