/** Reads a USB disk image back: partition table, boot code, files, media configuration. */
import { open } from "node:fs/promises";
import { readDisk } from "../../formats/disk/index.ts";
import { readFatFile } from "../../formats/fat/index.ts";
import type { Inspector, InspectReport } from "../../core/plugin.ts";
import { CONFIG_JSON } from "../media-config/render.ts";

/** An MBR boot signature and no ISO 9660 descriptor at sector 16 (ECMA-119 §8.4). */
async function looksLikeDisk(path: string): Promise<boolean> {
  const fh = await open(path, "r").catch(() => undefined);
  if (!fh) return false;
  try {
    if (!(await fh.stat()).isFile() && !(await fh.stat()).isBlockDevice()) return false;
    const mbr = Buffer.alloc(512);
    const iso = Buffer.alloc(6);
    await fh.read(mbr, 0, 512, 0);
    await fh.read(iso, 0, 6, 16 * 2048);
    return mbr[510] === 0x55 && mbr[511] === 0xaa && iso.subarray(1, 6).toString("latin1") !== "CD001";
  } finally {
    await fh.close();
  }
}

export const usbInspector: Inspector = {
  detect: looksLikeDisk,
  async inspect(path) {
    const disk = await readDisk(path);
    const part = disk.fat ? disk.partitions.find((p) => p.index === disk.fat!.partition) : undefined;
    const offset = (part?.startLba ?? 0) * 512;
    const config = disk.fat ? JSON.parse((await readFatFile(path, CONFIG_JSON, offset)).toString("utf8")) as unknown : undefined;
    return {
      kind: "usb",
      path,
      sizeBytes: disk.sizeBytes,
      diskSignature: disk.diskSignature.toString(16).padStart(8, "0"),
      partitions: disk.partitions,
      bootCode: disk.bootCode,
      filesystem: disk.fat ? { type: `FAT${disk.fat.type}`, label: disk.fat.label, totalBytes: disk.fat.totalBytes } : undefined,
      files: disk.fat?.files.map((f) => ({ path: f.path, size: f.size })) ?? [],
      config,
    };
  },
  format(r: InspectReport) {
    const parts = r.partitions as Array<{ index: number; bootable: boolean; type: number; startLba: number; sectors: number }>;
    const files = r.files as Array<{ path: string; size: number }>;
    const boot = r.bootCode as { present: boolean; grub: boolean };
    return [
      `USB disk image ${r.path} (${r.sizeBytes} bytes, disk signature ${r.diskSignature})`,
      `boot code: ${boot.present ? (boot.grub ? "GRUB (BIOS)" : "present") : "none"}`,
      ...parts.map((p) => `partition ${p.index}: type 0x${p.type.toString(16)}${p.bootable ? " active" : ""}, start ${p.startLba}, ${p.sectors} sectors`),
      `file system: ${JSON.stringify(r.filesystem)}`,
      `configuration:`,
      JSON.stringify(r.config, null, 2),
      `files (${files.length}):`,
      ...files.map((f) => `  ${String(f.size).padStart(12)}  ${f.path}`),
    ].join("\n") + "\n";
  },
};
