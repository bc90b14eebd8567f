/**
 * `bootmedia image iso <dir> -o out.iso`: the ISO writer on a folder, with the El Torito and
 * hybrid options of `xorriso -as mkisofs` (see README.md for the flag mapping) and
 * `--from-iso SRC.iso` to replay an existing ISO's boot setup.
 */
import { readFile } from "node:fs/promises";
import { BootmediaError } from "../../base/errors.ts";
import { basename } from "node:path";
import { sourceDateEpochFromEnv } from "../../core/context.ts";
import { treeFromDir } from "../../base/dir-tree.ts";
import { timed } from "../../base/timings.ts";
import { OutputTransaction } from "../../core/output.ts";
import { writeIso } from "../../formats/iso9660/write.ts";
import type { IsoBootEntry, IsoOptions } from "../../formats/iso9660/types.ts";
import type { TreeEntry } from "../../base/tree.ts";
import type { ImageFormat } from "../../core/plugin.ts";
import { volumeIdOf } from "./volume-id.ts";

interface IsoImageFlags {
  output: string;
  force?: boolean;
  /** A number when given as digits only (cac). */
  volumeId?: string | number;
  bootBios?: string;
  bootEfi?: string;
  /** One string, or an array when repeated (cac). */
  boot?: string | string[];
  appendPartition?: string | string[];
  systemArea?: string;
  systemAreaPatch?: string;
  mbrIsoPartition?: string;
  gpt?: boolean;
  fromIso?: string;
}

/** True when any El Torito / system-area flag beyond the original two is given (their parser is loaded only then). */
const usesBootFlags = (f: IsoImageFlags) =>
  Boolean(f.boot || f.appendPartition || f.systemArea || f.systemAreaPatch || f.mbrIsoPartition || f.gpt || f.fromIso);

/** The boot part of the writer options from the flags; `entries` is the tree (for --from-iso's mapping). */
async function bootOptionsOf(
  dir: string,
  flags: IsoImageFlags,
  entries: TreeEntry[],
): Promise<{ opts: Partial<IsoOptions>; tree: TreeEntry[]; volumeId?: string }> {
  if (!usesBootFlags(flags)) {
    const boot = {
      ...(flags.bootBios ? { bios: { image: flags.bootBios } } : {}),
      ...(flags.bootEfi ? { efi: { image: flags.bootEfi } } : {}),
    };
    return { opts: flags.bootBios || flags.bootEfi ? { boot } : {}, tree: entries };
  }
  const f = await import("./boot-flags.ts");
  let tree = entries;
  let volumeId: string | undefined;
  const explicit: IsoBootEntry[] = [
    ...(flags.bootBios ? [{ platform: "bios" as const, image: flags.bootBios, bootInfoTable: true }] : []),
    ...f.listOf(flags.boot).map(f.parseBootSpec),
    ...(flags.bootEfi ? [{ platform: "efi" as const, image: flags.bootEfi }] : []),
  ];
  const appendPartitions = await Promise.all(f.listOf(flags.appendPartition).map(f.parseAppendPartition));
  let hybrid: IsoOptions["hybrid"];
  let bootEntries = explicit;
  if (flags.fromIso) {
    const { replayBootSetup } = await import("./from-iso.ts");
    const replay = await replayBootSetup(flags.fromIso, entries);
    const drop = new Set(replay.dropPaths);
    tree = entries.filter((e) => !drop.has(e.path));
    volumeId = replay.volumeId;
    // Explicit --boot entries replace the source's catalog; its system area and partitions still apply.
    if (explicit.length === 0) bootEntries = replay.entries;
    for (const p of replay.appendPartitions)
      if (!appendPartitions.some((a) => a.number === p.number)) appendPartitions.push(p);
    hybrid = replay.hybrid;
  }
  if (flags.systemArea || flags.systemAreaPatch || flags.mbrIsoPartition || flags.gpt) {
    const patch = flags.systemAreaPatch ?? (hybrid?.mbrPatch && !flags.systemArea ? hybrid.mbrPatch : "auto");
    if (!(f.SYSTEM_AREA_PATCHES as readonly string[]).includes(patch))
      throw new BootmediaError("BM1009", `--system-area-patch ${patch}: one of ${f.SYSTEM_AREA_PATCHES.join(", ")}`);
    hybrid = {
      ...hybrid,
      ...(flags.systemArea ? { mbrCode: await readFile(flags.systemArea) } : {}),
      mbrPatch: await f.resolveSystemAreaPatch(patch as (typeof f.SYSTEM_AREA_PATCHES)[number], dir, bootEntries),
      ...(flags.gpt ? { gpt: true } : {}),
      ...(flags.mbrIsoPartition ? { isoPartition: f.parseIsoPartition(flags.mbrIsoPartition) } : {}),
    };
  }
  return {
    opts: {
      ...(bootEntries.length ? { boot: { entries: bootEntries } } : {}),
      ...(appendPartitions.length ? { appendPartitions } : {}),
      ...(hybrid ? { hybrid } : {}),
    },
    tree,
    volumeId,
  };
}

