/**
 * Writes an ISO 9660 image: the metadata (system area, volume descriptors, boot catalog,
 * path tables, directories, continuation areas, small files, backup GPT) in LBA order from
 * the main thread, the file payloads through the payload copier at their planned offsets.
 * On any failure the half-written output is deleted and a coded error is thrown.
 */
import { closeSync, ftruncateSync, openSync, writeSync } from "node:fs";
import { open, readFile, rm } from "node:fs/promises";
import { BootmediaError, isBootmediaError } from "../../base/errors.ts";
import { timed, timedSync } from "../../base/timings.ts";
import { BlockWriter } from "../block-writer.ts";
import { startPayloadCopy, type PayloadCopy, type PayloadFailure } from "../payload-copy.ts";
import type { TreeEntry, TreeFile } from "../../base/tree.ts";
import { encodeDirectory, encodePathTable, encodeRootRecord } from "./dirs.ts";
import {
  encodeBootCatalog,
  encodeBootRecord,
  MEDIA_TYPE,
  patchBootInfoTable,
  patchGrub2BootInfo,
  type CatalogImage,
} from "./eltorito.ts";
import { MBR, MBR_SIGNATURE, PARTITION_RECORD } from "../disk/mbr.ts";
import { decodeRecord } from "../record.ts";
import { encodeSystemArea, GPT_TAIL_SECTORS } from "./hybrid.ts";
import { padAscii, padUcs2 } from "./names.ts";
import {
  inlineBootPaths,
  layoutIso,
  placeData,
  validateOptions,
  type IsoLayout,
  type ResolvedBootEntry,
} from "./plan.ts";
import {
  encodeDirDate,
  encodeVolumeDate,
  SECTOR,
  STANDARD_ID,
  TERMINATOR_DESCRIPTOR,
  VD_TYPE,
  VOLUME_DESCRIPTOR,
} from "./records.ts";
import { encodeRecord } from "../record.ts";
import type { FileNode } from "./tree.ts";
import type { IsoOptions } from "./types.ts";
import "./codes.ts";

/** Joliet UCS-2 level 3 escape sequence (Joliet spec §2.1.2). */
const JOLIET_ESCAPE = Buffer.from("%/E", "latin1");

/** Primary (§8.4) or Joliet supplementary (§8.5) volume descriptor. */
function encodeVolumeDescriptor(l: IsoLayout, joliet: boolean): Buffer {
  const o = l.opts;
  const text = (s: string, size: number) => (joliet ? padUcs2(s, size) : padAscii(s, size));
  const created = encodeVolumeDate(o.sourceDateEpoch);
  return encodeRecord(VOLUME_DESCRIPTOR, {
    type: joliet ? VD_TYPE.SUPPLEMENTARY : VD_TYPE.PRIMARY,
    standardId: STANDARD_ID,
    version: 1,
    systemId: text("", 32),
    volumeId: text(o.volumeId, 32),
    volumeSpaceSize: l.isoSectors,
    escapeSequences: joliet ? JOLIET_ESCAPE : Buffer.alloc(0),
    volumeSetSize: 1,
    volumeSequenceNumber: 1,
    logicalBlockSize: SECTOR,
    pathTableSize: joliet ? l.jPathTableSize : l.pathTableSize,
    typeLPathTable: joliet ? l.lba.jPathL : l.lba.pathL,
    typeMPathTable: joliet ? l.lba.jPathM : l.lba.pathM,
    rootDirectoryRecord: encodeRootRecord(l.root, joliet ? "joliet" : "iso", encodeDirDate(o.sourceDateEpoch)),
    volumeSetId: text("", 128),
    publisherId: text(o.publisher ?? "", 128),
    dataPreparerId: text("", 128),
    applicationId: text(o.application ?? "", 128),
    copyrightFileId: text("", 37),
    abstractFileId: text("", 37),
    bibliographicFileId: text("", 37),
    creationDate: created,
    modificationDate: created,
    expirationDate: encodeVolumeDate(undefined),
    effectiveDate: encodeVolumeDate(undefined),
    fileStructureVersion: 1,
  });
}

