/**
 * Streams an ISO 9660 image to disk in LBA order: system area, volume descriptors, boot
 * catalog, path tables, directories, continuation areas, file data, backup GPT. On any
 * failure the half-written output is deleted and a coded error is thrown.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { rm } from "node:fs/promises";
import { BootmediaError, isBootmediaError } from "../../core/errors.ts";
import type { TreeEntry } from "../tree.ts";
import { encodeDirectory, encodePathTable, encodeRootRecord } from "./dirs.ts";
import { BIOS_LOAD_SECTORS, encodeBootCatalog, encodeBootRecord, patchBootInfoTable, patchGrub2BootInfo, PLATFORM, type CatalogImage } from "./eltorito.ts";
import { encodeSystemArea, GPT_TAIL_SECTORS } from "./hybrid.ts";
import { padAscii, padUcs2 } from "./names.ts";
import { ImageOutput } from "./output.ts";
import { layoutIso, type IsoLayout } from "./plan.ts";
import { encodeDirDate, encodeVolumeDate, SECTOR, STANDARD_ID, TERMINATOR_DESCRIPTOR, VD_TYPE, VOLUME_DESCRIPTOR } from "./records.ts";
import { encodeRecord } from "./struct.ts";
import type { FileNode } from "./tree.ts";
import type { IsoOptions } from "./types.ts";

/** Joliet UCS-2 level 3 escape sequence (Joliet spec §2.1.2). */
const JOLIET_ESCAPE = Buffer.from("%/E", "latin1");

export interface WriteIsoOptions extends IsoOptions {
  /** Also return the image's SHA-256 (costs CPU on the write path). */
  sha256?: boolean;
}

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

const changed = (f: FileNode, what: string) => new BootmediaError("BM4101", `source of ${f.path} ${what} (expected ${f.entry.size} bytes)`, { where: f.path });

/** GRUB hybrid boot: MBR code given, a BIOS image, and the grub2 patch not turned off. */
function usesGrub2Mbr(l: IsoLayout): boolean {
  const h = l.opts.hybrid;
  return Boolean(h?.mbrCode && l.bios && (h.mbrPatch ?? "grub2") === "grub2");
}

async function readWhole(f: FileNode): Promise<Buffer> {
  const src = f.entry.source;
  if (src.kind === "bytes") return Buffer.from(src.data);
  const { readFile } = await import("node:fs/promises");
  return readFile(src.path).catch((e) => { throw sourceError(e, f.path); });
}

/** One byte read past a source's planned end tells whether it grew. */
const GROWTH_PROBE = Buffer.alloc(1);

/** Copies one file's payload, checking it neither shrinks, grows nor vanishes. */
async function writeFileData(out: ImageOutput, f: FileNode, l: IsoLayout): Promise<void> {
  const size = f.entry.size;
  if (f === l.bios) {
    // The boot-info-table checksum covers the whole image, so the (small) BIOS image is read whole.
    const image = await readWhole(f);
    if (image.length !== size) throw changed(f, `is ${image.length} bytes`);
    if (usesGrub2Mbr(l)) patchGrub2BootInfo(image, f.extents[0].lba);
    patchBootInfoTable(image, l.lba.pvd, f.extents[0].lba);
    await out.putBytes(image);
  } else if (f.entry.source.kind === "bytes") {
    if (f.entry.source.data.length !== size) throw changed(f, `is ${f.entry.source.data.length} bytes`);
    await out.putBytes(f.entry.source.data);
  } else {
    // Synchronous open/read/close: a thread-pool round trip per call dominated small files.
    let fd: number;
    try {
      fd = openSync(f.entry.source.path, "r");
    } catch (e) {
      throw sourceError(e, f.path);
    }
    try {
      let at = 0;
      while (at < size) {
        const n = await out.readFrom(fd, at, size - at).catch((e) => { throw sourceError(e, f.path); });
        if (n === 0) throw changed(f, `shrank to ${at} bytes`);
        at += n;
      }
      if (readSync(fd, GROWTH_PROBE, 0, 1, size) > 0) throw changed(f, "grew");
    } finally {
      closeSync(fd);
    }
  }
  await out.padToSector();
}

