/** `bootmedia inspect <media>`: reads media back through the first plugin's inspector that knows it. */
import type { CAC } from "cac";
import { BootmediaError } from "../../base/errors.ts";
import { builtinInspectors } from "../../plugins/builtin.ts";
import { printJson } from "./render.ts";
import type { CommandRow, Run } from "./types.ts";

export function register(cli: CAC, run: Run, _args: string[], row: CommandRow): void {
  cli.command(row.usage, row.describe).action((media: string, flags: { json?: boolean }) =>
    run(async () => {
      for (const inspector of await builtinInspectors()) {
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
