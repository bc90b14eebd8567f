/** Codes of the ISO 9660 writer and the iso plugin: BM31xx (validation), BM41xx (write). */
export const ISO_CODES = {
} as const satisfies Record<string, { title: string; hint: string }>;
