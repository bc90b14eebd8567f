/** `bootmedia image <format> <dir> -o FILE`: one writer on a folder; formats come from the plugins. */
import type { CAC } from "cac";
import { BootmediaError } from "../../base/errors.ts";
import { resolveLazy, type ImageFormat } from "../../core/plugin.ts";
import { BUILTIN_PLUGINS } from "../../plugins/builtin.ts";
import { printJson } from "./render.ts";
import type { CommandRow, Run } from "./types.ts";

/** Every image format of the built-ins, by name. */
async function imageFormats(): Promise<Map<string, ImageFormat>> {
  const out = new Map<string, ImageFormat>();
  for (const d of BUILTIN_PLUGINS) for (const [name, f] of Object.entries(d.imageFormats ?? {})) out.set(name, await resolveLazy(f));
  return out;
}

export async function register(cli: CAC, run: Run, _args: string[], row: CommandRow): Promise<void> {
  const formats = await imageFormats();
  const cmd = cli
    .command(row.usage, `Write an image of a folder with one writer (${[...formats].map(([k, v]) => `${k}: ${v.describe}`).join("; ")})`)
    .option("-o, --output <file>", "Image file to write")
    .option("--force", "Replace an existing image (atomically)");
  const seen = new Set<string>();
  for (const f of formats.values()) for (const flag of f.flags) if (!seen.has(flag.syntax)) {
    seen.add(flag.syntax);
    cmd.option(flag.syntax, flag.description);
  }
  cmd.action((format: string, dir: string, flags: Record<string, unknown> & { output?: string; force?: boolean; json?: boolean }) =>
    run(async () => {
      const writer = formats.get(format);
      if (!writer) throw new BootmediaError("BM1009", `unknown image format "${format}" (known: ${[...formats.keys()].join(", ")})`);
      if (!flags.output) throw new BootmediaError("BM1009", `image ${format} needs -o FILE`);
      const r = await writer.write(dir, { ...flags, output: String(flags.output) });
      if (flags.json) printJson({ ok: true, ...r });
      else process.stdout.write(`wrote ${r.path} (${r.bytes} bytes)\n`);
      return 0;
    }),
  );
}
