/** `bootmedia image <format> <dir> -o FILE`: one writer on a folder; formats come from the plugins. */
import type { CAC } from "cac";
import { BootmediaError } from "../../base/errors.ts";
import type { ImageFormat } from "../../core/plugin.ts";
import { printJson } from "./render.ts";
import type { CommandRow, Run } from "./types.ts";

/** Every image format of the built-ins, by name, from the plugins' definitions. */
export async function imageFormats(): Promise<Map<string, ImageFormat>> {
  const [{ resolveLazy }, { BUILTIN_PLUGINS }] = await Promise.all([
    import("../../core/plugin.ts"),
    import("../../plugins/builtin.ts"),
  ]);
  const out = new Map<string, ImageFormat>();
  for (const d of BUILTIN_PLUGINS)
    for (const [name, f] of Object.entries(d.imageFormats ?? {})) out.set(name, await resolveLazy(f));
  return out;
}

/**
 * The same formats, loaded one by one without composing the plugins: their definitions carry
 * spec sections (zod), which cost more to load (measured 0.3-0.5 s) than writing a small
 * image. `bootmedia image iso|fat DIR` takes this path; help and unknown names take the
 * plugins' (image.test.ts checks that both give the same formats).
 */
export const FAST_FORMATS: Record<string, () => Promise<ImageFormat>> = {
  iso: async () => (await import("../../plugins/iso/image-command.ts")).ISO_IMAGE_FORMAT,
  fat: async () => (await import("../../plugins/usb/image-command.ts")).FAT_IMAGE_FORMAT,
};

/** The format named on the command line alone when it is a known one and no help is asked for; else all. */
async function formatsFor(args: string[]): Promise<Map<string, ImageFormat>> {
  const name = args.filter((a) => !a.startsWith("-"))[1];
  if (name && Object.hasOwn(FAST_FORMATS, name) && !args.includes("--help") && !args.includes("-h"))
    return new Map([[name, await FAST_FORMATS[name]()]]);
  return imageFormats();
}

export async function register(cli: CAC, run: Run, args: string[], row: CommandRow): Promise<void> {
  const formats = await formatsFor(args);
  const cmd = cli
    .command(
      row.usage,
      `Write an image of a folder with one writer (${[...formats].map(([k, v]) => `${k}: ${v.describe}`).join("; ")})`,
    )
    .option("-o, --output <file>", "Image file to write")
    .option("--force", "Replace an existing image (atomically)");
  const seen = new Set<string>();
  for (const f of formats.values())
    for (const flag of f.flags)
      if (!seen.has(flag.syntax)) {
        seen.add(flag.syntax);
        cmd.option(flag.syntax, flag.description);
      }
  cmd.action(
    (
      format: string,
      dir: string,
      flags: Record<string, unknown> & { output?: string; force?: boolean; json?: boolean },
    ) =>
      run(async () => {
        const writer = formats.get(format);
        if (!writer)
          throw new BootmediaError(
            "BM1009",
            `unknown image format "${format}" (known: ${[...formats.keys()].join(", ")})`,
          );
        if (!flags.output) throw new BootmediaError("BM1009", `image ${format} needs -o FILE`);
        const r = await writer.write(dir, { ...flags, output: String(flags.output) });
        if (flags.json) printJson({ ok: true, ...r });
        else process.stdout.write(`wrote ${r.path} (${r.bytes} bytes)\n`);
        return 0;
      }),
  );
}
