/**
 * Directory extents (ECMA-119 §6.8, §9.1) and path tables (§9.4) for the primary (with Rock
 * Ridge system use) and Joliet trees. Sizing and encoding walk the same record list, so the
 * size the planner reserves is exactly what the writer emits.
 */
import {
  DIRECTORY_RECORD,
  FILE_FLAG,
  MAX_EXTENT,
  PATH_TABLE_RECORD_L,
  PATH_TABLE_RECORD_M,
  SECTOR,
} from "./records.ts";
import { encodeRecord } from "../record.ts";
import { writeInline, type SystemUse } from "./susp.ts";
import type { DirNode } from "./tree.ts";

type TreeView = "iso" | "joliet";

interface RecordSpec {
  id: Buffer;
  extent: number;
  length: number;
  flags: number;
  su: SystemUse | null;
}

const padOf = (idLen: number) => (idLen % 2 === 0 ? 1 : 0);

/** Room left for system use in a record with this identifier length (records are at most 255 bytes, even). */
export function systemUseRoom(idLen: number): number {
  return 254 - (DIRECTORY_RECORD.size + idLen + padOf(idLen));
}

function recordLength(r: RecordSpec): number {
  return DIRECTORY_RECORD.size + r.id.length + padOf(r.id.length) + (r.su ? r.su.inlineLength : 0);
}

/** Number of directory records a file of this size needs (ECMA-119 §6.5.1 multi-extent). */
export function extentCount(size: number): number {
  return Math.max(1, Math.ceil(size / MAX_EXTENT));
}

/** The records of one directory in on-disk order: ".", "..", then children. */
function directoryRecords(dir: DirNode, view: TreeView): RecordSpec[] {
  const iso = view === "iso";
  const self = (d: DirNode) => ({ extent: iso ? d.lba : d.jLba, length: iso ? d.size : d.jSize });
  const parent = dir.parent ?? dir;
  const out: RecordSpec[] = [
    { id: Buffer.from([0]), ...self(dir), flags: FILE_FLAG.DIRECTORY, su: iso ? dir.selfSu : null },
    { id: Buffer.from([1]), ...self(parent), flags: FILE_FLAG.DIRECTORY, su: iso ? dir.parentSu : null },
  ];
  for (const kid of iso ? dir.isoOrder : dir.jolietOrder) {
    const id = iso ? kid.isoIdBytes : kid.jolietId;
    if (kid.kind === "dir") {
      out.push({ id, ...self(kid), flags: FILE_FLAG.DIRECTORY, su: iso ? kid.su[0] : null });
      continue;
    }
    const n = extentCount(kid.entry.size);
    for (let i = 0; i < n; i++) {
      const ext = kid.extents[i] ?? { lba: 0, length: 0 };
      out.push({
        id,
        extent: ext.lba,
        length: ext.length,
        flags: i < n - 1 ? FILE_FLAG.MULTI_EXTENT : 0,
        su: iso ? kid.su[i] : null,
      });
    }
  }
  return out;
}

/** Walks records, skipping to the next sector when one would cross a boundary (§6.8.1.1). */
function placeRecords(records: RecordSpec[], visit?: (r: RecordSpec, offset: number) => void): number {
  let at = 0;
  for (const r of records) {
    const len = recordLength(r);
    if ((at % SECTOR) + len > SECTOR) at = Math.ceil(at / SECTOR) * SECTOR;
    visit?.(r, at);
    at += len;
  }
  return Math.ceil(at / SECTOR) * SECTOR;
}

/** Directory sizes do not depend on addresses: sizing needs only names and system use. */
export function sizeDirectory(dir: DirNode, view: TreeView): number {
  return placeRecords(directoryRecords(dir, view));
}

/** One reused values object: a directory record is encoded per file and folder, twice. */
const recordValues: {
  length: number;
  extent: number;
  dataLength: number;
  recordingDate: Uint8Array;
  flags: number;
  volumeSequenceNumber: number;
  identifierLength: number;
} = {
  length: 0,
  extent: 0,
  dataLength: 0,
  recordingDate: new Uint8Array(7),
  flags: 0,
  volumeSequenceNumber: 1,
  identifierLength: 0,
};

function encodeDirectoryRecord(r: RecordSpec, date: Buffer, buf?: Buffer, at = 0): Buffer {
  const length = recordLength(r);
  const out = buf ?? Buffer.alloc(length);
  const v = recordValues;
  v.length = length;
  v.extent = r.extent;
  v.dataLength = r.length;
  v.recordingDate = date;
  v.flags = r.flags;
  v.identifierLength = r.id.length;
  encodeRecord(DIRECTORY_RECORD, v, out, at);
  r.id.copy(out, at + DIRECTORY_RECORD.size);
  if (r.su) writeInline(r.su, out, at + DIRECTORY_RECORD.size + r.id.length + padOf(r.id.length));
  return out;
}

/** The root record embedded in a volume descriptor (§8.4.18): 34 bytes, no system use. */
export function encodeRootRecord(root: DirNode, view: TreeView, date: Buffer): Buffer {
  const iso = view === "iso";
  return encodeDirectoryRecord(
    {
      id: Buffer.from([0]),
      extent: iso ? root.lba : root.jLba,
      length: iso ? root.size : root.jSize,
      flags: FILE_FLAG.DIRECTORY,
      su: null,
    },
    date,
  );
}

export function encodeDirectory(dir: DirNode, view: TreeView, date: Buffer): Buffer {
  const records = directoryRecords(dir, view);
  const out = Buffer.alloc(placeRecords(records));
  placeRecords(records, (r, at) => encodeDirectoryRecord(r, date, out, at));
  return out;
}

function pathId(dir: DirNode, view: TreeView): Buffer {
  if (!dir.parent) return Buffer.from([0]);
  return view === "iso" ? dir.isoIdBytes : dir.jolietId;
}

const pathRecordLength = (id: Buffer) => PATH_TABLE_RECORD_L.size + id.length + (id.length & 1);

export function sizePathTable(dirs: DirNode[], view: TreeView): number {
  return dirs.reduce((n, d) => n + pathRecordLength(pathId(d, view)), 0);
}

/** Path table of type L (little-endian) or M (big-endian); `dirs` in path-table order. */
export function encodePathTable(dirs: DirNode[], view: TreeView, byteOrder: "L" | "M"): Buffer {
  const layout = byteOrder === "L" ? PATH_TABLE_RECORD_L : PATH_TABLE_RECORD_M;
  const out = Buffer.alloc(sizePathTable(dirs, view));
  let at = 0;
  for (const d of dirs) {
    const id = pathId(d, view);
    const iso = view === "iso";
    const parent = d.parent ?? d;
    encodeRecord(
      layout,
      { identifierLength: id.length, extent: iso ? d.lba : d.jLba, parent: iso ? parent.number : parent.jNumber },
      out,
      at,
    );
    id.copy(out, at + layout.size);
    at += pathRecordLength(id);
  }
  return out;
}
