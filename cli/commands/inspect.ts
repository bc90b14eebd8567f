/** `bootmedia inspect <media>`: reads media back through the first inspector that knows it. */
import type { CAC } from "cac";
import { BootmediaError } from "../../base/errors.ts";
import { printJson } from "../render.ts";
import { INSPECTORS } from "../../plugins/inspectors.ts";

export function registerInspectCommand(cli: CAC, run: (fn: () => Promise<number>) => void): void {
  cli.command("inspect <media>", "Read media back: volumes, boot records, files, media configuration (secrets only as present/absent)").action((media: string, flags: { json?: boolean }) =>
    run(async () => {
      for (const inspector of INSPECTORS) {
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
