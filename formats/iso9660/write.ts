/**
 * Writes an ISO 9660 image: the metadata (system area, volume descriptors, boot catalog,
 * path tables, directories, continuation areas, small files, backup GPT) in LBA order from
 * the main thread, the file payloads through the payload copier at their planned offsets.
 * On any failure the half-written output is deleted and a coded error is thrown.
 */
import { closeSync, ftruncateSync, openSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { BootmediaError, isBootmediaError } from "../../base/errors.ts";
import { timed, timedSync } from "../../base/timings.ts";
import { BlockWriter } from "../block-writer.ts";
import { startPayloadCopy, type PayloadCopy, type PayloadFailure } from "../payload-copy.ts";
import type { TreeEntry, TreeFile } from "../../base/tree.ts";
import { encodeDirectory, encodePathTable, encodeRootRecord } from "./dirs.ts";
import { BIOS_LOAD_SECTORS, encodeBootCatalog, encodeBootRecord, patchBootInfoTable, patchGrub2BootInfo, PLATFORM, type CatalogImage } from "./eltorito.ts";
import { encodeSystemArea, GPT_TAIL_SECTORS } from "./hybrid.ts";
import { padAscii, padUcs2 } from "./names.ts";
import { layoutIso, placeData, validateOptions, type IsoLayout } from "./plan.ts";
import { encodeDirDate, encodeVolumeDate, SECTOR, STANDARD_ID, TERMINATOR_DESCRIPTOR, VD_TYPE, VOLUME_DESCRIPTOR } from "./records.ts";
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
    type: joliet ? VD_TYPE.SUPPLEMENTARY : VD_TYPE.PRIMARY, standardId: STANDARD_ID, version: 1,
    systemId: text("", 32), volumeId: text(o.volumeId, 32), volumeSpaceSize: l.totalSectors,
    escapeSequences: joliet ? JOLIET_ESCAPE : Buffer.alloc(0),
    volumeSetSize: 1, volumeSequenceNumber: 1, logicalBlockSize: SECTOR,
    pathTableSize: joliet ? l.jPathTableSize : l.pathTableSize,
    typeLPathTable: joliet ? l.lba.jPathL : l.lba.pathL, typeMPathTable: joliet ? l.lba.jPathM : l.lba.pathM,
    rootDirectoryRecord: encodeRootRecord(l.root, joliet ? "joliet" : "iso", encodeDirDate(o.sourceDateEpoch)),
    volumeSetId: text("", 128), publisherId: text(o.publisher ?? "", 128), dataPreparerId: text("", 128),
    applicationId: text(o.application ?? "", 128),
    copyrightFileId: text("", 37), abstractFileId: text("", 37), bibliographicFileId: text("", 37),
    creationDate: created, modificationDate: created, expirationDate: encodeVolumeDate(undefined), effectiveDate: encodeVolumeDate(undefined),
    fileStructureVersion: 1,
  });
}

function catalogImages(l: IsoLayout): CatalogImage[] {
  const out: CatalogImage[] = [];
  if (l.bios) out.push({ platform: PLATFORM.BIOS, lba: l.bios.extents[0].lba, loadSectors: BIOS_LOAD_SECTORS });
  if (l.efi) out.push({ platform: PLATFORM.EFI, lba: l.efi.node.extents[0].lba, loadSectors: l.efi.loadSectors });
  return out;
}

function sourceError(e: unknown, path: string): BootmediaError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return new BootmediaError("BM4101", `source of ${path} vanished`, { where: path, cause: e });
  return new BootmediaError("BM4102", `cannot read source of ${path}: ${(e as Error).message}`, { where: path, cause: e });
}

const changed = (f: TreeFile, what: string) => new BootmediaError("BM4101", `source of ${f.path} ${what} (expected ${f.size} bytes)`, { where: f.path });

/** GRUB hybrid boot: MBR code given, a BIOS image, and the grub2 patch not turned off. */
function usesGrub2Mbr(l: IsoLayout): boolean {
  const h = l.opts.hybrid;
  return Boolean(h?.mbrCode && l.bios && (h.mbrPatch ?? "grub2") === "grub2");
}

async function readWhole(f: FileNode): Promise<Buffer> {
  const src = f.entry.source;
  if (src.kind === "bytes") return Buffer.from(src.data);
  return readFile(src.path).catch((e) => { throw sourceError(e, f.path); });
}

/** The coded error for a payload the copier could not place. */
function payloadError(failure: PayloadFailure, f: TreeFile, outPath: string): BootmediaError {
  const { kind, code, at } = failure;
  if (kind === "open" && code === "ENOENT") return new BootmediaError("BM4101", `source of ${f.path} vanished`, { where: f.path });
  if (kind === "shrank") return changed(f, `shrank to ${at} bytes`);
  if (kind === "grew") return changed(f, "grew");
  if (kind === "write") return new BootmediaError("BM4103", `writing ${outPath} failed: ${code}`, { where: outPath });
  return new BootmediaError("BM4102", `cannot read source of ${f.path}: ${code ?? kind}`, { where: f.path });
}