async function writeImage(out: ImageOutput, l: IsoLayout): Promise<void> {
  const o = l.opts;
  const date = encodeDirDate(o.sourceDateEpoch);
  const sys = o.hybrid
    ? encodeSystemArea({
      seed: `${o.volumeId}:${o.sourceDateEpoch}`, totalSectors: l.totalSectors, mbrCode: o.hybrid.mbrCode,
      grub2PatchLba: usesGrub2Mbr(l) ? l.bios!.extents[0].lba : undefined,
      esp: l.efi ? { lba: l.efi.node.extents[0].lba, bytes: l.efi.node.entry.size } : undefined, gpt: Boolean(o.hybrid.gpt),
    })
    : undefined;
  if (sys) await out.putBytes(sys.head);
  await out.seekToSector(l.lba.pvd);
  await out.putBytes(encodeVolumeDescriptor(l, false));
  if (l.lba.bootRecord !== undefined) await out.putBytes(encodeBootRecord(l.lba.catalog!));
  await out.putBytes(encodeVolumeDescriptor(l, true));
  await out.putBytes(encodeRecord(TERMINATOR_DESCRIPTOR, { type: VD_TYPE.TERMINATOR, standardId: STANDARD_ID, version: 1 }));
  if (l.lba.catalog !== undefined) await out.putBytes(encodeBootCatalog(catalogImages(l)));
  const tables: [number, Buffer][] = [
    [l.lba.pathL, encodePathTable(l.dirs, "iso", "L")], [l.lba.pathM, encodePathTable(l.dirs, "iso", "M")],
    [l.lba.jPathL, encodePathTable(l.jdirs, "joliet", "L")], [l.lba.jPathM, encodePathTable(l.jdirs, "joliet", "M")],
  ];
  for (const [lba, table] of tables) {
    await out.seekToSector(lba);
    await out.putBytes(table);
  }
  for (const d of l.dirs) {
    await out.seekToSector(d.lba);
    await out.putBytes(encodeDirectory(d, "iso", date));
  }
  for (const d of l.jdirs) {
    await out.seekToSector(d.jLba);
    await out.putBytes(encodeDirectory(d, "joliet", date));
  }
  for (const block of l.continuation) {
    await out.seekToSector(block.lba);
    const buf = Buffer.alloc(SECTOR);
    for (const p of block.parts) Buffer.concat(p.data).copy(buf, p.offset);
    await out.putBytes(buf);
  }
  for (const f of l.files) {
    if (f.entry.size === 0) continue;
    await out.seekToSector(f.extents[0].lba);
    await writeFileData(out, f, l);
  }
  if (sys?.tail) {
    await out.seekToSector(l.totalSectors - GPT_TAIL_SECTORS);
    await out.putBytes(sys.tail);
  }
  await out.seekToSector(l.totalSectors);
  await out.finish();
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already failing: the first error is the one to report
  }
}

/** Writes the image to `outPath` (the caller renames it into place); deletes it on failure. */
export async function writeIso(entries: readonly TreeEntry[], opts: WriteIsoOptions, outPath: string): Promise<{ bytes: number; sha256?: string }> {
  const layout = layoutIso(entries, opts);
  const totalBytes = layout.totalSectors * SECTOR;
  let fd: number | undefined;
  let out: ImageOutput | undefined;
  try {
    fd = openSync(outPath, "w");
    out = new ImageOutput(fd, totalBytes, opts.onProgress, opts.sha256);
    await writeImage(out, layout);
    closeSync(fd);
    fd = undefined;
    return { bytes: totalBytes, sha256: out.digest() };
  } catch (e) {
    await out?.finish().catch(() => undefined);
    if (fd !== undefined) closeQuietly(fd);
    await rm(outPath, { force: true }).catch(() => undefined);
    if (isBootmediaError(e)) throw e;
    throw new BootmediaError("BM4103", `writing ${outPath} failed: ${(e as Error).message}`, { where: outPath, cause: e });
  }
}
