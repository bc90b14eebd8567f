/** FAT12/16/32 writer and reader: the public surface of formats/fat. */
export { planFat } from "./plan.ts";
export { writeFat } from "./write.ts";
export { readFat, readFatFile, streamFatFile } from "./read.ts";
export { FAT_TYPES } from "./structures.ts";
