/**
 * readIso on damaged images, made from real ones (our writer, xorriso with Rock Ridge +
 * Joliet, xorriso with Joliet only): every damage is a coded error, fast and small,
 * never an empty listing or a crash. The undamaged images are first checked against isoinfo.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { treeFromDir } from "../../base/dir-tree.ts";
import { decodeRecord } from "../record.ts";
import {
  isoFirstSubdir,
  isoLoopToRoot,
  isoRootRecordPos,
  isoRootRecords,
  setIsoRecord,
  writeSampleTree,
  xorrisoImages,
} from "../testing/damage.ts";
import { readIso, readIsoFile } from "./read.ts";
import { ISO_READ_LIMITS } from "./read-tree.ts";
import { DIRECTORY_RECORD, FILE_FLAG, SECTOR } from "./records.ts";
import { isoinfoList } from "./testing/testkit.ts";
import { writeIso } from "./write.ts";

let work: string;
const images: Record<string, Buffer> = {};

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "bm-iso-damaged-"));
  const src = join(work, "src");
  await writeSampleTree(src);
  await writeIso(await treeFromDir(src), { volumeId: "DAMAGE", sourceDateEpoch: 1700000000 }, join(work, "ours.iso"));
  const [rr, joliet] = await xorrisoImages(src, join(work, "x"));
  images.ours = await readFile(join(work, "ours.iso"));
  images["xorriso -R -J"] = await readFile(rr);
  images["xorriso -J"] = await readFile(joliet);
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const MAKERS = ["ours", "xorriso -R -J", "xorriso -J"] as const;

async function damaged(maker: string, name: string, damage: (img: Buffer) => Buffer | void): Promise<string> {
  const img = Buffer.from(images[maker]);
  const out = join(work, `${maker.replace(/\W+/g, "-")}-${name}.iso`);
  await writeFile(out, damage(img) ?? img);
  return out;
}

/** Reading must end with `code` within 2 s (the 2 GiB root took 34 s and 2.9 GB before). */
async function expectCode(path: string, code: string): Promise<void> {
  const t0 = performance.now();
  await expect(readIso(path)).rejects.toMatchObject({ code });
  expect(performance.now() - t0).toBeLessThan(2000);
}

describe.each(MAKERS)("readIso on a damaged image made by %s", (maker) => {
  it("reads the undamaged image as isoinfo lists it", async () => {
    const path = await damaged(maker, "intact", () => undefined);
    const info = await readIso(path);
    const view = info.names === "rockridge" ? "-R" : info.names === "joliet" ? "-J" : "";
    expect(info.files.map((f) => f.path).sort()).toEqual((await isoinfoList(path, view)).sort());
  });

  it("refuses a truncated image (BM4106), whether cut after the descriptors or inside the files", async () => {
    await expectCode(await damaged(maker, "cut-20", (img) => img.subarray(0, 20 * SECTOR)), "BM4106");
    await expectCode(await damaged(maker, "cut-half", (img) => img.subarray(0, Math.floor(img.length / 2))), "BM4106");
  });

  it("refuses a folder pointing at its parent root (BM4106), instead of 65 nested copies", async () => {
    await expectCode(await damaged(maker, "loop-root", isoLoopToRoot), "BM4106");
  });

  it("refuses a folder pointing at itself (BM4106)", async () => {
    const path = await damaged(maker, "loop-self", (img) => {
      const sub = isoFirstSubdir(img);
      const dot = decodeRecord(DIRECTORY_RECORD, img, sub.extent * SECTOR); // the folder's own "." record
      expect(dot.extent).toBe(sub.extent);
      img[sub.extent * SECTOR + DIRECTORY_RECORD.size] = 0x41; // "." renamed "A": a folder listing itself
    });
    await expectCode(path, "BM4106");
  });

  it("refuses a root claiming 2 GiB fast, without reading it (BM4106)", async () => {
    await expectCode(
      await damaged(maker, "root-2gib", (img) => setIsoRecord(img, isoRootRecordPos(), { dataLength: 2 ** 31 })),
      "BM4106",
    );
  });

  it("refuses a crafted root record in the volume descriptor (BM4106), not an internal error", async () => {
    await expectCode(
      await damaged(maker, "root-len-0", (img) => setIsoRecord(img, isoRootRecordPos(), { length: 0 })),
      "BM4106",
    );
    await expectCode(
      await damaged(maker, "root-len-255", (img) => setIsoRecord(img, isoRootRecordPos(), { length: 255 })),
      "BM4106",
    );
    await expectCode(
      await damaged(maker, "root-far", (img) => setIsoRecord(img, isoRootRecordPos(), { extent: 0xfffffff0 })),
      "BM4106",
    );
  });

  it("refuses a record whose data lies past the end of the image (BM4106)", async () => {
    const path = await damaged(maker, "file-far", (img) => {
      const sub =
        isoRootRecords(img).find((r) => r.id !== "\0" && r.id !== "\x01" && !(r.flags & FILE_FLAG.DIRECTORY)) ??
        isoFirstSubdir(img);
      setIsoRecord(img, sub.pos, { extent: img.length / SECTOR + 10 });
    });
    await expectCode(path, "BM4106");
  });
});

describe("readIso limits", () => {
  it("a folder over the size limit in an image large enough to hold it is BM4107, and nothing is read", async () => {
    const img = Buffer.from(images.ours);
    setIsoRecord(img, isoRootRecordPos(), { dataLength: ISO_READ_LIMITS.directoryBytes + SECTOR });
    const path = join(work, "big-root.iso");
    await writeFile(path, img);
    await execa("truncate", ["-s", String(2 * ISO_READ_LIMITS.directoryBytes), path]); // sparse: costs no disk
    await expect(readIso(path)).rejects.toMatchObject({ code: "BM4107" });
  });

  it("readIsoFile reads a file of an intact image", async () => {
    const path = join(work, "file-read.iso");
    await writeFile(path, images.ours);
    expect((await readIsoFile(path, "boot/grub/grub.cfg")).toString()).toBe("set timeout=5\n");
  });
});
