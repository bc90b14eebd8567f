/** USB disk images: MBR, GRUB BIOS embedding, FAT32 partition. */
export { writeUsbImage, planUsbImage, PARTITION_START_LBA, type UsbImageOptions, type UsbImagePlan } from "./usb.ts";
export { hasBootSignature, readDisk, readFirstSector, type DiskInfo } from "./read.ts";
export { encodeMbr, decodeMbr, PARTITION_TYPES, type MbrPartition } from "./mbr.ts";
export { embedGrubBios, isGrubBootCode, maxCoreImgBytes } from "./grub.ts";
