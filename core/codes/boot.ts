/** Codes of the reference boot images and their build script: BM22xx (content), BM52xx (fixtures). */
export const BOOT_CODES = {
} as const satisfies Record<string, { title: string; hint: string }>;
