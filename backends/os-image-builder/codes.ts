/** Codes of `bootmedia os-image build`: its Debian inputs (BM26xx) and the build (BM54xx). */
import { defineCodes } from "../../base/errors.ts";

defineCodes("os-image-builder", {
  BM2601: {
    title: "Debian mirror unreachable",
    hint: "os-image build reads the suites' InRelease from deb.debian.org: check the network (a proxy in http_proxy is honoured), then run it again.",
  },
  BM2602: {
    title: "mmdebstrap failed",
    hint: "The message ends with mmdebstrap's last lines: a package apt could not fetch or verify, or a maintainer script that failed. Run it again; a persistent failure names the package.",
  },
  BM2603: {
    title: "package file missing from the cache",
    hint: "A package installed in the image has no .deb in the build cache to record its sha256: delete <cache>/os-image-build/debs and build again.",
  },
  BM5401: {
    title: "os-image build needs root",
    hint: "mmdebstrap installs the packages as root (file owners, device nodes): run `sudo bootmedia os-image build ...`.",
  },
  BM5402: {
    title: "os-image build tool missing",
    hint: "Install the tools with `bootmedia doctor --install --for fixtures` (mmdebstrap, e2fsprogs, fdisk, grub-common, zstd).",
  },
  BM5403: {
    title: "image does not fit",
    hint: "The installed tree is larger than the root partition: give a larger --size (e.g. --size 3GiB).",
  },
  BM5404: {
    title: "disk image step failed",
    hint: "mkfs.ext4, sfdisk or grub-mkimage refused the image; the message holds its output.",
  },
  BM5405: {
    title: "invalid os-image option",
    hint: "Use --distro debian-12, --arch x86|x64 and a --size like 1536MiB or 2GiB (at least 1GiB).",
  },
});
