/**
 * Any media bootmedia can read (folder, .iso, USB image or drive), opened for reading file
 * contents: the inspector (of the plugins in use, given by the caller) that detects it lists
 * files and configuration, a reader per kind returns a file's bytes. `inspect --check` and `diff` read media through this.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { BootmediaError } from "../../base/errors.ts";
import { readDisk } from "../../formats/disk/index.ts";
import { readFatFile } from "../../formats/fat/index.ts";
import { readIsoFile } from "../../formats/iso9660/read.ts";
import type { Inspector, InspectReport, OpenedMedia } from "../../core/plugin.ts";

type Reader = (path: string) => Promise<(mediaPath: string) => Promise<Buffer>>;

/** One reader per inspector kind. */
const READERS: Record<string, Reader> = {
  directory: async (root) => (p) => readFile(join(root, p)),
  iso: async (image) => (p) => readIsoFile(image, p),
  usb: async (image) => {
    const disk = await readDisk(image);
    const part = disk.fat ? disk.partitions.find((x) => x.index === disk.fat!.partition) : undefined;
    const offset = (part?.startLba ?? 0) * 512;
    return (p) => readFatFile(image, p, offset);
  },
};

export async function openMedia(path: string, inspectors: readonly Inspector[]): Promise<OpenedMedia> {
  for (const inspector of inspectors) {
    if (!(await inspector.detect(path))) continue;
    const report: InspectReport = await inspector.inspect(path);
    const reader = READERS[report.kind];
    if (!reader) break;
    const files = (report.files as Array<{ path: string; size: number }>).map((f) => ({
      path: f.path.replace(/^\/+/, ""),
      size: f.size,
    }));
    const known = new Set(files.map((f) => f.path));
    const readRaw = await reader(path);
    return {
      kind: report.kind,
      path,
      files,
      config:
        report.config && typeof report.config === "object" ? (report.config as Record<string, unknown>) : undefined,
      read: async (p) => (known.has(p) ? readRaw(p) : undefined),
    };
  }
  throw new BootmediaError(
    "BM1001",
    `${path}: not media bootmedia can read (a media folder, .iso, USB image or drive)`,
    { where: path },
  );
}
