/**
 * Remastering real distribution ISOs for remaster.e2e.test.ts: the bootable ISOs two Debian
 * packages ship (GRUB's rescue CD; memtest86+ with a floppy-emulation BIOS image and its EFI
 * image in an appended partition), extracted with xorriso's osirrox, rebuilt by `bootmedia
 * image iso` with explicit flags and with --from-iso, and booted with a screen check until a
 * pattern shows: in VGA text mode the testbed's own reader (screen-text.ts: the text buffer over
 * QMP); in a graphics mode (memtest86+ and OVMF's shell under UEFI draw on the GOP framebuffer,
 * which has no text to read) tesseract on the QMP screendump.
 */
import { copyFile, mkdir, mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { buildQemuArgs, PROFILES, type MediaKind, type ProfileId } from "../profiles.ts";
import { QmpClient } from "../qmp.ts";
import { readScreen } from "../screen-text.ts";
import { screenTextOf } from "../vga-text.ts";

/**
 * What a screen shows: the media's own program; the firmware finding nothing to start (SeaBIOS'
 * "No bootable device", OVMF's shell or, when OVMF's shell fails to start, its "No bootable
 * option"); or neither before the timeout.
 */
const OUTCOMES = ["booted", "nothing-bootable", "timeout"] as const;
export type Outcome = (typeof OUTCOMES)[number];

export const MACHINES = [
  { id: "bios-cd", profile: "x64-bios", kind: "iso" },
  { id: "bios-disk", profile: "x64-bios", kind: "usb" },
  { id: "uefi-cd", profile: "x64-uefi", kind: "iso" },
  { id: "uefi-disk", profile: "x64-uefi", kind: "usb" },
] as const satisfies ReadonlyArray<{ id: string; profile: ProfileId; kind: MediaKind }>;
export type MachineId = (typeof MACHINES)[number]["id"];

export interface RemasterSource {
  name: string;
  /** Debian package and the ISO it ships, or a function that builds the source ISO in a folder from the package's files. */
  debianPackage: string;
  iso: string | ((dir: string) => Promise<string>);
  /** The machines the source is meant for (all four when unset). */
  machines?: readonly MachineId[];
  /** OCR'd screen text of the media's own program (tesseract misreads a letter here and there). */
  booted: RegExp;
  expected: Partial<Record<MachineId, Outcome>>;
  /** `image iso` flags that rebuild the boot setup by hand; `extra` files come from the original. */
  explicit: (files: { mbr: string; appended: string }) => string[];
  /** Byte ranges of the original a user would cut out for the explicit rebuild (dd). */
  cut: { mbr: [number, number]; appended?: [number, number] };
}

const ISOHDPFX = "/usr/lib/ISOLINUX/isohdpfx.bin";

export const SOURCES: RemasterSource[] = [
  {
    name: "grub-rescue",
    debianPackage: "grub-rescue-pc",
    iso: "/usr/lib/grub-rescue/grub-rescue-cdrom.iso",
    // GRUB's menu of the rescue CD (its entries name the systems it chain-loads).
    booted: /GNU GRUB|Microsoft Windows|OpenBSD/,
    // A BIOS-only CD: UEFI firmware finds nothing to start (and drops to its shell).
    expected: {
      "bios-cd": "booted",
      "bios-disk": "booted",
      "uefi-cd": "nothing-bootable",
      "uefi-disk": "nothing-bootable",
    },
    explicit: ({ mbr }) => [
      "--volume-id",
      "ISOIMAGE",
      "--boot",
      "bios:boot/grub/i386-pc/eltorito.img,load-size=4,boot-info-table,grub2-boot-info",
      "--system-area",
      mbr,
      "--system-area-patch",
      "grub2",
      "--mbr-iso-partition",
      "0xcd,start=1,active",
    ],
    cut: { mbr: [0, 432] },
  },
  {
    name: "memtest86+",
    debianPackage: "memtest86+",
    iso: "/usr/lib/memtest86+/memtest86+x64.iso",
    // memtest86+'s status panel.
    booted: /CLK\/Tem|L[123] Cach|Memory\s*:|Testing:/,
    expected: { "bios-cd": "booted", "bios-disk": "booted", "uefi-cd": "booted", "uefi-disk": "booted" },
    explicit: ({ mbr, appended }) => [
      "--volume-id",
      "MT86PLUS_64",
      "--boot",
      "bios:boot/floppy.img,emul=floppy",
      "--append-partition",
      `2:0xef:${appended}`,
      "--boot",
      "efi:appended:2",
      "--system-area",
      mbr,
      "--system-area-patch",
      "grub2",
      "--mbr-iso-partition",
      "0x00,active",
    ],
    // The EFI System Partition after the ISO: MBR partition 2 (sectors 3304 + 8192 of 512 bytes, per xorriso -report_system_area).
    cut: { mbr: [0, 432], appended: [3304 * 512, 8192 * 512] },
  },
  {
    name: "isolinux",
    debianPackage: "isolinux",
    iso: (dir) => buildIsolinuxIso(dir),
    // ISOLINUX is BIOS-only; "ETCD" / "EHDD" in its banner tell CD from hybrid disk boot.
    machines: ["bios-cd", "bios-disk"],
    booted: /ISOLINUX-OK/,
    expected: { "bios-cd": "booted", "bios-disk": "booted" },
    // --system-area-patch left to "auto": it finds ISOLINUX's hybrid signature in isolinux.bin.
    explicit: ({ mbr }) => [
      "--volume-id",
      "ISOLINUX_SRC",
      "--boot",
      "bios:isolinux/isolinux.bin,load-size=4,boot-info-table",
      "--system-area",
      mbr,
      "--mbr-iso-partition",
      "0x17,active",
    ],
    cut: { mbr: [0, 432] },
  },
];

/**
 * An ISOLINUX CD made by xorriso as Debian's installer images are (-isohybrid-mbr isohdpfx.bin,
 * isolinux.bin with a boot-info-table), from the isolinux and syslinux-common packages; its
 * configuration prints a marker on the screen.
 */
async function buildIsolinuxIso(dir: string): Promise<string> {
  const tree = join(dir, "isolinux-src");
  await mkdir(join(tree, "isolinux"), { recursive: true });
  await copyFile("/usr/lib/ISOLINUX/isolinux.bin", join(tree, "isolinux/isolinux.bin"));
  await copyFile("/usr/lib/syslinux/modules/bios/ldlinux.c32", join(tree, "isolinux/ldlinux.c32"));
  await writeFile(join(tree, "isolinux/isolinux.cfg"), "SAY BOOTMEDIA-ISOLINUX-OK\nPROMPT 1\nTIMEOUT 0\n");
  const iso = join(dir, "isolinux-src.iso");
  await execa("xorriso", [
    "-as",
    "mkisofs",
    "-quiet",
    "-R",
    "-J",
    "-V",
    "ISOLINUX_SRC",
    "-o",
    iso,
    "-isohybrid-mbr",
    ISOHDPFX,
    "-c",
    "isolinux/boot.cat",
    "-b",
    "isolinux/isolinux.bin",
    "-no-emul-boot",
    "-boot-load-size",
    "4",
    "-boot-info-table",
    tree,
  ]);
  return iso;
}

/** Copies bytes [offset, offset + length) of `src` to `dest` (what `dd skip= count=` does). */
export async function cutBytes(src: string, [offset, length]: [number, number], dest: string): Promise<void> {
  const from = await open(src, "r");
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await from.read(buf, 0, length, offset);
    if (bytesRead !== length) throw new Error(`${src} ends before byte ${offset + length}`);
    const to = await open(dest, "w");
    await to.write(buf);
    await to.close();
  } finally {
    await from.close();
  }
}

