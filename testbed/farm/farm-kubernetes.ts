/**
 * Kubernetes: an Indexed Job (completions N, parallelism K; pod k gets JOB_COMPLETION_INDEX=k
 * and runs shard k+1 of N with `--shard auto/N`), one retry per index and none counted
 * against the others (backoffLimitPerIndex), writing to a shared volume; then a merge Job.
 * Kubernetes has no "after that Job, whatever its end" between Jobs, so submit.sh waits for
 * the Indexed Job to be Complete or Failed, then creates the merge Job.
 * QEMU runs under TCG and needs no device; for KVM a device plugin must offer /dev/kvm.
 */
import { stringify } from "yaml";
import { mergeCommand, shardCommand, shellWithVariable, type FarmFile, type FarmPlan } from "./farm-plan.ts";

const KUBERNETES_FILES = { shards: "shards.yaml", merge: "merge.yaml", submit: "submit.sh" } as const;
const VOLUME = "bootmedia-farm";
/** The extended resource KubeVirt's device plugin offers for /dev/kvm. */
const KVM_RESOURCE = "devices.kubevirt.io/kvm";

export function renderKubernetes(plan: FarmPlan): FarmFile[] {
  const run = plan.runDir;
  const mount = { volumeMounts: [{ name: "farm", mountPath: run }] };
  const volumes = [{ name: "farm", persistentVolumeClaim: { claimName: VOLUME } }];
  // /dev/kvm only through a device plugin (KubeVirt's resource name), never a privileged pod.
  const kvm = plan.kvm ? { [KVM_RESOURCE]: "1" } : {};
  const resources = {
    requests: { cpu: String(plan.cpus), memory: `${plan.memMiB}Mi`, ...kvm },
    limits: { cpu: String(plan.cpus), memory: `${plan.memMiB}Mi`, ...kvm },
  };
  const claim = {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: VOLUME },
    spec: { accessModes: ["ReadWriteMany"], resources: { requests: { storage: "20Gi" } } },
  };
  const shards = {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: "bootmedia-shards" },
    spec: {
      completionMode: "Indexed",
      completions: plan.shards,
      parallelism: plan.maxParallel,
      backoffLimitPerIndex: 1,
      activeDeadlineSeconds: plan.timeLimitMin * 60 * Math.ceil(plan.shards / plan.maxParallel),
      template: {
        spec: {
          restartPolicy: "Never",
          containers: [
            {
              name: "shard",
              image: plan.image,
              resources,
              ...mount,
              command: [
                "sh",
                "-c",
                `exec ${shardCommand(plan, `auto/${plan.shards}`, shellWithVariable(`${run}/shards/`, "$JOB_COMPLETION_INDEX"))}`,
              ],
            },
          ],
          volumes,
        },
      },
    },
  };
  const shardDirs = Array.from({ length: plan.shards }, (_, i) => `${run}/shards/${i}`);
  const merge = {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: "bootmedia-merge" },
    spec: {
      backoffLimit: 0,
      template: {
        spec: {
          restartPolicy: "Never",
          containers: [
            {
              name: "merge",
              image: plan.image,
              ...mount,
              command: ["sh", "-c", `exec ${mergeCommand(plan, shardDirs, `${run}/report`)}`],
            },
          ],
          volumes,
        },
      },
    },
  };
  const head = (
    what: string,
  ) => `# Written by \`bootmedia testbed farm --engine kubernetes\`: ${what} (docs/testbed.md, "Running a farm").
${
  plan.kvm
    ? `# The shards run QEMU with KVM: each asks for ${KVM_RESOURCE} (a device plugin, e.g. KubeVirt's, must offer /dev/kvm on the nodes).`
    : '# QEMU runs under TCG here and needs no device. For --accel kvm, /dev/kvm must come from a device plugin\n# (e.g. KubeVirt\'s: resources.limits["devices.kubevirt.io/kvm"]: "1"), never from a privileged pod.'
}
`;
  const submit = `#!/bin/sh
# Creates the volume and the Indexed Job, waits until the Job is Complete or Failed (the merge must run
# either way), then creates the merge Job. Prints the Job's end state.
set -eu
cd "$(dirname "$0")"
kubectl apply -f ${KUBERNETES_FILES.shards}
while :; do
  state=$(kubectl get job bootmedia-shards -o jsonpath='{.status.conditions[?(@.status=="True")].type}')
  case "$state" in *Complete*|*Failed*) break ;; esac
  sleep 10
done
echo "shards=$state"
kubectl apply -f ${KUBERNETES_FILES.merge}
`;
  return [
    {
      path: KUBERNETES_FILES.shards,
      text:
        head(`the shared volume and the shards, ${plan.shards} of them, ${plan.maxParallel} at once`) +
        [claim, shards].map((d) => stringify(d, { lineWidth: 0, aliasDuplicateObjects: false })).join("---\n"),
    },
    {
      path: KUBERNETES_FILES.merge,
      text:
        head("the merge, created by submit.sh once the shards have ended") +
        stringify(merge, { lineWidth: 0, aliasDuplicateObjects: false }),
    },
    { path: KUBERNETES_FILES.submit, text: submit, executable: true },
  ];
}