function catalogImages(l: IsoLayout, systemTypes: Map<ResolvedBootEntry, number>): CatalogImage[] {
  return l.boot.map((b) => ({
    platform: b.platform,
    lba: b.lba,
    loadSectors: b.loadSectors,
    mediaType: b.mediaType,
    systemType: systemTypes.get(b),
  }));
}

function sourceError(e: unknown, path: string): BootmediaError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return new BootmediaError("BM4101", `source of ${path} vanished`, { where: path, cause: e });
  return new BootmediaError("BM4102", `cannot read source of ${path}: ${(e as Error).message}`, {
    where: path,
    cause: e,
  });
}

const changed = (f: TreeFile, what: string) =>
  new BootmediaError("BM4101", `source of ${f.path} ${what} (expected ${f.size} bytes)`, { where: f.path });

/** How the MBR code learns the BIOS image's address: GRUB's boot_hybrid.img and ISOLINUX's isohdpfx.bin read it at 0x1b0. */
function mbrPatchOf(l: IsoLayout): "grub2" | "isohybrid" | undefined {
  const h = l.opts.hybrid;
  const patch = h?.mbrPatch ?? "grub2";
  return h?.mbrCode && l.bios && patch !== "none" ? patch : undefined;
}

async function readWhole(f: FileNode): Promise<Buffer> {
  const src = f.entry.source;
  if (src.kind === "bytes") return Buffer.from(src.data);
  return readFile(src.path).catch((e) => {
    throw sourceError(e, f.path);
  });
}

/** The coded error for a payload the copier could not place. */
function payloadError(failure: PayloadFailure, f: TreeFile, outPath: string): BootmediaError {
  const { kind, code, at } = failure;
  if (kind === "open" && code === "ENOENT")
    return new BootmediaError("BM4101", `source of ${f.path} vanished`, { where: f.path });
  if (kind === "shrank") return changed(f, `shrank to ${at} bytes`);
  if (kind === "grew") return changed(f, "grew");
  if (kind === "write") return new BootmediaError("BM4103", `writing ${outPath} failed: ${code}`, { where: outPath });
  return new BootmediaError("BM4102", `cannot read source of ${f.path}: ${code ?? kind}`, { where: f.path });
}

/** Hard-disk emulation: the catalog's system type is the type of the image's only MBR partition (El Torito §2.2). */
function hddSystemType(image: Buffer, path: string): number {
  const mbr = image.length >= MBR.size ? decodeRecord(MBR, image) : undefined;
  if (!mbr || mbr.Signature !== MBR_SIGNATURE)
    throw new BootmediaError("BM3108", `${path}: hard-disk emulation needs an image that starts with an MBR`, {
      where: path,
    });
  for (let i = 0; i < 4; i++) {
    const type = decodeRecord(PARTITION_RECORD, mbr.PartitionRecord, i * PARTITION_RECORD.size).OSType;
    if (type !== 0) return type;
  }
  return 0;
}

/** Small payloads the writer places itself: in-memory sources and boot images it patches or reads. */
async function writeInline(w: BlockWriter, f: FileNode, l: IsoLayout): Promise<void> {
  const size = f.entry.size;
  let data: Uint8Array;
  const boot = l.boot.filter((b) => b.node === f);
  if (boot.length > 0) {
    // The boot-info-table checksum covers the whole image, so the (small) image is read whole.
    const image = await readWhole(f);
    if (image.length !== size) throw changed(f.entry, `is ${image.length} bytes`);
    if (boot.some((b) => b.grub2BootInfo)) patchGrub2BootInfo(image, f.extents[0].lba);
    if (boot.some((b) => b.bootInfoTable)) patchBootInfoTable(image, l.lba.pvd, f.extents[0].lba);
    data = image;
  } else {
    data = (f.entry.source as { kind: "bytes"; data: Uint8Array }).data;
    if (data.length !== size) throw changed(f.entry, `is ${data.length} bytes`);
  }
  await seekToSector(w, f.extents[0].lba);
  await w.writeBytes(data);
}

