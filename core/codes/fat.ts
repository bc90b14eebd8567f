/** Codes of the FAT writer, disk images and the usb plugin: BM32xx (validation), BM42xx (write). */
export const FAT_CODES = {
} as const satisfies Record<string, { title: string; hint: string }>;
