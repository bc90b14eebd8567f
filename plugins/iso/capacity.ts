/**
 * Media capacities in bytes (2048-byte sectors as burners count them): CD 650 MB = 333,000
 * sectors, CD 700 MB = 360,000, DVD±R = 2,295,104, DVD+R DL = 4,173,824, BD-R 25 GB =
 * 12,219,392.
 */
import type { CAPACITIES } from "./spec.ts";

const SECTOR = 2048;

const CAPACITY_BYTES = {
  cd650: 333_000 * SECTOR,
  cd700: 360_000 * SECTOR,
  dvd: 2_295_104 * SECTOR,
  "dvd-dl": 4_173_824 * SECTOR,
  bd25: 12_219_392 * SECTOR,
  unlimited: Number.POSITIVE_INFINITY,
} as const satisfies Record<(typeof CAPACITIES)[number], number>;

export function capacityBytes(capacity: (typeof CAPACITIES)[number] | number | undefined): number {
  if (capacity === undefined) return CAPACITY_BYTES.unlimited;
  return typeof capacity === "number" ? capacity : CAPACITY_BYTES[capacity];
}
