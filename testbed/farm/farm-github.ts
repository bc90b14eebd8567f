/**
 * GitHub Actions: a workflow whose `shards` job is a matrix of N (at most K at once, no
 * fail-fast), each uploading its report folder as an artifact, and a `merge` job that needs
 * them and runs `if: always()`. GitHub sets no shard variables, so each shard gets
 * `--shard ${{ matrix.shard }}/N` (1-based; `strategy.job-index` would be 0-based).
 */
import { stringify } from "yaml";
import { mergeCommand, shardCommand, type FarmFile, type FarmPlan } from "./farm-plan.ts";

const GITHUB_WORKFLOW = "bootmedia-farm.yml";

const SHARD = "${{ matrix.shard }}";

export function renderGithub(plan: FarmPlan): FarmFile[] {
  const setup = [
    { uses: "actions/checkout@v4" },
    { uses: "actions/setup-node@v4", with: { "node-version": 20 } },
    { run: "npm ci" },
  ];
  const shardNames = Array.from({ length: plan.shards }, (_, i) => `shards/bootmedia-shard-${i + 1}`);
  const workflow = {
    name: "bootmedia testbed farm",
    on: { workflow_dispatch: {}, schedule: [{ cron: "0 2 * * *" }] },
    jobs: {
      shards: {
        name: `shard ${SHARD}/${plan.shards}`,
        "runs-on": "ubuntu-latest",
        "timeout-minutes": plan.timeLimitMin,
        strategy: {
          "fail-fast": false,
          "max-parallel": plan.maxParallel,
          matrix: { shard: Array.from({ length: plan.shards }, (_, i) => i + 1) },
        },
        steps: [
          ...setup,
          { name: "Debian packages the testbed needs", run: `${plan.bootmedia} doctor --install --for testbed` },
          { name: "testbed shard", run: shardCommand(plan, `${SHARD}/${plan.shards}`, `shards/${SHARD}`) },
          {
            uses: "actions/upload-artifact@v4",
            if: "always()",
            with: { name: `bootmedia-shard-${SHARD}`, path: `shards/${SHARD}`, "if-no-files-found": "ignore" },
          },
        ],
      },
      merge: {
        needs: "shards",
        if: "always()",
        "runs-on": "ubuntu-latest",
        steps: [
          ...setup,
          { uses: "actions/download-artifact@v4", with: { pattern: "bootmedia-shard-*", path: "shards" } },
          { name: "one report, every case once", run: mergeCommand(plan, shardNames, "report") },
          { uses: "actions/upload-artifact@v4", if: "always()", with: { name: "bootmedia-report", path: "report" } },
        ],
      },
    },
  };
  const head = `# Written by \`bootmedia testbed farm --engine github\`: copy to .github/workflows/${GITHUB_WORKFLOW}.
# ${plan.shards} shards, at most ${plan.maxParallel} at once; the merge runs whatever the shards did (docs/testbed.md, "Running a farm").
`;
  return [{ path: GITHUB_WORKFLOW, text: head + stringify(workflow, { lineWidth: 0, aliasDuplicateObjects: false }) }];
}
