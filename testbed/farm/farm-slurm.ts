/**
 * Slurm: one array job (task k runs shard k+1 of N, at most K at once, one log per task) and a
 * merge job that depends on the array with `afterany`, so it runs however the shards ended.
 * submit.sh submits both and prints their job ids; the run folder must be on a filesystem
 * every node shares (the shards write there, the merge reads there).
 */
import { join } from "node:path";
import {
  mergeCommand,
  shardCommand,
  shellQuote,
  shellWithVariable,
  type FarmFile,
  type FarmPlan,
} from "./farm-plan.ts";

const SLURM_FILES = {
  shards: "shards.sbatch",
  merge: "merge.sbatch",
  submit: "submit.sh",
  logs: "logs",
  shardDirs: "shards",
  report: "report",
} as const;

export function renderSlurm(plan: FarmPlan): FarmFile[] {
  const run = plan.runDir;
  const shardDirs = Array.from({ length: plan.shards }, (_, i) => join(run, SLURM_FILES.shardDirs, String(i)));
  const shards = `#!/bin/bash
# Written by \`bootmedia testbed farm --engine slurm\`: array task k runs shard k+1 of ${plan.shards}
# (--shard auto/${plan.shards} reads SLURM_ARRAY_TASK_ID) into ${SLURM_FILES.shardDirs}/k; its log is ${SLURM_FILES.logs}/shard-k.log.
# Cores: ${plan.concurrency} case(s) at once, one core each under TCG. Time: no shard of ${plan.casesPerShard} case(s) outlasts it.
#SBATCH --job-name=bootmedia-shards
#SBATCH --array=0-${plan.shards - 1}%${plan.maxParallel}
#SBATCH --cpus-per-task=${plan.cpus}
#SBATCH --mem=${plan.memMiB}M
#SBATCH --time=${plan.timeLimitMin}
#SBATCH --output=${join(run, SLURM_FILES.logs, "shard-%a.log")}
set -eu
exec ${shardCommand(plan, `auto/${plan.shards}`, shellWithVariable(join(run, SLURM_FILES.shardDirs) + "/", "${SLURM_ARRAY_TASK_ID}"))}
`;
  const merge = `#!/bin/bash
# Written by \`bootmedia testbed farm --engine slurm\`: runs after every array task has ended (afterany),
# and reports a shard that left no results as not run; exits 1 when any case is not as expected.
#SBATCH --job-name=bootmedia-merge
#SBATCH --cpus-per-task=1
#SBATCH --mem=1024M
#SBATCH --time=30
#SBATCH --output=${join(run, SLURM_FILES.logs, "merge.log")}
set -eu
exec ${mergeCommand(plan, shardDirs, join(run, SLURM_FILES.report))}
`;
  const submit = `#!/bin/sh
# Submits the shards as one array job and the merge as a job after it (afterany: also when shards fail).
# Extra sbatch options come from the environment: SBATCH_PARTITION, SBATCH_ACCOUNT, SBATCH_QOS …
# Prints "shards=<job id>" and "merge=<job id>".
set -eu
cd ${shellQuote(run)}
shards=$(sbatch --parsable ${SLURM_FILES.shards})
shards=\${shards%%;*}
merge=$(sbatch --parsable --dependency=afterany:"$shards" ${SLURM_FILES.merge})
merge=\${merge%%;*}
echo "shards=$shards"
echo "merge=$merge"
`;
  return [
    { path: SLURM_FILES.shards, text: shards },
    { path: SLURM_FILES.merge, text: merge },
    { path: SLURM_FILES.submit, text: submit, executable: true },
    { path: SLURM_FILES.logs, directory: true },
    { path: SLURM_FILES.shardDirs, directory: true },
  ];
}
