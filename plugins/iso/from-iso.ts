/**
 * `bootmedia image iso DIR --from-iso SRC.iso`: the boot setup of an existing ISO (El Torito
 * catalog, boot images, system area, appended partitions) replayed onto the folder, the way
 * `xorriso -report_el_torito as_mkisofs` prints it for a rebuild. SRC is untrusted input: it is
 * read through readIso (bounded reads) and only its first 16 sectors are copied.
 */
import { stat } from "node:fs/promises";
import { BootmediaError } from "../../base/errors.ts";
import type { TreeEntry } from "../../base/tree.ts";
import { ImageFile } from "../../formats/image-file.ts";
import { MEDIA_TYPE } from "../../formats/iso9660/eltorito.ts";
import { readIso } from "../../formats/iso9660/read.ts";
import { SECTOR, SYSTEM_AREA_SECTORS } from "../../formats/iso9660/records.ts";
import type {
  BootEmulation,
  IsoAppendedPartition,
  IsoBootEntry,
  IsoHybridOptions,
  IsoInfo,
} from "../../formats/iso9660/types.ts";

const DISK_SECTOR = 512;

interface ReplayedBoot {
  volumeId: string;
  entries: IsoBootEntry[];
  appendPartitions: IsoAppendedPartition[];
  hybrid?: IsoHybridOptions;
  /** Tree paths of the source's boot catalog file (osirrox extracts it; the writer makes its own). */
  dropPaths: string[];
}

const emulationOf = (mediaType: number): BootEmulation =>
  mediaType === MEDIA_TYPE.NONE ? "none" : mediaType === MEDIA_TYPE.HDD ? "hdd" : "floppy";

const replayError = (src: string, msg: string) => new BootmediaError("BM4108", `${src}: ${msg}`, { where: src });

/** An appended partition of the source that an entry points at: an MBR slot 2-4 starting at the entry's block. */
function appendedFor(info: IsoInfo, src: string, lba: number): IsoAppendedPartition | undefined {
  const p = info.partitions.find(
    (x) =>
      x.scheme === "mbr" &&
      x.index >= 2 &&
      x.startSector === lba * (SECTOR / DISK_SECTOR) &&
      x.startSector >= info.volumeSpaceSize * (SECTOR / DISK_SECTOR),
  );
  return (
    p && {
      number: p.index,
      type: parseInt(p.type, 16),
      source: { path: src, offset: p.startSector * DISK_SECTOR, size: p.sectors * DISK_SECTOR },
    }
  );
}

/** The source's system area as writer options: its boot code (partition table left out), patch kind, ISO partition, GPT. */
async function replaySystemArea(info: IsoInfo, src: string): Promise<IsoHybridOptions | undefined> {
  const sa = info.systemArea;
  const mbrParts = info.partitions.filter((p) => p.scheme === "mbr");
  if (!sa.mbrBootCode && mbrParts.length === 0) return undefined;
  const area = await ImageFile.with(
    src,
    {
      cannotOpen: (cause) => replayError(src, cause.message),
      damaged: (message) => replayError(src, message),
    },
    (img) => img.read(0, SYSTEM_AREA_SECTORS * SECTOR, "system area"),
  );
  // Only bytes 0-439 are code; past the MBR only an -G system area (no GPT) is kept.
  const code = sa.beyondMbr && !sa.gpt ? Buffer.from(area) : Buffer.from(area.subarray(0, 440));
  code.fill(0, 440, Math.min(code.length, DISK_SECTOR));
  const first = mbrParts.find((p) => p.index === 1);
  const isoPartition =
    first && (first.startSector === 0 || first.startSector === 1) && first.type !== "0xee"
      ? { type: parseInt(first.type, 16), start: first.startSector as 0 | 1, bootable: Boolean(first.bootable) }
      : undefined;
  return {
    ...(sa.mbrBootCode ? { mbrCode: code } : {}),
    mbrPatch: sa.mbrPatch,
    ...(sa.gpt ? { gpt: true } : {}),
    ...(isoPartition ? { isoPartition } : {}),
  };
}

/** Reads SRC's boot setup and maps each boot image onto a file of `tree` (by the media path it has in SRC). */
export async function replayBootSetup(src: string, tree: readonly TreeEntry[]): Promise<ReplayedBoot> {
  const info = await readIso(src);
  if (info.bootEntries.length === 0) throw replayError(src, "has no El Torito boot catalog to replay");
  const inTree = new Set(tree.filter((e) => e.type === "file").map((e) => e.path));
  const entries: IsoBootEntry[] = [];
  const appendPartitions: IsoAppendedPartition[] = [];
  for (const [i, b] of info.bootEntries.entries()) {
    if (!b.bootable) continue;
    const platform = b.platform === "bios" ? "bios" : b.platform === "efi" ? "efi" : b.platform;
    let image: IsoBootEntry["image"];
    if (b.path && inTree.has(b.path)) image = b.path;
    else {
      const part = appendedFor(info, src, b.lba);
      if (!part)
        throw replayError(
          src,
          `boot entry ${i + 1} (LBA ${b.lba}) is ${b.path ? `${b.path}, which the folder lacks` : "no file of the image and no appended partition"}`,
        );
      if (!appendPartitions.some((p) => p.number === part.number)) appendPartitions.push(part);
      image = { appendedPartition: part.number };
    }
    entries.push({
      platform,
      image,
      emulation: emulationOf(b.emulation),
      loadSectors: b.loadSectors,
      ...(b.bootInfoTable ? { bootInfoTable: true } : {}),
      ...(b.grub2BootInfo ? { grub2BootInfo: true } : {}),
    });
  }
  // Appended partitions no entry points at are replayed too (xorriso -append_partition).
  for (const p of info.partitions) {
    if (p.scheme !== "mbr" || p.index < 2 || appendPartitions.some((a) => a.number === p.index)) continue;
    if (p.startSector >= info.volumeSpaceSize * (SECTOR / DISK_SECTOR)) {
      appendPartitions.push({
        number: p.index,
        type: parseInt(p.type, 16),
        source: { path: src, offset: p.startSector * DISK_SECTOR, size: p.sectors * DISK_SECTOR },
      });
    }
  }
  // Partition tables are untrusted: an appended partition must lie inside the source file.
  const srcBytes = (await stat(src)).size;
  for (const p of appendPartitions)
    if (p.source.offset + p.source.size > srcBytes)
      throw replayError(
        src,
        `MBR partition ${p.number} (${p.source.size} bytes at byte ${p.source.offset}) lies past the end of the ${srcBytes}-byte file`,
      );
  const catalogLba = info.descriptors.find((d) => d.type === "boot")?.catalogLba;
  const dropPaths = info.files
    .filter((f) => f.type === "file" && f.extents[0]?.lba === catalogLba && f.size <= SECTOR)
    .map((f) => f.path);
  const hybrid = await replaySystemArea(info, src);
  return { volumeId: info.volumeId, entries, appendPartitions, ...(hybrid ? { hybrid } : {}), dropPaths };
}
