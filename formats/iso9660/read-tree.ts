/**
 * Walks the directory hierarchy of an ISO 9660 image as untrusted input: every extent is
 * bounded by the image, a folder that points at itself, an ancestor or a folder already
 * read is a loop (BM4106), and folder sizes, entry counts and depth are capped (BM4107).
 */
import { BootmediaError } from "../../base/errors.ts";
import type { ImageFile } from "../image-file.ts";
import { decodeRecord } from "../record.ts";
import { decodeUcs2 } from "./names.ts";
import { DIRECTORY_RECORD, FILE_FLAG, SECTOR } from "./records.ts";
import { CE, NM, PX, SUSP_HEADER } from "./susp.ts";
import type { IsoExtent, IsoFileInfo, IsoInfo } from "./types.ts";

/** Limits of `inspect`: a real deployment image stays far below them. */
export const ISO_READ_LIMITS = {
  entries: 1_000_000,
  directoryBytes: 64 * 2 ** 20,
  depth: 256,
  /** SUSP continuation areas followed per record, and bytes per area (SUSP §5.1). */
  continuations: 16,
  continuationBytes: 64 * 1024,
} as const;

export interface RawRecord {
  id: Buffer;
  extent: number;
  length: number;
  flags: number;
  su: Buffer;
}

export function beyondLimits(message: string, path: string): BootmediaError {
  return new BootmediaError("BM4107", `ISO image beyond inspect's limits: ${message}`, { where: path });
}

/** Directory records of a folder's data (§9.1); the rest of a sector after a 0 length byte is padding (§6.8.1.1). */
export function parseRecords(img: ImageFile, data: Buffer, where: string): RawRecord[] {
  const out: RawRecord[] = [];
  for (let at = 0; at < data.length; ) {
    const len = data[at];
    if (len === 0) {
      at = (Math.floor(at / SECTOR) + 1) * SECTOR;
      continue;
    }
    if (len < DIRECTORY_RECORD.size + 1 || at + len > data.length)
      throw img.damaged(`${where}: directory record at byte ${at} has length ${len}`);
    const r = decodeRecord(DIRECTORY_RECORD, data, at);
    const idEnd = at + DIRECTORY_RECORD.size + r.identifierLength;
    if (r.identifierLength === 0 || idEnd > at + len)
      throw img.damaged(
        `${where}: directory record at byte ${at} has an identifier of ${r.identifierLength} bytes in ${len}`,
      );
    const suStart = Math.min(idEnd + (r.identifierLength % 2 === 0 ? 1 : 0), at + len);
    // Copies, so the folder's buffer is freed once parsed.
    out.push({
      id: Buffer.from(data.subarray(at + DIRECTORY_RECORD.size, idEnd)),
      extent: r.extent,
      length: r.dataLength,
      flags: r.flags,
      su: Buffer.from(data.subarray(suStart, at + len)),
    });
    at += len;
  }
  return out;
}

/** Reads a directory's data, bounded by the image and the folder size limit. */
async function readDirectory(img: ImageFile, dir: RawRecord, where: string): Promise<RawRecord[]> {
  if (!img.holds(dir.extent * SECTOR, dir.length))
    throw img.damaged(
      `folder ${where} (${dir.length} bytes at sector ${dir.extent}) lies past the end of the ${img.size}-byte image`,
    );
  if (dir.length > ISO_READ_LIMITS.directoryBytes)
    throw beyondLimits(
      `${where}: folder of ${dir.length} bytes; inspect reads folders up to ${ISO_READ_LIMITS.directoryBytes} bytes`,
      img.path,
    );
  return parseRecords(img, await img.read(dir.extent * SECTOR, dir.length, `folder ${where}`), where);
}

interface RockRidge {
  name?: string;
  mode?: number;
}

