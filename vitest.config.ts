import { defineConfig } from "vitest/config";

// One suite: unit tests (*.test.ts) and QEMU/oracle end-to-end tests (*.e2e.test.ts).
// `npm run test:quick` skips the end-to-end ones.
export default defineConfig({
  test: {
    include: ["{base,api,cli,core,plugins,formats,testbed,fixtures,scripts}/**/*.test.ts"],
    exclude: ["**/node_modules/**", "dist/**"],
    globalSetup: ["testing/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 600_000,
    pool: "forks",
    maxWorkers: 2,
    // CI reads .ci/results.json to print its "N passed, N failed" line.
    reporters: process.env.CI ? ["default", ["json", { outputFile: ".ci/results.json" }]] : ["default"],
  },
});
