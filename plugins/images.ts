/**
 * `bootmedia image <format> <dir> -o FILE`: the writers alone, on any folder, chosen from
 * this table. Each format plugin contributes its row.
 */
import { imageFat } from "./usb/image-command.ts";
import { imageIso } from "./iso/image-command.ts";

export interface ImageFlags {
  output?: string;
  force?: boolean;
  size?: string;
  label?: string;
  fatType?: string;
  volumeId?: string;
  bootBios?: string;
  bootEfi?: string;
}

export interface ImageResult {
  path: string;
  bytes: number;
  [key: string]: unknown;
}

export const IMAGE_FORMATS: Record<string, { describe: string; write: (dir: string, flags: ImageFlags) => Promise<ImageResult> }> = {
  iso: { describe: "an ISO 9660 + Joliet + Rock Ridge image (--volume-id, --boot-bios, --boot-efi)", write: imageIso },
  fat: { describe: "a bare FAT12/16/32 file system (--size, --label, --fat-type)", write: imageFat },
};
