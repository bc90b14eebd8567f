/** `bootmedia diff <a> <b>`: a semantic diff of two media (any mix of folder, ISO, USB image). Exit 0 equal, 1 different. */
import type { CAC } from "cac";
import { printJson } from "../render.ts";
import { openMedia } from "../../plugins/media-manifest/open-media.ts";
import { diffMedia, formatDiff } from "../../plugins/media-diff/diff.ts";

export function registerDiffCommand(cli: CAC, run: (fn: () => Promise<number>) => void): void {
  cli.command("diff <a> <b>", "Compare two media: settings, certificate, password (present/changed), variables, prestart, boot images, files; exit 0 equal, 1 different").action((a: string, b: string, flags: { json?: boolean }) =>
    run(async () => {
      const diff = await diffMedia(await openMedia(a), await openMedia(b));
      if (flags.json) printJson({ ok: true, ...diff });
      else process.stdout.write(formatDiff(diff));
      return diff.equal ? 0 : 1;
    }),
  );
}