/** Files whose bytes the payload copier moves: every file-backed one but boot images patched in memory. */
const isPayload = (entry: TreeFile, inline: Set<string>) => entry.source.kind === "file" && !inline.has(entry.path);

async function readHead(source: { path: string; offset: number }): Promise<Buffer> {
  const fh = await open(source.path, "r").catch((e) => {
    throw sourceError(e, source.path);
  });
  try {
    const buf = Buffer.alloc(MBR.size);
    await fh.read(buf, 0, buf.length, source.offset);
    return buf;
  } finally {
    await fh.close();
  }
}

/** Copies an appended partition's bytes from its host file (bounded buffer); the rest of its last block stays zero. */
async function writeAppended(
  fd: number,
  p: { part: { number: number; source: { path: string; offset: number; size: number } }; lba: number },
): Promise<void> {
  const { path, offset, size } = p.part.source;
  const src = await open(path, "r").catch((e) => {
    throw sourceError(e, path);
  });
  try {
    const buf = Buffer.alloc(Math.min(size, 2 ** 20));
    for (let done = 0; done < size; ) {
      const { bytesRead } = await src.read(buf, 0, Math.min(buf.length, size - done), offset + done);
      if (bytesRead === 0)
        throw new BootmediaError(
          "BM4101",
          `appended partition ${p.part.number}: ${path} ends before ${offset + size} bytes`,
          { where: path },
        );
      for (let w = 0; w < bytesRead; ) w += writeSync(fd, buf, w, bytesRead - w, p.lba * SECTOR + done + w);
      done += bytesRead;
    }
  } finally {
    await src.close();
  }
}

async function seekToSector(w: BlockWriter, lba: number): Promise<void> {
  if (w.position > lba * SECTOR) throw new Error(`layout overlap: at byte ${w.position}, sector ${lba} wanted`);
  await w.seek(lba * SECTOR);
}

async function writeCatalog(out: BlockWriter, l: IsoLayout, lba: number): Promise<void> {
  const systemTypes = new Map<ResolvedBootEntry, number>();
  for (const b of l.boot)
    if (b.mediaType === MEDIA_TYPE.HDD)
      systemTypes.set(
        b,
        hddSystemType(
          b.node ? await readWhole(b.node) : await readHead(b.partition!.part.source),
          b.node?.path ?? b.partition!.part.source.path,
        ),
      );
  await seekToSector(out, lba);
  await out.writeBytes(encodeBootCatalog(catalogImages(l, systemTypes)));
}

/** Everything but the copied payloads: system area, descriptors, tables, directories, small files. */
async function writeMetadata(out: BlockWriter, l: IsoLayout): Promise<void> {
  const o = l.opts;
  const date = encodeDirDate(o.sourceDateEpoch);
  const patch = mbrPatchOf(l);
  const sys = o.hybrid
    ? encodeSystemArea({
        seed: `${o.volumeId}:${o.sourceDateEpoch}`,
        totalSectors: l.totalSectors,
        isoSectors: l.isoSectors,
        mbrCode: o.hybrid.mbrCode,
        mbrPatch: patch ? { kind: patch, lba: l.bios!.extents[0].lba } : undefined,
        esp: l.efi ? { lba: l.efi.node.extents[0].lba, bytes: l.efi.node.entry.size } : undefined,
        gpt: Boolean(o.hybrid.gpt),
        isoPartition: o.hybrid.isoPartition,
        appended: l.appended.map((a) => ({
          number: a.part.number,
          type: a.part.type,
          lba: a.lba,
          bytes: a.part.source.size,
        })),
      })
    : undefined;
  if (sys) await out.writeBytes(sys.head);
  await seekToSector(out, l.lba.pvd);
  await out.writeBytes(encodeVolumeDescriptor(l, false));
  if (l.lba.bootRecord !== undefined) await out.writeBytes(encodeBootRecord(l.lba.catalog!));
  await out.writeBytes(encodeVolumeDescriptor(l, true));
  await out.writeBytes(
    encodeRecord(TERMINATOR_DESCRIPTOR, { type: VD_TYPE.TERMINATOR, standardId: STANDARD_ID, version: 1 }),
  );
  if (l.lba.catalog !== undefined) await writeCatalog(out, l, l.lba.catalog);
  const inline = inlineBootPaths(o);
  for (const f of l.files) if (f.entry.size > 0 && !isPayload(f.entry, inline)) await writeInline(out, f, l);
  const tables: [number, Buffer][] = [
    [l.lba.pathL, encodePathTable(l.dirs, "iso", "L")],
    [l.lba.pathM, encodePathTable(l.dirs, "iso", "M")],
    [l.lba.jPathL, encodePathTable(l.jdirs, "joliet", "L")],
    [l.lba.jPathM, encodePathTable(l.jdirs, "joliet", "M")],
  ];
  for (const [lba, table] of tables) {
    await seekToSector(out, lba);
    await out.writeBytes(table);
  }
  for (const d of l.dirs) {
    await seekToSector(out, d.lba);
    await out.writeBytes(encodeDirectory(d, "iso", date));
  }
  for (const d of l.jdirs) {
    await seekToSector(out, d.jLba);
    await out.writeBytes(encodeDirectory(d, "joliet", date));
  }
  for (const block of l.continuation) {
    await seekToSector(out, block.lba);
    const buf = Buffer.alloc(SECTOR);
    for (const p of block.parts) Buffer.concat(p.data).copy(buf, p.offset);
    await out.writeBytes(buf);
  }
  if (sys?.tail) {
    await seekToSector(out, l.totalSectors - GPT_TAIL_SECTORS);
    await out.writeBytes(sys.tail);
  }
  await out.close();
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already failing: the first error is the one to report
  }
}

