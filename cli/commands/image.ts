/** `bootmedia image <format> <dir> -o FILE`: runs one writer on a folder. */
import type { CAC } from "cac";
import { BootmediaError } from "../../base/errors.ts";
import { printJson } from "../render.ts";
import { IMAGE_FORMATS, type ImageFlags } from "../../plugins/images.ts";

export function registerImageCommand(cli: CAC, run: (fn: () => Promise<number>) => void): void {
  const formats = Object.entries(IMAGE_FORMATS).map(([k, v]) => `${k}: ${v.describe}`).join("; ");
  cli
    .command("image <format> <dir>", `Write an image of a folder with one writer (${formats})`)
    .option("-o, --output <file>", "Image file to write")
    .option("--force", "Replace an existing image (atomically)")
    .option("--size <size>", "fat: image size (e.g. 64MiB)")
    .option("--label <label>", "fat: volume label")
    .option("--fat-type <n>", "fat: force 12, 16 or 32")
    .option("--volume-id <id>", "iso: volume id (A-Z 0-9 _, 32 max)")
    .option("--boot-bios <path>", "iso: El Torito BIOS image, a path inside <dir>")
    .option("--boot-efi <path>", "iso: El Torito UEFI ESP image, a path inside <dir>")
    .action((format: string, dir: string, flags: ImageFlags & { json?: boolean }) =>
      run(async () => {
        const row = IMAGE_FORMATS[format];
        if (!row) throw new BootmediaError("BM1009", `unknown image format "${format}" (known: ${Object.keys(IMAGE_FORMATS).join(", ")})`);
        if (!flags.output) throw new BootmediaError("BM1009", `image ${format} needs -o FILE`);
        const r = await row.write(dir, flags);
        if (flags.json) printJson({ ok: true, ...r });
        else process.stdout.write(`wrote ${r.path} (${r.bytes} bytes)\n`);
        return 0;
      }),
    );
}
