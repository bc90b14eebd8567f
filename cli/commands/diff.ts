/** `bootmedia diff <a> <b>`: a semantic diff of two media (any mix of folder, ISO, USB image). Exit 0 equal, 1 different. */
import type { CAC } from "cac";
import { printJson } from "./render.ts";
import { builtinInspectors } from "../../plugins/builtin.ts";
import { openMedia } from "../../plugins/media-manifest/open-media.ts";
import { diffMedia, formatDiff } from "../../backends/media-diff/diff.ts";
import type { CommandRow, Run } from "./types.ts";

export function register(cli: CAC, run: Run, _args: string[], row: CommandRow): void {
  cli.command(row.usage, row.describe).action((a: string, b: string, flags: { json?: boolean }) =>
    run(async () => {
      const inspectors = await builtinInspectors();
      const diff = await diffMedia(await openMedia(a, inspectors), await openMedia(b, inspectors));
      if (flags.json) printJson({ ok: true, ...diff });
      else process.stdout.write(formatDiff(diff));
      return diff.equal ? 0 : 1;
    }),
  );
}
