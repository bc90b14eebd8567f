/**
 * The El Torito and system-area flags of `bootmedia image iso`, parsed into writer options.
 * One `--boot` per catalog entry keeps each entry's settings together (mkisofs' -b ... -eltorito-alt-boot
 * -e ... depends on flag order, which cac's option parser does not keep).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { BootmediaError } from "../../base/errors.ts";
import {
  BOOT_EMULATIONS,
  type BootEmulation,
  type IsoAppendedPartition,
  type IsoBootEntry,
  type IsoHybridOptions,
} from "../../formats/iso9660/types.ts";

/** MBR patches the system-area code can want; "auto" picks isohybrid for ISOLINUX's isolinux.bin, else grub2. */
export const SYSTEM_AREA_PATCHES = ["auto", "grub2", "isohybrid", "none"] as const;
type SystemAreaPatch = (typeof SYSTEM_AREA_PATCHES)[number];

/** ISOLINUX's isolinux.bin marks itself hybrid-capable with one of these words at byte 0x40 (syslinux isohybrid; 0x7078c0fb since SYSLINUX 4). */
const ISOLINUX_HYBRID_SIGNATURE = { offset: 0x40, values: [0x7078a0fb, 0x7078c0fb] } as const;

const bad = (msg: string) => new BootmediaError("BM1009", msg);

/** cac gives one string for a flag given once, an array when repeated. */
export function listOf(v: unknown): string[] {
  if (v === undefined || v === false) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

/** A byte written as 0xNN or decimal. */
function parseByte(text: string, what: string): number {
  const n = /^0x[0-9a-f]{1,2}$/i.test(text) ? parseInt(text, 16) : /^\d{1,3}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 0 && n <= 0xff)) throw bad(`${what}: "${text}" is not a byte (0x00-0xFF)`);
  return n;
}

/**
 * `--boot PLATFORM:IMAGE[,OPTION...]`: PLATFORM bios | efi | 0xNN; IMAGE a path inside the folder
 * or `appended:N`; OPTION emul=none|floppy|hdd, load-size=N, boot-info-table, grub2-boot-info.
 */
export function parseBootSpec(spec: string): IsoBootEntry {
  const m = /^([^:]+):([^,]+)((?:,[^,]+)*)$/.exec(spec);
  if (!m) throw bad(`--boot "${spec}": expected PLATFORM:IMAGE[,OPTION...], e.g. bios:boot/floppy.img,emul=floppy`);
  const [, platformText, imageText, rest] = m;
  const platform =
    platformText === "bios" || platformText === "efi"
      ? platformText
      : parseByte(platformText, `--boot "${spec}" platform`);
  const appended = /^appended:(\d)$/.exec(imageText);
  const entry: IsoBootEntry = {
    platform,
    image: appended ? { appendedPartition: Number(appended[1]) } : imageText.replace(/^\/+/, ""),
  };
  for (const opt of rest.split(",").filter(Boolean)) {
    const [key, value] = opt.split("=", 2);
    if (key === "emul" && BOOT_EMULATIONS.includes(value as BootEmulation)) entry.emulation = value as BootEmulation;
    else if (key === "load-size" && /^\d+$/.test(value ?? "")) entry.loadSectors = Number(value);
    else if (key === "boot-info-table" && value === undefined) entry.bootInfoTable = true;
    else if (key === "grub2-boot-info" && value === undefined) entry.grub2BootInfo = true;
    else
      throw bad(
        `--boot "${spec}": unknown option "${opt}" (emul=none|floppy|hdd, load-size=N, boot-info-table, grub2-boot-info)`,
      );
  }
  return entry;
}

/** `--append-partition N:TYPE:FILE` (xorriso -append_partition N TYPE FILE). */
export async function parseAppendPartition(spec: string): Promise<IsoAppendedPartition> {
  const m = /^(\d):([^:]+):(.+)$/.exec(spec);
  if (!m) throw bad(`--append-partition "${spec}": expected N:TYPE:FILE, e.g. 2:0xef:esp.img`);
  const { stat } = await import("node:fs/promises");
  const st = await stat(m[3]).catch((e: Error) => {
    throw new BootmediaError("BM1009", `--append-partition ${m[3]}: ${e.message}`, { where: m[3] });
  });
  return {
    number: Number(m[1]),
    type: parseByte(m[2], `--append-partition "${spec}" type`),
    source: { path: m[3], offset: 0, size: st.size },
  };
}

/** `--mbr-iso-partition TYPE[,start=1][,active]`: MBR partition 1 over the ISO (xorriso -iso_mbr_part_type, --protective-msdos-label, --mbr-force-bootable). */
export function parseIsoPartition(spec: string): NonNullable<IsoHybridOptions["isoPartition"]> {
  const [typeText, ...opts] = spec.split(",");
  const out = { type: parseByte(typeText, `--mbr-iso-partition "${spec}" type`), start: 0 as 0 | 1, bootable: false };
  for (const o of opts) {
    if (o === "active") out.bootable = true;
    else if (o === "start=0" || o === "start=1") out.start = Number(o.slice(6)) as 0 | 1;
    else throw bad(`--mbr-iso-partition "${spec}": unknown option "${o}" (start=0|1, active)`);
  }
  return out;
}

/** "auto": ISOLINUX's isohdpfx.bin wants the isohybrid patch when the first BIOS image is a hybrid isolinux.bin; else GRUB's. */
export async function resolveSystemAreaPatch(
  patch: SystemAreaPatch,
  dir: string,
  entries: IsoBootEntry[],
): Promise<"grub2" | "isohybrid" | "none"> {
  if (patch !== "auto") return patch;
  const bios = entries.find((e) => e.platform === "bios" && typeof e.image === "string");
  if (!bios) return "grub2";
  const head = await readFile(join(dir, bios.image as string)).catch(() => Buffer.alloc(0));
  const sig = ISOLINUX_HYBRID_SIGNATURE;
  return head.length >= sig.offset + 4 && (sig.values as readonly number[]).includes(head.readUInt32LE(sig.offset))
    ? "isohybrid"
    : "grub2";
}