async function imageIso(dir: string, flags: IsoImageFlags) {
  const out = flags.output;
  OutputTransaction.assertWritable([out], flags.force === true);
  const listed = await timed("listing", () => treeFromDir(dir));
  const { opts, tree, volumeId } = await bootOptionsOf(dir, flags, listed);
  const tx = new OutputTransaction(flags.force === true);
  try {
    const tmp = await tx.temp(out);
    const r = await writeIso(
      tree,
      {
        volumeId:
          flags.volumeId !== undefined
            ? String(flags.volumeId)
            : volumeIdOf(volumeId ?? basename(out).replace(/\.iso$/i, ""), 1, 1),
        sourceDateEpoch: sourceDateEpochFromEnv(),
        application: "BOOTMEDIA",
        ...opts,
      },
      tmp,
    );
    tx.commit();
    return { path: out, bytes: r.bytes };
  } catch (e) {
    tx.abort();
    throw e;
  }
}

export const ISO_IMAGE_FORMAT: ImageFormat = {
  describe:
    "an ISO 9660 + Joliet + Rock Ridge image (--volume-id, --boot, --system-area, --from-iso; see the iso plugin's README)",
  flags: [
    { syntax: "--volume-id <id>", description: "iso: volume id (A-Z 0-9 _, 32 max)" },
    {
      syntax: "--boot-bios <path>",
      description: "iso: El Torito BIOS image, a path inside <dir> (no emulation, load size 4, boot-info-table)",
    },
    { syntax: "--boot-efi <path>", description: "iso: El Torito UEFI ESP image, a path inside <dir>" },
    {
      syntax: "--boot <spec>",
      description:
        "iso: a catalog entry, repeatable, in order: PLATFORM:IMAGE[,emul=none|floppy|hdd][,load-size=N][,boot-info-table][,grub2-boot-info]; PLATFORM bios|efi|0xNN, IMAGE a path inside <dir> or appended:N",
    },
    {
      syntax: "--append-partition <spec>",
      description:
        "iso: N:TYPE:FILE, append FILE after the tree as MBR partition N (2-4) of TYPE (e.g. 2:0xef:esp.img), repeatable",
    },
    {
      syntax: "--system-area <file>",
      description: "iso: MBR boot code for a hybrid image (isohdpfx.bin, GRUB's boot_hybrid.img; up to 32 KiB)",
    },
    {
      syntax: "--system-area-patch <kind>",
      description: "iso: how the MBR code finds the BIOS image: auto|grub2|isohybrid|none (default auto)",
    },
    {
      syntax: "--mbr-iso-partition <spec>",
      description: "iso: MBR partition 1 over the ISO: TYPE[,start=0|1][,active] (e.g. 0x00,active)",
    },
    { syntax: "--gpt", description: "iso: write a GPT (protective MBR) with the EFI image's partition" },
    {
      syntax: "--from-iso <file>",
      description:
        "iso: replay the El Torito catalog, system area and appended partitions of an existing ISO onto <dir>",
    },
  ],
  write: (dir, flags) => imageIso(dir, flags as IsoImageFlags),
};
