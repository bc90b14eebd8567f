/** `bootmedia image iso <dir> -o out.iso [--volume-id ID] [--boot-bios FILE] [--boot-efi FILE]`. */
import { basename } from "node:path";
import { sourceDateEpochFromEnv } from "../../core/context.ts";
import { treeFromDir } from "../../base/dir-tree.ts";
import { timed } from "../../base/timings.ts";
import { OutputTransaction } from "../../core/output.ts";
import { writeIso } from "../../formats/iso9660/write.ts";
import type { ImageFormat } from "../../core/plugin.ts";

interface IsoImageFlags {
  output: string;
  force?: boolean;
  /** A number when given as digits only (cac). */
  volumeId?: string | number;
  bootBios?: string;
  bootEfi?: string;
}
import { volumeIdOf } from "./volume-id.ts";

export async function imageIso(dir: string, flags: IsoImageFlags) {
  const out = flags.output;
  OutputTransaction.assertWritable([out], flags.force === true);
  const entries = await timed("listing", () => treeFromDir(dir));
  const boot = { ...(flags.bootBios ? { bios: { image: flags.bootBios } } : {}), ...(flags.bootEfi ? { efi: { image: flags.bootEfi } } : {}) };
  const tx = new OutputTransaction(flags.force === true);
  try {
    const tmp = await tx.temp(out);
    const r = await writeIso(entries, {
      volumeId: flags.volumeId !== undefined ? String(flags.volumeId) : volumeIdOf(basename(out).replace(/\.iso$/i, ""), 1, 1),
      sourceDateEpoch: sourceDateEpochFromEnv(),
      application: "BOOTMEDIA",
      ...(flags.bootBios || flags.bootEfi ? { boot } : {}),
    }, tmp);
    tx.commit();
    return { path: out, bytes: r.bytes };
  } catch (e) {
    tx.abort();
    throw e;
  }
}

export const ISO_IMAGE_FORMAT: ImageFormat = {
  describe: "an ISO 9660 + Joliet + Rock Ridge image (--volume-id, --boot-bios, --boot-efi)",
  flags: [
    { syntax: "--volume-id <id>", description: "iso: volume id (A-Z 0-9 _, 32 max)" },
    { syntax: "--boot-bios <path>", description: "iso: El Torito BIOS image, a path inside <dir>" },
    { syntax: "--boot-efi <path>", description: "iso: El Torito UEFI ESP image, a path inside <dir>" },
  ],
  write: (dir, flags) => imageIso(dir, flags as IsoImageFlags),
};
