/** `bootmedia inspect <media>`: reads media back through the first plugin's inspector that knows it. */
import type { CAC } from "cac";
import { BootmediaError } from "../../base/errors.ts";
import { resolveLazy, type Inspector } from "../../core/plugin.ts";
import { loadPlugins } from "../../core/load-plugins.ts";
import { builtinInspectors } from "../../plugins/builtin.ts";
import { printJson } from "./render.ts";
import type { CommandRow, Run } from "./types.ts";

export function register(cli: CAC, run: Run, _args: string[], row: CommandRow): void {
  cli
    .command(row.usage, row.describe)
    .option("--plugin <module>", "Also try this plugin's reader (path or package name; repeatable)")
    .action((media: string, flags: { json?: boolean; plugin?: string | string[] }) =>
    run(async () => {
      const extra: Inspector[] = [];
      const refs = (flags.plugin === undefined ? [] : ([] as string[]).concat(flags.plugin)).map((ref) => ({ ref, baseDir: process.cwd() }));
      for (const p of await loadPlugins(refs)) if (p.definition.inspector) extra.push(await resolveLazy(p.definition.inspector));
      for (const inspector of [...extra, ...(await builtinInspectors())]) {
        if (!(await inspector.detect(media))) continue;
        const report = await inspector.inspect(media);
        if (flags.json) printJson({ ok: true, ...report });
        else process.stdout.write(inspector.format(report));
        return 0;
      }
      throw new BootmediaError("BM1001", `${media}: not media bootmedia can read (a media folder, .iso or USB image)`, { where: media });
    }),
  );
}
