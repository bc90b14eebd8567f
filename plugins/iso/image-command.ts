/** `bootmedia image iso <dir> -o out.iso [--volume-id ID] [--boot-bios FILE] [--boot-efi FILE]`. */
import { basename } from "node:path";
import { sourceDateEpochFromEnv } from "../../core/context.ts";
import { treeFromDir } from "../../base/dir-tree.ts";
import { OutputTransaction } from "../../core/output.ts";
import { writeIso } from "../../formats/iso9660/write.ts";
import type { ImageFlags } from "../images.ts";
import { volumeIdOf } from "./iso-plugin.ts";

export async function imageIso(dir: string, flags: ImageFlags) {
  const out = flags.output!;
  OutputTransaction.assertWritable([out], flags.force === true);
  const entries = await treeFromDir(dir);
  const boot = { ...(flags.bootBios ? { bios: { image: flags.bootBios } } : {}), ...(flags.bootEfi ? { efi: { image: flags.bootEfi } } : {}) };
  const tx = new OutputTransaction(flags.force === true);
  try {
    const tmp = await tx.temp(out);
    const r = await writeIso(entries, {
      volumeId: flags.volumeId ?? volumeIdOf(basename(out).replace(/\.iso$/i, ""), 1, 1),
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
