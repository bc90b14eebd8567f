/** `--size` values: bytes, or a number with KiB/MiB/GiB (1024-based); whole MiB, at least 1 GiB. */
import { BootmediaError } from "../../base/errors.ts";
import "./codes.ts";

const UNITS = { "": 1, B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 } as const;
const MIN = 1024 ** 3;
const MAX = 1024 ** 4;

export function parseImageSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB)?$/.exec(text.trim());
  const bytes = m ? Math.round(Number(m[1]) * UNITS[(m[2] ?? "") as keyof typeof UNITS]) : Number.NaN;
  if (!Number.isFinite(bytes) || bytes % (1024 * 1024) !== 0 || bytes < MIN || bytes > MAX)
    throw new BootmediaError(
      "BM5405",
      `--size ${JSON.stringify(text)} is not a whole number of MiB between 1GiB and 1024GiB`,
      { where: "--size" },
    );
  return bytes;
}
