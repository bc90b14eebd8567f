/** `bootmedia image fat <dir> -o fs.img [--size SIZE] [--label LABEL]`: a bare FAT file system from a folder. */
import { sourceDateEpochFromEnv } from "../../core/context.ts";
import { treeFromDir } from "../../base/dir-tree.ts";
import { timed } from "../../base/timings.ts";
import { BootmediaError } from "../../base/errors.ts";
import { OutputTransaction } from "../../core/output.ts";
import { writeFat } from "../../formats/fat/index.ts";
import { parseSize } from "./size.ts";
import type { ImageFormat } from "../../core/plugin.ts";

interface FatImageFlags {
  output: string;
  force?: boolean;
  /** size and label are numbers when given as digits only (cac). */
  size?: string | number;
  label?: string | number;
  fatType?: string;
}
import "../../core/codes.ts";

async function imageFat(dir: string, flags: FatImageFlags) {
  const out = flags.output;
  if (!out) throw new BootmediaError("BM1009", "image fat needs -o FILE");
  OutputTransaction.assertWritable([out], flags.force === true);
  const entries = await timed("listing", () => treeFromDir(dir));
  const tx = new OutputTransaction(flags.force === true);
  try {
    const tmp = await tx.temp(out);
    const plan = await writeFat(
      entries,
      {
        sourceDateEpoch: sourceDateEpochFromEnv(),
        // cac gives digits-only values as numbers (--size 1048576, --label 2024): hence String().
        ...(flags.label ? { label: String(flags.label) } : {}),
        ...(flags.size ? { sizeBytes: parseSize(String(flags.size)) } : {}),
        ...(flags.fatType ? { fatType: Number(flags.fatType) as 12 | 16 | 32 } : {}),
      },
      tmp,
    );
    tx.commit();
    return { path: out, bytes: plan.totalBytes, fatType: plan.fatType, files: plan.files.length };
  } catch (e) {
    tx.abort();
    throw e;
  }
}

export const FAT_IMAGE_FORMAT: ImageFormat = {
  describe: "a bare FAT12/16/32 file system (--size, --label, --fat-type)",
  flags: [
    { syntax: "--size <size>", description: "fat: image size (e.g. 64MiB)" },
    { syntax: "--label <label>", description: "fat: volume label" },
    { syntax: "--fat-type <n>", description: "fat: force 12, 16 or 32" },
  ],
  write: (dir, flags) => imageFat(dir, flags as FatImageFlags),
};