/** Extracts an ISO's tree as a user would (xorriso's osirrox), writable. */
export async function extractIso(iso: string, dir: string): Promise<void> {
  await execa("xorriso", ["-osirrox", "on", "-indev", iso, "-extract", "/", dir]);
  await execa("chmod", ["-R", "u+w", dir]);
}

/** Classifies OCR'd screen text. */
function outcomeOf(text: string, booted: RegExp): Outcome | undefined {
  if (booted.test(text)) return "booted";
  if (/Shell>|Mapping table|UEFI Interactive Shell|No bootable option or device/.test(text)) return "nothing-bootable";
  if (/No bootable device|Boot failed: could not read|Boot failed: not a bootable/.test(text))
    return "nothing-bootable";
  return undefined;
}

interface ScreenRun {
  outcome: Outcome;
  seconds: number;
  /** The last screen (PNG), what was read on it, and how: the VGA text buffer or OCR. */
  screenshot: string;
  text: string;
  readBy: "vga-text" | "ocr";
}

/**
 * Boots `iso` on one machine (TCG) and reads the screen every 2 s until an outcome shows or
 * `timeoutSec` passes. QEMU exiting early (SeaBIOS gives up and -no-reboot ends it) is "nothing-bootable".
 */
export async function bootAndReadScreen(
  iso: string,
  machine: (typeof MACHINES)[number],
  booted: RegExp,
  screenshot: string,
  timeoutSec: number,
): Promise<ScreenRun> {
  const scratch = await mkdtemp(join(tmpdir(), "bm-rm-"));
  const profile = PROFILES[machine.profile];
  const varsPath = profile.flash ? join(scratch, "vars.fd") : undefined;
  if (profile.flash && varsPath) await execa("cp", [profile.flash.vars, varsPath]);
  const args = buildQemuArgs({
    profile: machine.profile,
    media: { kind: machine.kind, path: iso },
    nic: null,
    qmpSocket: join(scratch, "qmp.sock"),
    varsPath,
    accel: "tcg",
  });
  const proc = execa(profile.binary, args, { reject: false, stdin: "pipe", buffer: false });
  let exited = false;
  void proc.then(() => {
    exited = true;
  });
  const t0 = Date.now();
  let text = "";
  let readBy: ScreenRun["readBy"] = "vga-text";
  let outcome: Outcome = "timeout";
  let qmp: QmpClient | undefined;
  try {
    qmp = await QmpClient.connect(join(scratch, "qmp.sock"), { timeoutMs: 10_000 });
    while (Date.now() - t0 < timeoutSec * 1000) {
      await new Promise((r) => setTimeout(r, 2000));
      if (exited) {
        outcome = "nothing-bootable";
        break;
      }
      const screen = await readScreen(qmp, scratch).catch(() => undefined);
      const dumped = await qmp.screendump(screenshot).then(
        () => true,
        () => false,
      );
      if (!screen || !dumped) {
        outcome = exited ? "nothing-bootable" : "timeout";
        break;
      }
      readBy = screen.mode === "text" ? "vga-text" : "ocr";
      text =
        screen.mode === "text"
          ? screenTextOf(screen.rows)
          : (await execa("tesseract", [screenshot, "-"], { reject: false })).stdout;
      const o = outcomeOf(text, booted);
      if (o) {
        outcome = o;
        break;
      }
    }
    return { outcome, seconds: Math.round((Date.now() - t0) / 1000), screenshot, text, readBy };
  } finally {
    await qmp?.quit().catch(() => undefined);
    qmp?.close();
    if (proc.exitCode === null) proc.kill("SIGKILL");
    await proc.catch(() => undefined);
    await rm(scratch, { recursive: true, force: true });
  }
}
