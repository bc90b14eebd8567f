/**
 * Any media bootmedia can read (folder, .iso, USB image or drive), opened for reading file
 * contents: the inspector (of the plugins in use, given by the caller) that detects it lists
 * files and configuration, a reader per kind returns a file's bytes. `inspect --check` and `diff` read media through this.
 */
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { BootmediaError } from "../../base/errors.ts";
import { readDisk } from "../../formats/disk/index.ts";
import { readFatFile, streamFatFile } from "../../formats/fat/index.ts";
import { readIsoFile, streamIsoFile } from "../../formats/iso9660/read.ts";
import type { Inspector, InspectReport, OpenedMedia } from "../../core/plugin.ts";

type OnChunk = (chunk: Buffer) => void;
interface Reader {
  read(mediaPath: string): Promise<Buffer>;
  stream(mediaPath: string, onChunk: OnChunk): Promise<number | undefined>;
}

/** One reader per inspector kind. */
const READERS: Record<string, (path: string) => Promise<Reader>> = {
  directory: async (root) => ({
    read: (p) => readFile(join(root, p)),
    stream: async (p, onChunk) => {
      let size = 0;
      for await (const chunk of createReadStream(join(root, p), { highWaterMark: 4 * 2 ** 20 })) {
        size += (chunk as Buffer).length;
        onChunk(chunk as Buffer);
      }
      return size;
    },
  }),
  iso: async (image) => ({
    read: (p) => readIsoFile(image, p),
    stream: (p, onChunk) => streamIsoFile(image, p, onChunk),
  }),
  usb: async (image) => {
    const disk = await readDisk(image);
    const part = disk.fat ? disk.partitions.find((x) => x.index === disk.fat!.partition) : undefined;
    const offset = (part?.startLba ?? 0) * 512;
    return {
      read: (p) => readFatFile(image, p, offset),
      stream: (p, onChunk) => streamFatFile(image, p, offset, onChunk),
    };
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
    const raw = await reader(path);
    return {
      kind: report.kind,
      path,
      files,
      config:
        report.config && typeof report.config === "object" ? (report.config as Record<string, unknown>) : undefined,
      read: async (p) => (known.has(p) ? raw.read(p) : undefined),
      stream: async (p, onChunk) => (known.has(p) ? raw.stream(p, onChunk) : undefined),
    };
  }
  throw new BootmediaError(
    "BM1001",
    `${path}: not media bootmedia can read (a media folder, .iso, USB image or drive)`,
    { where: path },
  );
}
