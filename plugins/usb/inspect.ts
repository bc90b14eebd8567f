/** Reads a USB disk image back: partition table, boot code, files, media configuration. */
import { stat } from "node:fs/promises";
import { hasBootSignature, readDisk, readFirstSector } from "../../formats/disk/index.ts";
import { probeIso } from "../../formats/iso9660/probe.ts";
import { readFatFile } from "../../formats/fat/index.ts";
import type { Inspector, InspectReport } from "../../core/plugin.ts";
import { CONFIG_JSON } from "../../core/media-config.ts";

/** A boot signature in the first sector (an MBR, or a bare FAT file system) and no ISO 9660 volume. */
async function looksLikeDisk(path: string): Promise<boolean> {
  const st = await stat(path).catch(() => undefined);
  if (!st || !(st.isFile() || st.isBlockDevice())) return false;
  const first = await readFirstSector(path).catch(() => undefined);
  return first !== undefined && hasBootSignature(first.sector) && !(await probeIso(path));
}

/** The media configuration, when the file system holds one (a bare `image fat` output need not). */
async function readConfig(path: string, offset: number): Promise<unknown> {
  let text: string;
  try {
    text = (await readFatFile(path, CONFIG_JSON, offset)).toString("utf8");
  } catch (e) {
    if ((e as { code?: string }).code === "BM4206") return undefined;
    throw e;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    return `${CONFIG_JSON} is not valid JSON (${(e as Error).message})`;
  }
}

export const usbInspector: Inspector = {
  detect: looksLikeDisk,
  async inspect(path) {
    const disk = await readDisk(path);
    const config = disk.fat ? await readConfig(path, disk.fat.offset) : undefined;
    return {
      kind: "usb",
      path,
      sizeBytes: disk.sizeBytes,
      partitionTable: disk.partitionTable,
      diskSignature: disk.diskSignature?.toString(16).padStart(8, "0"),
      partitions: disk.partitions,
      bootCode: disk.bootCode,
      ...(disk.gpt ? { gpt: disk.gpt } : {}),
      filesystem: disk.fat
        ? { type: `FAT${disk.fat.type}`, label: disk.fat.label, totalBytes: disk.fat.totalBytes }
        : undefined,
      files: disk.fat?.files.map((f) => ({ path: f.path, size: f.size })) ?? [],
      config,
    };
  },
  format(r: InspectReport) {
    const parts = r.partitions as Array<{
      index: number;
      bootable: boolean;
      type: number;
      startLba: number;
      sectors: number;
    }>;
    const files = r.files as Array<{ path: string; size: number }>;
    const boot = r.bootCode as { present: boolean; grub: boolean };
    const gpt = r.gpt as
      | {
          diskGuid: string;
          partitions: Array<{ index: number; start: number; size: number; type: string; name?: string }>;
        }
      | { error: string }
      | undefined;
    return (
      [
        r.partitionTable === "none"
          ? `disk image ${r.path} (${r.sizeBytes} bytes): a bare file system, no partition table`
          : `${gpt ? "GPT disk image" : "USB disk image"} ${r.path} (${r.sizeBytes} bytes, disk signature ${r.diskSignature})`,
        `boot code: ${boot.present ? (boot.grub ? "GRUB (BIOS)" : "present") : "none"}`,
        ...parts.map(
          (p) =>
            `partition ${p.index}: type 0x${p.type.toString(16)}${p.bootable ? " active" : ""}, start ${p.startLba}, ${p.sectors} sectors`,
        ),
        ...(gpt === undefined
          ? []
          : "error" in gpt
            ? [`GPT: unreadable (${gpt.error})`]
            : [
                `GPT disk ${gpt.diskGuid}:`,
                ...gpt.partitions.map(
                  (p) =>
                    `  GPT partition ${p.index}: type ${p.type}${p.name ? ` "${p.name}"` : ""}, start byte ${p.start}, ${p.size} bytes`,
                ),
              ]),
        `file system: ${r.filesystem ? JSON.stringify(r.filesystem) : "no FAT partition found"}`,
        `configuration:`,
        JSON.stringify(r.config, null, 2),
        `files (${files.length}):`,
        ...files.map((f) => `  ${String(f.size).padStart(12)}  ${f.path}`),
      ].join("\n") + "\n"
    );
  },
};
