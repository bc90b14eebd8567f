/**
 * The El Torito UEFI entry points at an EFI System Partition image inside the ISO: a small
 * FAT12/16 file system (our FAT writer) holding EFI/BOOT/BOOT{X64,IA32}.EFI.
 */
import { planFat, writeFat } from "../../formats/fat/index.ts";
import type { FileSource, TreeEntry } from "../../base/tree.ts";
import type { LayoutFile, Volume } from "../../core/types.ts";
import { scratchPath } from "../../core/scratch.ts";

export const ESP_PATH = "boot/efi.img";
const ESP_LABEL = "EFIBOOT";

/** The UEFI boot files of a volume, as FAT entries at the same paths. */
export function espFiles(volume: Volume): LayoutFile[] {
  const paths = new Set(volume.boot.filter((b) => b.firmware === "uefi").map((b) => b.path));
  return volume.entries.filter((e): e is LayoutFile => e.type === "file" && paths.has(e.path));
}

export function planEspBytes(files: LayoutFile[], sourceDateEpoch: number): number {
  const tree: TreeEntry[] = files.map((f) => ({
    type: "file",
    path: f.path,
    size: f.size,
    source: { kind: "file", path: "(planned)" },
  }));
  return planFat(tree, { sourceDateEpoch, label: ESP_LABEL }).totalBytes;
}

/** A fresh path for the ESP image of one build; the writer creates it and removes it. */
export function espScratchPath(): string {
  return scratchPath("esp", ".img");
}

export async function writeEsp(
  files: LayoutFile[],
  sourceOf: (f: LayoutFile) => FileSource,
  sizeBytes: number,
  sourceDateEpoch: number,
  out: string,
): Promise<void> {
  const tree: TreeEntry[] = files.map((f) => ({ type: "file", path: f.path, size: f.size, source: sourceOf(f) }));
  await writeFat(tree, { sourceDateEpoch, label: ESP_LABEL, sizeBytes }, out);
}
