/**
 * Boot smoke (end-to-end): a USB image built by writeUsbImage boots real GRUB in QEMU (TCG,
 * never KVM) as a USB stick on xHCI, in BIOS mode (SeaBIOS) and UEFI mode (OVMF), and GRUB
 * prints a marker on the serial line.
 */
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { execa } from "execa";
import { copyFile, mkdtemp, rm, stat } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TreeEntry } from "../../base/tree.ts";
import { writeUsbImage } from "./index.ts";
import { buildGrubImage } from "./testing/grub-mkimage.ts";

const MARKER = "BOOTMEDIA-USB-BOOT-OK";
const TIMEOUT_MS = 60_000;
const OVMF_CODE = "/usr/share/OVMF/OVMF_CODE.fd";
const OVMF_VARS = "/usr/share/OVMF/OVMF_VARS.fd";
const FIRMWARES = ["bios", "uefi"] as const;
const haveQemu = existsSync("/usr/bin/qemu-system-x86_64");

let work: string;
let image: string;

/** Boots `disk` as a USB stick; resolves with the serial output once the marker shows (QEMU killed). */
async function bootUntilMarker(
  firmware: (typeof FIRMWARES)[number],
  disk: string,
): Promise<{ seen: boolean; serial: string }> {
  const args = [
    "-accel",
    "tcg",
    "-m",
    "256",
    "-display",
    "none",
    "-monitor",
    "none",
    "-serial",
    "stdio",
    "-no-reboot",
    "-drive",
    `if=none,id=stick,format=raw,file=${disk}`,
    "-device",
    "qemu-xhci",
    "-device",
    "usb-storage,drive=stick",
  ];
  if (firmware === "uefi") {
    const vars = join(work, "OVMF_VARS.fd");
    await copyFile(OVMF_VARS, vars);
    args.unshift(
      "-machine",
      "q35",
      "-drive",
      `if=pflash,format=raw,readonly=on,file=${OVMF_CODE}`,
      "-drive",
      `if=pflash,format=raw,file=${vars}`,
    );
  }
  const qemu = execa("qemu-system-x86_64", args, { reject: false, stdin: "ignore", timeout: TIMEOUT_MS });
  let serial = "";
  const seen = await new Promise<boolean>((resolve) => {
    qemu.stdout!.on("data", (chunk: Buffer) => {
      serial += chunk.toString("latin1");
      if (serial.includes(MARKER)) resolve(true);
    });
    void qemu.then(() => resolve(serial.includes(MARKER)));
  });
  qemu.kill("SIGKILL");
  await qemu;
  return { seen, serial };
}

describe("USB image boots in QEMU (TCG)", () => {
  beforeAll(async () => {
    if (!haveQemu)
      throw new Error(
        "qemu-system-x86_64 is not installed (Debian package qemu-system-x86; `npm test` installs it through `bootmedia doctor --install`)",
      );
    work = await mkdtemp(join(tmpdir(), "bm-usb-e2e-"));
    const core = join(work, "core.img"),
      efi = join(work, "BOOTX64.EFI");
    await buildGrubImage({ platform: "i386-pc", out: core, prefix: "(hd0,msdos1)/boot/grub", extraModules: ["halt"] });
    await buildGrubImage({ platform: "x86_64-efi", out: efi, prefix: "/boot/grub", extraModules: ["halt"] });
    const cfg = new TextEncoder().encode(
      `serial --unit=0 --speed=115200\nterminal_input serial console\nterminal_output serial console\necho ${MARKER}\nhalt\n`,
    );
    const entries: TreeEntry[] = [
      { type: "file", path: "boot/grub/grub.cfg", size: cfg.length, source: { kind: "bytes", data: cfg } },
      { type: "file", path: "EFI/BOOT/BOOTX64.EFI", size: (await stat(efi)).size, source: { kind: "file", path: efi } },
    ];
    image = join(work, "usb.img");
    await writeUsbImage(
      entries,
      {
        sourceDateEpoch: 1700000000,
        label: "BOOTMEDIA",
        bios: { bootImg: "/usr/lib/grub/i386-pc/boot.img", coreImg: core },
      },
      image,
    );
  }, 60_000);
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it.each(FIRMWARES)(
    "boots GRUB from the stick in %s mode and prints the marker on serial",
    async (firmware) => {
      const disk = join(work, `${firmware}.img`);
      await copyFile(image, disk); // QEMU may write to the stick; each boot gets its own copy
      const started = Date.now();
      const { seen, serial } = await bootUntilMarker(firmware, disk);
      expect(seen, `no marker within ${TIMEOUT_MS / 1000} s; serial:\n${serial.slice(-2000)}`).toBe(true);
      console.log(`${firmware}: marker after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    },
    TIMEOUT_MS + 20_000,
  );
});

it("has QEMU and GRUB's images for the boot smoke", async () => {
  // A missing tool must be visible, not a silently skipped boot test.
  expect(haveQemu).toBe(true);
  expect((await execa("grub-mkimage", ["--version"])).stdout).toContain("GRUB");
});
