/**
 * bootmedia/manifest.json: what the media held when it was built — every laid-out file
 * with its size and sha256 (boot files marked), the boot paths per firmware and the
 * machines the spec promised — so `bootmedia inspect --check` can tell later whether the
 * media still is what was built and still covers those machines (docs/media-config.md).
 */
import type { Arch, Firmware } from "../../core/compat.ts";
import type { BootFileRole } from "../../core/types.ts";

export const MANIFEST_PATH = "bootmedia/manifest.json";

export interface MediaManifestFile {
  path: string;
  size: number;
  sha256: string;
  /** A file the machine boots from: boot loader, kernel, initrd. */
  boot?: true;
}

export interface MediaManifest {
  schema: 1;
  files: MediaManifestFile[];
  boot: Array<{ firmware: Firmware; arch: Arch; role: BootFileRole; path: string }>;
  machines: Array<{ arch: Arch; firmware: Firmware; nic?: string }>;
}

/** Parses manifest.json leniently: undefined when it is not a manifest of this schema. */
export function parseMediaManifest(text: string): MediaManifest | undefined {
  try {
    const m = JSON.parse(text) as Partial<MediaManifest>;
    if (m.schema !== 1 || !Array.isArray(m.files) || !Array.isArray(m.boot) || !Array.isArray(m.machines))
      return undefined;
    return m as MediaManifest;
  } catch {
    return undefined;
  }
}
