/** Codes of the testbed (BM50xx inputs, BM51xx QEMU/QMP and shard results) (the management-point simulator's are in mp/codes.ts). */
import { defineCodes } from "../base/errors.ts";

defineCodes("testbed", {
  BM5001: { title: "testbed tool missing", hint: "Run `bootmedia doctor` to see which package provides it." },
  BM5002: {
    title: "firmware file missing",
    hint: "Install Debian's `ovmf` (x64 UEFI) and `ovmf-ia32` (x86 UEFI) packages, or drop the UEFI profiles with --profile.",
  },
  BM5003: {
    title: "media file missing",
    hint: "Build the media first (`bootmedia build`), or check the path given to the testbed.",
  },
  BM5004: {
    title: "unknown machine profile",
    hint: "Use one of the profiles `docs/testbed.md` lists: x86-bios, x64-bios, x86-uefi, x64-uefi.",
  },
  BM5005: {
    title: "unknown NIC model",
    hint: "Use one of the NIC models `docs/testbed.md` lists: e1000, virtio-net-pci, e1000e, rtl8139.",
  },
  BM5006: { title: "invalid shard", hint: "Give the shard as i/n with 1 <= i <= n, e.g. --shard 2/4." },
  BM5007: { title: "duplicate case id", hint: "Two media give the same case id; give each media its own `label`." },
  BM5008: {
    title: "KVM not usable",
    hint: "The KVM probe boot did not finish; run without --accel kvm (TCG is the default), or fix /dev/kvm access and nested virtualisation.",
  },
  BM5009: {
    title: "prompt answer invalid",
    hint: "Give each prompt answer as one line of text (no line breaks); an empty string types just Enter (the prompt's default).",
  },
  BM5012: {
    title: "pass pattern invalid",
    hint: 'Give --pass-serial / --pass-screen (or a boot image\'s testbed.pass) as a JavaScript regular expression, e.g. "Choose the language"; docs/testbed.md, "Images without the bootmedia agent".',
  },
  BM5013: {
    title: "machine memory invalid",
    hint: "Give --memory as MiB for every profile (1024) or per profile (x64-uefi=2048,x86-bios=1024), each from 128 to 65536.",
  },
  BM5014: {
    title: "shard not found in the environment",
    hint: "Run `--shard auto` inside a Slurm job array (sbatch --array), a Kubernetes Indexed Job (with --shard auto/N), or a parallel GitLab, Buildkite, CircleCI, Bitbucket or Semaphore job; elsewhere give --shard i/n.",
  },
  BM5015: {
    title: "shard in the environment inconsistent",
    hint: "The engine's index must lie inside its count (Slurm: a contiguous --array=0-(N-1), no step); a count given as --shard auto/N must equal the engine's. `bootmedia testbed farm` writes job files that agree.",
  },
  BM5016: {
    title: "farm options invalid",
    hint: 'Give --engine slurm|github|gitlab|kubernetes, --shards N (1 to 1000), --max-parallel K >= 1 and, for Kubernetes, --image; docs/testbed.md, "Running a farm".',
  },
  BM5017: {
    title: "farm folder not empty",
    hint: "Give `testbed farm` a new or empty --out folder; a previous farm's files and results are never overwritten.",
  },
  BM5101: {
    title: "QEMU failed to start",
    hint: "Run the QEMU command line printed in the case's qemu.log by hand to see why; check the profile's firmware and the media path.",
  },
  BM5102: {
    title: "QMP connection failed",
    hint: "QEMU did not open its QMP socket; check that the temp folder is writable and QEMU is 7.2 or newer.",
  },
  BM5103: { title: "QMP command failed", hint: "QEMU refused a QMP command; the message holds QEMU's own error text." },
  BM5104: {
    title: "shard results unreadable",
    hint: "Pass the result folders written by `bootmedia testbed --shard i/n` (each holds results.json).",
  },
  BM5105: {
    title: "shard results overlap",
    hint: "Two shard folders hold the same case; merge the results of one run only, each shard once.",
  },
  BM5106: {
    title: "shard results from different matrices",
    hint: "Merge only the shards of one run: every shard must have been run with the same inputs, profiles, NICs and shard count (`testbed farm` writes commands that are).",
  },
  BM5107: {
    title: "shard results from different bootmedia versions",
    hint: "Run every shard, and the merge, with the same bootmedia version; run the shards that differ again.",
  },
  BM5108: {
    title: "report folder already in use",
    hint: "Give each shard its own --report-dir (e.g. shards/$SLURM_ARRAY_TASK_ID), and merge into a folder that is none of the shards'.",
  },
  BM5109: {
    title: "shard results incomplete",
    hint: "Pass every shard's folder to `testbed merge`, or add --partial to report the missing shards' cases as not run (the merge then exits 1).",
  },
  BM5305: {
    title: "testbed site file invalid",
    hint: 'Fix the site file as docs/testbed.md ("Site files") describes: a site database, media by name, and cases naming them.',
  },
  BM5401: {
    title: "deploy case disk invalid",
    hint: "Give the case's disk as { size: 4GiB, bus: nvme | virtio | sata }: a size from 64 MiB to 2 TiB (bytes, or a number with MiB/GiB/TiB).",
  },
  BM5402: {
    title: "distribution point guest URL invalid",
    hint: "Name each distribution point the guest reaches as http://10.0.2.N[:PORT] (N from 2 to 254, not a management point's 10.0.2.100+ address); the testbed serves the site's library there.",
  },
  BM5403: {
    title: "deploy case needs a library",
    hint: "The site of a deploy case names its content `library` (the folder `bootmedia library add-os-image` filled) and at least one `distributionPoints` entry.",
  },
});
