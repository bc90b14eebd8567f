/**
 * Every command, with what `bootmedia --help` shows of it. A command's module (and what it
 * needs: zod, certificates, QEMU tooling…) loads only when that command runs.
 */
import type { CommandRow } from "./types.ts";

export const COMMANDS: Record<string, CommandRow> = {
  build: {
    usage: "build [spec]",
    describe: "Build the media: resolve → validate → layout → fetch → write",
    load: () => import("./build.ts"),
  },
  plan: {
    usage: "plan [spec]",
    describe: "Resolve, validate and lay out the media; print the tree, sizes and volumes; write nothing",
    load: () => import("./plan.ts"),
  },
  inspect: {
    usage: "inspect <media>",
    describe: "Read media back: volumes, boot records, files, media configuration (secrets only as present/absent)",
    load: () => import("./inspect.ts"),
  },
  init: {
    usage: "init [spec]",
    describe:
      "Create a media spec with a wizard (media type, management, USB or CD/DVD, security, boot image, customization); every answer can also come from a flag, --yes takes the defaults",
    load: () => import("./init.ts"),
  },
  diff: {
    usage: "diff <a> <b>",
    describe:
      "Compare two media (folder, ISO, USB image): settings, certificate, password, variables, prestart, boot images, files; exit 1 when different",
    load: () => import("./diff.ts"),
  },
  verify: {
    usage: "verify <media>",
    describe:
      "Check a medium against its SBOM, signed provenance and testbed statement: signatures (--key), subjects equal to the medium's sha256, required profiles passed (--require); exit 1 with the reason otherwise",
    load: () => import("./verify.ts"),
  },
  testbed: {
    usage: "testbed [...inputs]",
    describe:
      "Boot media (or specs, built first) in QEMU on a matrix of machines; `testbed merge <dirs...>` joins shard reports; `testbed farm` writes the jobs of a Slurm, GitHub, GitLab or Kubernetes farm",
    load: () => import("./testbed.ts"),
  },
  image: {
    usage: "image <format> <dir>",
    describe: "Write an image of a folder with one writer (`bootmedia image --help` lists the formats)",
    load: () => import("./image.ts"),
  },
  doctor: {
    usage: "doctor",
    describe: "List the external tools and firmware the features need, and the Debian packages that provide them",
    load: () => import("./doctor.ts"),
  },
  dp: {
    usage: "dp <action> [dir]",
    describe: "Distribution point: `dp serve <dir>` serves a content library folder over HTTP(S) (Ctrl-C stops)",
    load: () => import("./dp.ts"),
  },
  mp: {
    usage: "mp <action>",
    describe:
      "Management point: `mp serve --site FILE` answers media (policy, task sequences, status, logs); `mp status --state-dir DIR` shows each computer's deployment",
    load: () => import("./mp.ts"),
  },
  "boot-image": {
    usage: "boot-image <action>",
    describe:
      "Boot images: `boot-image build --arch x86|x64 --out <library>` builds bootmedia's boot image from Debian packages (cached; byte-identical for the same inputs); `--signing-key`, `--signing-cert` sign its kernel for the own-key Secure Boot chain",
    load: () => import("./boot-image.ts"),
  },
  "os-image": {
    usage: "os-image <action>",
    describe:
      "OS images: `os-image build --distro debian-12 --arch x64|x86 --out <library>` builds a minimal Debian whole-disk image (GPT, BIOS + UEFI, x64 Secure Boot) as an os-image package (cached)",
    load: () => import("./os-image.ts"),
  },
  library: {
    usage: "library <action> [library] [folder]",
    describe:
      "Content library: `add-boot-image <lib> --kernel K [--initrd I] --arch A`, `add-os-image <lib> --image FILE --arch A` (a whole-disk image, raw or zstd/xz/gzip), `add <lib> <folder> --type prestart|task-sequence`, `ls <lib>`, `verify <lib>` (sizes and sha256; OS images decompressed and their tables reread)",
    load: () => import("./library.ts"),
  },
  cache: {
    usage: "cache <action>",
    describe: "Content cache: `ls` (entries, size, age), `verify` (rehash, remove bad), `prune --older-than 30d`",
    load: () => import("./cache.ts"),
  },
};
