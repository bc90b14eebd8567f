/** USB disk images: MBR, GRUB BIOS embedding, FAT32 partition. */
export { writeUsbImage, planUsbImage, PARTITION_START_LBA } from "./usb.ts";
export { hasBootSignature, readDisk, readFirstSector } from "./read.ts";
