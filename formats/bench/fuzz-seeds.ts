/**
 * Seed images for the inspect fuzzer: real ISO and FAT images of one small tree, made by our
 * writers and by the independent tools (xorriso; mkfs.fat + mcopy), plus a USB disk image
 * (MBR + FAT32 partition). Each seed keeps in memory only its metadata head, where the
 * mutations land; the rest stays on disk.
 */
import { open, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { treeFromDir } from "../../base/dir-tree.ts";
import { writeUsbImage } from "../disk/usb.ts";
import { writeFat } from "../fat/write.ts";
import { writeIso } from "../iso9660/write.ts";
import { mkfsFatImage, writeSampleTree, xorrisoImages } from "../testing/damage.ts";

export type SeedKind = "iso" | "fat" | "disk";

export interface Seed {
  name: string;
  kind: SeedKind;
  /** The pristine image on disk. */
  path: string;
  size: number;
  /** Byte offset of the FAT volume (disk images: the partition). */
  fatOffset: number;
  /** The first bytes of the image: descriptors, directories, boot sector, FATs, first clusters. */
  head: Buffer;
}

/** Bytes kept per seed: every record of the sample tree lies below this (checked by the fuzzer's dry run). */
export const HEAD_BYTES = 3 * 2 ** 20;

async function readHead(path: string): Promise<{ head: Buffer; size: number }> {
  const fh = await open(path, "r");
  try {
    const size = (await fh.stat()).size;
    const head = Buffer.alloc(Math.min(size, HEAD_BYTES));
    await fh.read(head, 0, head.length, 0);
    return { head, size };
  } finally {
    await fh.close();
  }
}

export async function makeSeeds(work: string): Promise<Seed[]> {
  const src = join(work, "src");
  await writeSampleTree(src);
  for (let i = 0; i < 40; i++)
    await writeFile(join(src, "sources", `Driver package number ${i}.cab`), Buffer.alloc(1000 + i * 97, i));
  const entries = await treeFromDir(src);
  const made: Array<Omit<Seed, "head" | "size">> = [];
  const ours = join(work, "ours.iso");
  await writeIso(entries, { volumeId: "FUZZ", sourceDateEpoch: 1700000000 }, ours);
  made.push({ name: "ours.iso", kind: "iso", path: ours, fatOffset: 0 });
  const [rr, joliet] = await xorrisoImages(src, join(work, "seed"));
  made.push(
    { name: "xorriso-rr.iso", kind: "iso", path: rr, fatOffset: 0 },
    { name: "xorriso-joliet.iso", kind: "iso", path: joliet, fatOffset: 0 },
  );
  for (const t of [12, 16, 32] as const) {
    const p = join(work, `ours-fat${t}.img`);
    await writeFat(entries, { sourceDateEpoch: 1700000000, fatType: t, label: `FUZZ${t}` }, p);
    made.push({ name: `ours-fat${t}.img`, kind: "fat", path: p, fatOffset: 0 });
    made.push({
      name: `mkfs-fat${t}.img`,
      kind: "fat",
      path: await mkfsFatImage(src, join(work, "seed"), t),
      fatOffset: 0,
    });
  }
  const usb = join(work, "ours-usb.img");
  const plan = await writeUsbImage(entries, { sourceDateEpoch: 1700000000, label: "FUZZUSB" }, usb);
  made.push({ name: "ours-usb.img", kind: "disk", path: usb, fatOffset: plan.partition.startLba * 512 });
  return Promise.all(made.map(async (m) => ({ ...m, ...(await readHead(m.path)) })));
}
