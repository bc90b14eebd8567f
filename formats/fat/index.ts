/** FAT12/16/32 writer and reader: the public surface of formats/fat. */
export { planFat, type FatOptions, type FatPlan, type PlanDir, type PlanFile, type PlanNode } from "./plan.ts";
export { writeFat, writeFatVolume, type FatOutput } from "./write.ts";
export { readFat, readFatFile, MAX_READ_FILE_BYTES, type FatInfo, type FatFileInfo } from "./read.ts";
export { FAT_TYPES, type FatType } from "./structures.ts";