/** Parses SUSP entries (NM, PX), following CE continuations (SUSP §5.1, RRIP §4.1). */
async function parseRockRidge(img: ImageFile, su: Buffer, where: string): Promise<RockRidge> {
  const rr: RockRidge = {};
  const names: Buffer[] = [];
  let area: Buffer | null = su;
  for (let hops = 0; area; hops++) {
    if (hops > ISO_READ_LIMITS.continuations)
      throw img.damaged(`${where}: more than ${ISO_READ_LIMITS.continuations} SUSP continuation areas`);
    const cur: Buffer = area;
    area = null;
    for (let at = 0; at + SUSP_HEADER.size <= cur.length; ) {
      const h = decodeRecord(SUSP_HEADER, cur, at);
      if (h.length < SUSP_HEADER.size || at + h.length > cur.length) break; // padding or a torn entry: no more entries
      if (h.signature === "NM" && h.length >= NM.size) names.push(cur.subarray(at + NM.size, at + h.length));
      if (h.signature === "PX" && h.length >= PX.size) rr.mode = decodeRecord(PX, cur, at).mode;
      if (h.signature === "CE" && h.length >= CE.size) {
        const ce = decodeRecord(CE, cur, at);
        if (ce.areaLength > ISO_READ_LIMITS.continuationBytes)
          throw img.damaged(`${where}: SUSP continuation area of ${ce.areaLength} bytes`);
        area = await img.read(ce.block * SECTOR + ce.offset, ce.areaLength, `SUSP continuation area of ${where}`);
      }
      if (h.signature === "ST") break;
      at += h.length;
    }
  }
  if (names.length) rr.name = Buffer.concat(names).toString("utf8");
  return rr;
}

/** Every file and folder under `root`, in the chosen name view. */
export async function listTree(img: ImageFile, root: RawRecord, view: IsoInfo["names"]): Promise<IsoFileInfo[]> {
  const out: IsoFileInfo[] = [];
  const seen = new Map<number, string>([[root.extent, "/"]]);
  const walk = async (dir: RawRecord, prefix: string, depth: number) => {
    if (depth > ISO_READ_LIMITS.depth)
      throw beyondLimits(`${prefix}: folders nested more than ${ISO_READ_LIMITS.depth} deep`, img.path);
    const records = (await readDirectory(img, dir, prefix || "/")).filter((r) => !(r.id.length === 1 && r.id[0] <= 1)); // "." and ".." (§6.8.2.2)
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      const extents: IsoExtent[] = [{ lba: r.extent, length: r.length }];
      // Multi-extent: records flagged 0x80 continue in the next record of the same name (§6.5.1).
      while (records[i].flags & FILE_FLAG.MULTI_EXTENT && i + 1 < records.length) {
        i++;
        extents.push({ lba: records[i].extent, length: records[i].length });
      }
      const rr = view === "rockridge" ? await parseRockRidge(img, r.su, prefix || "/") : {};
      const raw = view === "joliet" ? decodeUcs2(r.id) : r.id.toString("latin1");
      const name = rr.name ?? (view === "joliet" ? raw.replace(/;1$/, "") : raw);
      const path = prefix ? `${prefix}/${name}` : name;
      for (const e of extents) {
        if (!img.holds(e.lba * SECTOR, e.length))
          throw img.damaged(
            `${path}: data of ${e.length} bytes at sector ${e.lba} lies past the end of the ${img.size}-byte image`,
          );
      }
      if (out.length >= ISO_READ_LIMITS.entries)
        throw beyondLimits(`more than ${ISO_READ_LIMITS.entries} entries`, img.path);
      const isDir = (r.flags & FILE_FLAG.DIRECTORY) !== 0;
      out.push({
        path,
        type: isDir ? "dir" : "file",
        size: isDir ? 0 : extents.reduce((n, e) => n + e.length, 0),
        mode: rr.mode,
        extents,
      });
      if (!isDir) continue;
      const before = seen.get(r.extent);
      if (before !== undefined)
        throw img.damaged(
          `folder ${path} points at the data of folder ${before} (sector ${r.extent}): a directory loop`,
        );
      seen.set(r.extent, path);
      await walk(r, path, depth + 1);
    }
  };
  await walk(root, "", 0);
  return out;
}