/** Small payloads the writer places itself: in-memory sources and the (patched) BIOS image. */
async function writeInline(w: BlockWriter, f: FileNode, l: IsoLayout): Promise<void> {
  const size = f.entry.size;
  let data: Uint8Array;
  if (f === l.bios) {
    // The boot-info-table checksum covers the whole image, so the (small) BIOS image is read whole.
    const image = await readWhole(f);
    if (image.length !== size) throw changed(f.entry, `is ${image.length} bytes`);
    if (usesGrub2Mbr(l)) patchGrub2BootInfo(image, f.extents[0].lba);
    patchBootInfoTable(image, l.lba.pvd, f.extents[0].lba);
    data = image;
  } else {
    data = (f.entry.source as { kind: "bytes"; data: Uint8Array }).data;
    if (data.length !== size) throw changed(f.entry, `is ${data.length} bytes`);
  }
  await seekToSector(w, f.extents[0].lba);
  await w.writeBytes(data);
}

/** Files whose bytes the payload copier moves: every file-backed one but the BIOS image (patched in memory). */
const isPayload = (entry: TreeFile, opts: IsoOptions) =>
  entry.source.kind === "file" && entry.path !== opts.boot?.bios?.image;

async function seekToSector(w: BlockWriter, lba: number): Promise<void> {
  if (w.position > lba * SECTOR) throw new Error(`layout overlap: at byte ${w.position}, sector ${lba} wanted`);
  await w.seek(lba * SECTOR);
}

/** Everything but the copied payloads: system area, descriptors, tables, directories, small files. */
async function writeMetadata(out: BlockWriter, l: IsoLayout): Promise<void> {
  const o = l.opts;
  const date = encodeDirDate(o.sourceDateEpoch);
  const sys = o.hybrid
    ? encodeSystemArea({
      seed: `${o.volumeId}:${o.sourceDateEpoch}`, totalSectors: l.totalSectors, mbrCode: o.hybrid.mbrCode,
      grub2PatchLba: usesGrub2Mbr(l) ? l.bios!.extents[0].lba : undefined,
      esp: l.efi ? { lba: l.efi.node.extents[0].lba, bytes: l.efi.node.entry.size } : undefined, gpt: Boolean(o.hybrid.gpt),
    })
    : undefined;
  if (sys) await out.writeBytes(sys.head);
  await seekToSector(out, l.lba.pvd);
  await out.writeBytes(encodeVolumeDescriptor(l, false));
  if (l.lba.bootRecord !== undefined) await out.writeBytes(encodeBootRecord(l.lba.catalog!));
  await out.writeBytes(encodeVolumeDescriptor(l, true));
  await out.writeBytes(encodeRecord(TERMINATOR_DESCRIPTOR, { type: VD_TYPE.TERMINATOR, standardId: STANDARD_ID, version: 1 }));
  if (l.lba.catalog !== undefined) await out.writeBytes(encodeBootCatalog(catalogImages(l)));
  for (const f of l.files) if (f.entry.size > 0 && !isPayload(f.entry, o)) await writeInline(out, f, l);
  const tables: [number, Buffer][] = [
    [l.lba.pathL, encodePathTable(l.dirs, "iso", "L")], [l.lba.pathM, encodePathTable(l.dirs, "iso", "M")],
    [l.lba.jPathL, encodePathTable(l.jdirs, "joliet", "L")], [l.lba.jPathM, encodePathTable(l.jdirs, "joliet", "M")],
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
export async function writeIso(entries: readonly TreeEntry[], opts: IsoOptions, outPath: string): Promise<{ bytes: number }> {
  validateOptions(opts);
  const data = timedSync("place data", () => placeData(entries, opts));
  const payloads = data.files.filter(({ entry }) => entry.size > 0 && isPayload(entry, opts));
  let fd: number | undefined;
  let copy: PayloadCopy | undefined;
  try {
    fd = openSync(outPath, "w");
    let totalBytes = data.end * SECTOR;
    // Sized up front: copies into a file's existing size are cheaper than ones that extend it.
    ftruncateSync(fd, totalBytes);
    const w = new BlockWriter(fd);
    const report = opts.onProgress && ((n: number) => opts.onProgress!(Math.min(totalBytes, n + w.written), totalBytes));
    copy = startPayloadCopy(fd, payloads.map(({ entry, extents }) => ({ path: (entry.source as { path: string }).path, length: entry.size, offset: extents[0].lba * SECTOR })), report);
    // Naming and sizing the tree runs while the payloads are being copied.
    const layout = timedSync("layout", () => layoutIso(entries, opts, data));
    totalBytes = layout.totalSectors * SECTOR;
    ftruncateSync(fd, totalBytes);
    await timed("metadata", () => writeMetadata(w, layout));
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
    throw new BootmediaError("BM4103", `writing ${outPath} failed: ${(e as Error).message}`, { where: outPath, cause: e });
  }
}