/**
 * Writes the image to `outPath` (the caller renames it into place); deletes it on failure.
 * Payloads are copied (in the kernel, on a pool thread, when the native helper is built)
 * while the metadata is written; padding is never written, the image starts as one hole.
 */
export async function writeIso(
  entries: readonly TreeEntry[],
  opts: IsoOptions,
  outPath: string,
): Promise<{ bytes: number }> {
  validateOptions(opts);
  const data = timedSync("place data", () => placeData(entries, opts));
  const inline = inlineBootPaths(opts);
  const payloads = data.files.filter(({ entry }) => entry.size > 0 && isPayload(entry, inline));
  let fd: number | undefined;
  let copy: PayloadCopy | undefined;
  try {
    fd = openSync(outPath, "w");
    let totalBytes = data.end * SECTOR;
    // Sized up front: copies into a file's existing size are cheaper than ones that extend it.
    ftruncateSync(fd, totalBytes);
    const w = new BlockWriter(fd);
    const report =
      opts.onProgress && ((n: number) => opts.onProgress!(Math.min(totalBytes, n + w.written), totalBytes));
    copy = startPayloadCopy(
      fd,
      payloads.map(({ entry, extents }) => ({
        path: (entry.source as { path: string }).path,
        ...((entry.source as { offset?: number }).offset !== undefined
          ? { from: (entry.source as { offset: number }).offset }
          : {}),
        length: entry.size,
        offset: extents[0].lba * SECTOR,
      })),
      report,
    );
    // Naming and sizing the tree runs while the payloads are being copied.
    const layout = timedSync("layout", () => layoutIso(entries, opts, data));
    totalBytes = layout.totalSectors * SECTOR;
    ftruncateSync(fd, totalBytes);
    await timed("metadata", () => writeMetadata(w, layout));
    for (const a of layout.appended) await writeAppended(fd, a);
    const failure = await timed("copy-wait", () => copy!.done);
    copy = undefined;
    if (failure) throw payloadError(failure, payloads[failure.index].entry, outPath);
    closeSync(fd);
    fd = undefined;
    opts.onProgress?.(totalBytes, totalBytes);
    return { bytes: totalBytes };
  } catch (e) {
    copy?.cancel();
    await copy?.done;
    if (fd !== undefined) closeQuietly(fd);
    await rm(outPath, { force: true }).catch(() => undefined);
    if (isBootmediaError(e)) throw e;
    throw new BootmediaError("BM4103", `writing ${outPath} failed: ${(e as Error).message}`, {
      where: outPath,
      cause: e,
    });
  }
}
