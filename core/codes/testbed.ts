/** Codes of the QEMU testbed: BM50xx, BM51xx. */
export const TESTBED_CODES = {
  BM5001: { title: "testbed tool missing", hint: "Run `bootmedia doctor` to see which package provides it." },
} as const satisfies Record<string, { title: string; hint: string }>;
