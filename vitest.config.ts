import { defineConfig } from "vitest/config";
import EndToEndFirst from "./testing/sequencer.ts";

// One suite: unit tests (*.test.ts) and QEMU/oracle end-to-end tests (*.e2e.test.ts).
// `npm test` first sets the machine up (scripts/test-setup.ts: Debian packages through the
// doctor, the native helper, the reference boot images); `npm run test:quick` skips the end-to-end ones.
export default defineConfig({
  test: {
    include: ["{base,api,cli,testing,core,plugins,backends,formats,testbed,fixtures,scripts}/**/*.test.ts"],
    exclude: ["**/node_modules/**", "dist/**"],
    globalSetup: ["testing/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 600_000,
    pool: "forks",
    maxWorkers: 2,
    // Tests a file marks concurrent (QEMU boots: fixtures/boot-images/boot.e2e.test.ts) run
    // two at a time within it.
    maxConcurrency: 2,
    // On a clean clone (CI), the QEMU files start first (testing/sequencer.ts).
    sequence: { sequencer: EndToEndFirst },
    // The run ends with "N passed, N failed" and the skipped tests with their reasons;
    // CI also reads .ci/results.json (.ci/count.mjs; BOOTMEDIA_RESULTS names another file, as the Node 24 run does).
    reporters: [
      "default",
      ...(process.env.CI
        ? [
            ["json", { outputFile: process.env.BOOTMEDIA_RESULTS ?? ".ci/results.json" }] as [
              string,
              Record<string, unknown>,
            ],
          ]
        : []),
      "./testing/summary-reporter.ts",
    ],
  },
});
