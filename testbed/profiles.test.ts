import { describe, it, expect } from "vitest";
import { execa } from "execa";
import { PROFILES, PROFILE_IDS, MEDIA_KINDS, NIC_IDS, buildQemuArgs } from "./profiles.ts";

describe("machine profiles", () => {
  it.each(PROFILE_IDS)("%s: firmware files belong to the Debian package that should provide them", async (id) => {
    const flash = PROFILES[id].flash;
    if (!flash) return expect(PROFILES[id].machine.firmware).toBe("bios");
    const pkg = PROFILES[id].machine.arch === "x86" ? "ovmf-ia32" : "ovmf";
    // dpkg is the oracle: the paths must be what the package installs, not guesses.
    const { stdout } = await execa("dpkg", ["-S", flash.code, flash.vars]);
    expect(stdout.split("\n").map((l) => l.split(":")[0])).toEqual([pkg, pkg]);
  });

  it.each(PROFILE_IDS)(
    "%s: always TCG unless asked, no reboot, success-exit device, QMP, serial on stdout",
    (profile) => {
      for (const kind of MEDIA_KINDS) {
        for (const nic of NIC_IDS) {
          const args = buildQemuArgs({
            profile,
            media: { kind, path: "/m.img" },
            nic,
            qmpSocket: "/s",
            varsPath: "/v",
            accel: "tcg",
          }).join(" ");
          expect(args).toContain("-accel tcg");
          expect(args).not.toContain("kvm");
          expect(args).toContain("-no-reboot");
          expect(args).toContain("-nodefaults");
          expect(args).toContain("isa-debug-exit,iobase=0xf4,iosize=0x04");
          expect(args).toContain("-qmp unix:/s,server=on,wait=off");
          expect(args).toContain("-device VGA");
          if (nic === "none") expect(args).not.toMatch(/-netdev|netdev=/);
          else {
            expect(args).toContain(`-device ${nic},netdev=n0,romfile=`);
            expect(args).toContain("restrict=on");
          }
          expect(args).toMatch(/bootindex=0/);
          // The media are read-only unless asked (stand-alone USB media keep their logs).
          expect(args).toContain(kind === "iso" ? "readonly=on" : "id=media,readonly=on");
          expect(args.includes("/v")).toBe(PROFILES[profile].flash !== null);
        }
      }
    },
  );

  it("gives the 32-bit profiles a CPU without long mode", () => {
    for (const id of PROFILE_IDS) {
      expect(PROFILES[id].cpu === "qemu32").toBe(PROFILES[id].machine.arch === "x86");
    }
  });

  it("gives a USB drive the guest may write only when asked, and the CD drive the id QMP changes discs in", () => {
    const args = (kind: "usb" | "iso", writable?: boolean) =>
      buildQemuArgs({
        profile: "x64-bios",
        media: { kind, path: "/m.img", ...(writable ? { writable } : {}) },
        nic: null,
        qmpSocket: "/s",
        accel: "tcg",
      }).join(" ");
    expect(args("usb", true)).toContain("if=none,id=media,format=raw,file=/m.img");
    expect(args("usb")).toContain("if=none,id=media,readonly=on,format=raw,file=/m.img");
    expect(args("iso")).toContain("ide-cd,drive=media,id=cd0,bootindex=0");
  });

  it("refuses a UEFI profile without a writable vars copy", () => {
    expect(() =>
      buildQemuArgs({
        profile: "x64-uefi",
        media: { kind: "iso", path: "/m" },
        nic: null,
        qmpSocket: "/s",
        accel: "tcg",
      }),
    ).toThrow(/vars/);
  });
});
