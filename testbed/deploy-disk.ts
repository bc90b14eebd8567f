/**
 * A deploy case's disk: a sparse raw file of the case's size (nothing allocated until the guest
 * writes), on the controller the case names. Sizes as people write them: `4GiB`, `512MiB`, bytes.
 */
import { open } from "node:fs/promises";
import { BootmediaError } from "../base/errors.ts";
import { DISK_BUSES, type DiskBus } from "./profiles.ts";
import "./codes.ts";

export interface CaseDisk {
  sizeBytes: number;
  bus: DiskBus;
}

const UNITS = { B: 1, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40 } as const;
const MIN_DISK = 64 * UNITS.MiB;
const MAX_DISK = 2 * UNITS.TiB;

/** `4GiB`, `1536MiB`, `1073741824` → bytes; BM5401 for anything else or out of bounds. */
export function parseDiskSize(text: string | number, where: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|TiB)?$/.exec(String(text).trim());
  const bytes = m ? Math.round(Number(m[1]) * UNITS[(m[2] ?? "B") as keyof typeof UNITS]) : Number.NaN;
  if (!Number.isSafeInteger(bytes) || bytes < MIN_DISK || bytes > MAX_DISK || bytes % 512 !== 0)
    throw new BootmediaError(
      "BM5401",
      `${where}: disk size ${JSON.stringify(text)} is not a size from 64MiB to 2TiB in whole 512-byte sectors`,
      { where },
    );
  return bytes;
}

export function checkDiskBus(bus: string, where: string): DiskBus {
  if (!(DISK_BUSES as readonly string[]).includes(bus))
    throw new BootmediaError(
      "BM5401",
      `${where}: disk bus ${JSON.stringify(bus)} is not one of ${DISK_BUSES.join(", ")}`,
      {
        where,
      },
    );
  return bus as DiskBus;
}

/** A new sparse file of `sizeBytes` (an existing one is replaced: each case starts blank). */
export async function createBlankDisk(path: string, sizeBytes: number): Promise<void> {
  const fh = await open(path, "w");
  try {
    await fh.truncate(sizeBytes);
  } finally {
    await fh.close();
  }
}
