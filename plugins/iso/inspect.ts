/** Reads an .iso back: volume descriptors, El Torito entries, system-area partitions, files, media configuration. */
import { probeIso } from "../../formats/iso9660/probe.ts";
import { readIso, readIsoFile } from "../../formats/iso9660/read.ts";
import type { Inspector, InspectReport } from "../../core/plugin.ts";
import type { IsoInfo } from "../../formats/iso9660/types.ts";
import { CONFIG_JSON } from "../../core/media-config.ts";
import { VOLUME_ID_FILE } from "./split.ts";

async function readJson(path: string, mediaPath: string): Promise<unknown> {
  try {
    return JSON.parse((await readIsoFile(path, mediaPath)).toString("utf8")) as unknown;
  } catch {
    return undefined;
  }
}

export const isoInspector: Inspector = {
  detect: probeIso,
  async inspect(path) {
    const info = await readIso(path);
    return {
      kind: "iso",
      path,
      volumeId: info.volumeId,
      volumeBytes: info.volumeSpaceSize * 2048,
      names: info.names,
      descriptors: info.descriptors.map((d) => ({
        type: d.type,
        lba: d.lba,
        ...(d.volumeId ? { volumeId: d.volumeId } : {}),
      })),
      bootEntries: info.bootEntries,
      partitions: info.partitions,
      mbrBootCode: info.mbrBootCode,
      systemArea: info.systemArea,
      files: info.files.filter((f) => f.type === "file").map((f) => ({ path: f.path, size: f.size })),
      volume: await readJson(path, VOLUME_ID_FILE),
      config: await readJson(path, CONFIG_JSON),
    };
  },
  format(r: InspectReport) {
    const files = r.files as Array<{ path: string; size: number }>;
    const boot = r.bootEntries as IsoInfo["bootEntries"];
    const sa = r.systemArea as IsoInfo["systemArea"];
    const platformText = (p: string | number) =>
      typeof p === "number" ? `platform 0x${p.toString(16).padStart(2, "0")}` : p;
    const parts = r.partitions as Array<{
      scheme: string;
      index: number;
      type: string;
      bootable?: boolean;
      startSector: number;
      sectors: number;
    }>;
    return (
      [
        `ISO 9660 image ${r.path}: volume "${r.volumeId}", ${r.volumeBytes} bytes, names from ${r.names}`,
        ...(r.volume ? [`volume of a set: ${JSON.stringify(r.volume)}`] : []),
        `descriptors: ${(r.descriptors as Array<{ type: string }>).map((d) => d.type).join(", ")}`,
        ...boot.map(
          (b, i) =>
            `El Torito entry ${i + 1}: ${platformText(b.platform)}${b.bootable ? "" : " (not bootable)"}, emulation ${b.emulationName}, load size ${b.loadSectors}, LBA ${b.lba}, ${b.path ?? "no file of the tree"}, boot-info-table ${b.bootInfoTable ? "present" : "absent"}${b.grub2BootInfo ? ", grub2-boot-info" : ""}`,
        ),
        `system area: ${r.mbrBootCode ? "MBR boot code present" : "no boot code"}${sa.mbrPatch !== "none" ? `, ${sa.mbrPatch} patch to the BIOS image` : ""}${sa.gpt ? ", GPT" : ""}${sa.beyondMbr && !sa.gpt ? ", data after the MBR" : ""}`,
        ...parts.map(
          (p) =>
            `partition ${p.scheme} ${p.index}: type ${p.type}${p.bootable ? " active" : ""}, start ${p.startSector}, ${p.sectors} sectors`,
        ),
        // A data disc of a stand-alone set carries no configuration (it is on disc 1).
        ...(r.config === undefined ? ["configuration: none"] : [`configuration:`, JSON.stringify(r.config, null, 2)]),
        `files (${files.length}):`,
        ...files.map((f) => `  ${String(f.size).padStart(12)}  ${f.path}`),
      ].join("\n") + "\n"
    );
  },
};
