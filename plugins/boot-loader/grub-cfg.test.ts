import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { renderGrubCfg, type GrubImage } from "./grub-cfg.ts";

const dir = mkdtempSync(join(tmpdir(), "bm-grubcfg-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** grub-script-check, GRUB's own parser, is the oracle for the syntax. */
function grubCheck(cfg: string): void {
  const p = join(dir, "grub.cfg");
  writeFileSync(p, cfg);
  execFileSync("grub-script-check", [p], { stdio: "pipe" });
}

const X86: GrubImage = {
  id: "BM100086",
  arch: "x86",
  kernel: "boot/x86/vmlinuz",
  initrd: "boot/x86/initrd.img",
  cmdline: "console=ttyS0,115200 quiet panic=-1",
};
const X64: GrubImage = {
  id: "DEB12",
  arch: "x64",
  kernel: "boot/DEB12/linux",
  initrd: "boot/DEB12/initrd.gz",
  cmdline: "console=ttyS0,115200 priority=low",
};

/** Commands the boot files embed (grub-images.ts): grub-script-check knows every command, GRUB at boot only these. */
const EMBEDDED_COMMANDS = new Set([
  "serial",
  "terminal_input",
  "terminal_output",
  "set",
  "if",
  "elif",
  "else",
  "fi",
  "then",
  "cpuid",
  "echo",
  "halt",
  "linux",
  "initrd",
  "boot",
  "[",
]);

function commandsOf(cfg: string): string[] {
  return cfg
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .flatMap((l) => l.split(";").map((p) => p.trim().split(/\s+/)[0]!))
    .filter(Boolean);
}

describe("the generated grub.cfg", () => {
  it.each([
    ["both", ["x86", "x64"]],
    ["x64 only", ["x64"]],
    ["x86 only", ["x86"]],
  ] as const)("uses only commands the boot files embed (%s)", (_n, arches) => {
    const cfg = renderGrubCfg(
      arches.map((a) => (a === "x86" ? X86 : X64)),
      "debug",
    );
    for (const c of commandsOf(cfg)) expect(EMBEDDED_COMMANDS, c).toContain(c);
  });

  it("boots each image with its own command line plus the spec's arguments, and parses as GRUB script", () => {
    const cfg = renderGrubCfg([X86, X64], "ip=dhcp");
    grubCheck(cfg);
    expect(cfg).toContain("if linux /boot/x86/vmlinuz console=ttyS0,115200 quiet panic=-1 ip=dhcp; then");
    expect(cfg).toContain("if initrd /boot/x86/initrd.img; then boot; fi");
    expect(cfg).toContain("if linux /boot/DEB12/linux console=ttyS0,115200 priority=low ip=dhcp; then");
    // BIOS: x64 on a 64-bit CPU, x86 otherwise; UEFI: GRUB's own bitness.
    expect(cfg).toMatch(/elif cpuid -l; then\n  set bm_arch=x64\nelse\n  set bm_arch=x86\nfi/);
    expect(cfg).toContain('if [ "$grub_cpu" = "x86_64" ]; then set bm_arch=x64; fi');
    expect(cfg).toContain('if [ "$grub_cpu" = "i386" ]; then set bm_arch=x86; fi');
    expect(cfg).toMatch(/"reason":"needs-x64-cpu"[\s\S]*halt[\s\S]*"reason":"boot-image-unloadable"\}'\nhalt\n$/);
  });

  it("media with only an x64 image refuse a 32-bit CPU with needs-x64-cpu", () => {
    const cfg = renderGrubCfg([X64]);
    grubCheck(cfg);
    expect(cfg).toMatch(/elif cpuid -l; then\n  set bm_arch=x64\nelse\n  set bm_arch=\nfi/);
    expect(cfg).toMatch(
      /if \[ -z "\$bm_arch" \]; then\n  echo 'BOOTMEDIA \{"event":"error","reason":"needs-x64-cpu"\}'\n  halt/,
    );
  });

  it("boots a kernel without an initrd, and quotes a path GRUB would split", () => {
    const cfg = renderGrubCfg([{ id: "K", arch: "x86", kernel: "boot/my kernel/bzImage", cmdline: "" }]);
    grubCheck(cfg);
    expect(cfg).toContain("if linux '/boot/my kernel/bzImage'; then\n    boot\n  fi");
  });
});
