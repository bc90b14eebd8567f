/**
 * Every error and diagnostic code bootmedia can emit: a title and a default hint.
 * Each area owns one table in core/codes/; never reuse or renumber a code.
 * docs/errors.md is generated from the merged table.
 */
import { CORE_CODES } from "./codes/core.ts";
import { ISO_CODES } from "./codes/iso.ts";
import { FAT_CODES } from "./codes/fat.ts";
import { BOOT_CODES } from "./codes/boot.ts";
import { TESTBED_CODES } from "./codes/testbed.ts";
import { USB_CODES } from "./codes/usb.ts";
import { DP_CODES } from "./codes/dp.ts";
import { SETTINGS_CODES } from "./codes/settings.ts";
import { LIFETIME_CODES } from "./codes/lifetime.ts";

export const ERROR_CODES = {
  ...CORE_CODES,
  ...ISO_CODES,
  ...FAT_CODES,
  ...BOOT_CODES,
  ...TESTBED_CODES,
  ...USB_CODES,
  ...DP_CODES,
  ...SETTINGS_CODES,
  ...LIFETIME_CODES,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;
