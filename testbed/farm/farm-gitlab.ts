/**
 * GitLab CI: a job with `parallel: N` (GitLab sets CI_NODE_INDEX 1..N and CI_NODE_TOTAL, which
 * `--shard auto/N` reads), each shard's junit.xml as `artifacts:reports:junit` (GitLab joins
 * them into the pipeline's test report, every case once), and a merge job in `.post` that
 * runs `when: always` for the one HTML report.
 */
import { stringify } from "yaml";
import { mergeCommand, shardCommand, type FarmFile, type FarmPlan } from "./farm-plan.ts";

const GITLAB_FILE = "bootmedia-farm.gitlab-ci.yml";

export function renderGitlab(plan: FarmPlan): FarmFile[] {
  const image = plan.image ?? "node:20-bookworm";
  const shardDirs = Array.from({ length: plan.shards }, (_, i) => `shards/${i + 1}`);
  const pipeline = {
    "bootmedia-shards": {
      stage: "test",
      image,
      parallel: plan.shards,
      timeout: `${plan.timeLimitMin} minutes`,
      script: [
        "npm ci",
        `${plan.bootmedia} doctor --install --for testbed`,
        shardCommand(plan, `auto/${plan.shards}`, '"shards/$CI_NODE_INDEX"'),
      ],
      artifacts: { when: "always", paths: ["shards/"], reports: { junit: "shards/*/junit.xml" } },
    },
    "bootmedia-merge": {
      stage: ".post",
      image,
      when: "always",
      needs: [{ job: "bootmedia-shards", artifacts: true }],
      script: ["npm ci", mergeCommand(plan, shardDirs, "report")],
      artifacts: { when: "always", paths: ["report/"] },
    },
  };
  const head = `# Written by \`bootmedia testbed farm --engine gitlab\`: include it from .gitlab-ci.yml
# (include: { local: ${GITLAB_FILE} }). ${plan.shards} shards; GitLab has no per-job limit on how many run
# at once: ${plan.maxParallel} at once is the runners' \`concurrent\` setting (docs/testbed.md, "Running a farm").
`;
  return [{ path: GITLAB_FILE, text: head + stringify(pipeline, { lineWidth: 0, aliasDuplicateObjects: false }) }];
}
