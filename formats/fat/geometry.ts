/**
 * Volume geometry: cluster size, FAT size and region offsets for a given volume size and
 * FAT type. The type of a volume is decided by its cluster count alone (Microsoft FAT spec
 * §3.5), so geometry picks a cluster size whose count lands inside the wanted type's range.
 */
import {
  DIR_ENTRY_BYTES,
  FAT_BOUNDARY_MARGIN,
  MAX_FAT12_CLUSTERS,
  MAX_FAT16_CLUSTERS,
  MAX_FAT32_CLUSTERS,
  SECTOR_BYTES,
  determineFatType,
  type FatType,
} from "./structures.ts";

export interface FatGeometry {
  fatType: FatType;
  totalSectors: number;
  sectorsPerCluster: number;
  clusterBytes: number;
  reservedSectors: number;
  numFats: 2;
  fatSectors: number;
  /** Root directory entries (FAT12/16 fixed root region; 0 on FAT32). */
  rootEntries: number;
  rootDirSectors: number;
  firstDataSector: number;
  clusterCount: number;
}

const MAX_SECTORS_PER_CLUSTER = 64; // 32 KiB clusters: the largest every driver accepts
const FAT32_RESERVED_SECTORS = 32; // spec §3.1 BPB_RsvdSecCnt: "typically 32" on FAT32
const MIN_ROOT_ENTRIES = 512; // spec §3.1 BPB_RootEntCnt: 512 for compatibility

/** Preferred sectors per cluster by volume size: the tables of Microsoft FAT spec §3.5. */
function preferredSectorsPerCluster(fatType: FatType, totalSectors: number): number {
  const mib = (totalSectors * SECTOR_BYTES) / 2 ** 20;
  if (fatType === 32) return mib <= 260 ? 1 : mib <= 8192 ? 8 : mib <= 16384 ? 16 : mib <= 32768 ? 32 : 64;
  if (fatType === 16) return mib <= 16 ? 2 : mib <= 128 ? 4 : mib <= 256 ? 8 : mib <= 512 ? 16 : mib <= 1024 ? 32 : 64;
  return 1;
}

function inRange(fatType: FatType, clusters: number): boolean {
  const m = FAT_BOUNDARY_MARGIN;
  if (fatType === 12) return clusters >= 1 && clusters <= MAX_FAT12_CLUSTERS - m;
  if (fatType === 16) return clusters >= MAX_FAT12_CLUSTERS + 1 + m && clusters <= MAX_FAT16_CLUSTERS - m;
  return clusters >= MAX_FAT16_CLUSTERS + 1 + m && clusters <= MAX_FAT32_CLUSTERS;
}

/** Geometry for one cluster size, or undefined when the count misses the type's range. */
function layoutWith(
  fatType: FatType,
  totalSectors: number,
  spc: number,
  rootEntriesNeeded: number,
): FatGeometry | undefined {
  const rootEntries = fatType === 32 ? 0 : Math.max(MIN_ROOT_ENTRIES, Math.ceil(rootEntriesNeeded / 16) * 16);
  const rootDirSectors = Math.ceil((rootEntries * DIR_ENTRY_BYTES) / SECTOR_BYTES);
  let reservedSectors = fatType === 32 ? FAT32_RESERVED_SECTORS : 1;
  const entryBytes = fatType === 12 ? 1.5 : fatType / 8;
  // An over-estimate (it counts FAT sectors as clusters), so the FAT always covers every cluster.
  const approxClusters = Math.floor((totalSectors - reservedSectors - rootDirSectors) / spc);
  const fatSectors = Math.ceil(((approxClusters + 2) * entryBytes) / SECTOR_BYTES);
  if (fatType === 32) {
    // Start the data region on a cluster boundary, like mkfs.fat, so clusters align with flash pages.
    const misalign = (reservedSectors + 2 * fatSectors) % spc;
    if (misalign) reservedSectors += spc - misalign;
  }
  const firstDataSector = reservedSectors + 2 * fatSectors + rootDirSectors;
  if (firstDataSector >= totalSectors) return undefined;
  const clusterCount = Math.floor((totalSectors - firstDataSector) / spc);
  if (!inRange(fatType, clusterCount) || determineFatType(clusterCount) !== fatType) return undefined;
  return {
    fatType,
    totalSectors,
    sectorsPerCluster: spc,
    clusterBytes: spc * SECTOR_BYTES,
    reservedSectors,
    numFats: 2,
    fatSectors,
    rootEntries,
    rootDirSectors,
    firstDataSector,
    clusterCount,
  };
}

/** Geometry of the given type for a volume, preferring the spec's cluster size, or undefined. */
export function layoutGeometry(
  fatType: FatType,
  totalSectors: number,
  rootEntriesNeeded: number,
): FatGeometry | undefined {
  const preferred = preferredSectorsPerCluster(fatType, totalSectors);
  const sizes: number[] = [];
  for (let spc = 1; spc <= MAX_SECTORS_PER_CLUSTER; spc *= 2) sizes.push(spc);
  // Nearest to the preferred size first; on a tie the larger cluster (smaller FAT) wins.
  sizes.sort((a, b) => Math.abs(Math.log2(a / preferred)) - Math.abs(Math.log2(b / preferred)) || b - a);
  for (const spc of sizes) {
    const g = layoutWith(fatType, totalSectors, spc, rootEntriesNeeded);
    if (g) return g;
  }
  return undefined;
}

/** FAT types to try, in order, when the caller does not force one. */
export function defaultFatTypes(totalBytes: number): FatType[] {
  if (totalBytes <= 16 * 2 ** 20) return [12, 16, 32];
  if (totalBytes <= 512 * 2 ** 20) return [16, 32];
  return [32];
}
