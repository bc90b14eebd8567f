/**
 * Prestart command and its files: the folder's files become content items (hashed at
 * resolve, verified into the cache at fetch) and land under bootmedia/prestart/.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { treeFromDir, unreadableInput } from "../../base/dir-tree.ts";
import { BootmediaError } from "../../base/errors.ts";
import { sha256File } from "../../core/content/manifest.ts";
import { LAYOUT_STAGE } from "../../core/hooks.ts";
import type { Plugin, PluginBuild } from "../../core/plugin.ts";
import "../../core/codes.ts";
import { PRESTART } from "./spec.ts";

const PLUGIN_NAME = "PrestartPlugin";
export const PRESTART_DIR = "bootmedia/prestart";
const PACKAGE_ID = "prestart-files";
const ORIGIN_KIND = "local-file";

export class PrestartPlugin implements Plugin {
  readonly name = PLUGIN_NAME;

  apply(build: PluginBuild): void {
    build.hooks.resolve.tapPromise(PLUGIN_NAME, async (media) => {
      const prestart = PRESTART.of(media.spec);
      if (!prestart?.files) return media;
      const dir = resolve(media.specDir, prestart.files);
      const isDir = await stat(dir).then(
        (s) => s.isDirectory(),
        () => false,
      );
      if (!isDir)
        throw new BootmediaError("BM1003", `customization.prestart.files: ${prestart.files} is not a folder`, {
          where: dir,
        });
      // The folder's own regular files only: links out of it, loops and FIFOs are BM2009.
      for (const e of await treeFromDir(dir)) {
        if (e.type !== "file" || e.source.kind !== "file") continue;
        const abs = e.source.path;
        const sha256 = await sha256File(abs).catch((err: unknown) => {
          throw unreadableInput(abs, err); // the user's file: an input error, not the plugin's failure
        });
        media.items.push({
          path: `${PRESTART_DIR}/${e.path}`,
          size: e.size,
          sha256,
          packageId: PACKAGE_ID,
          origin: { kind: ORIGIN_KIND, location: abs },
        });
      }
      return media;
    });
    build.hooks.fetcher.tap(PLUGIN_NAME, (item) =>
      item.origin.kind === ORIGIN_KIND ? { open: async () => createReadStream(item.origin.location) } : undefined,
    );
    build.hooks.layout.tapPromise({ name: PLUGIN_NAME, stage: LAYOUT_STAGE.CONTENT }, async (layout, media) => {
      const prestart = PRESTART.of(media.spec);
      if (!prestart) return layout;
      const volume = layout.volumes[0]!;
      for (const item of media.items.filter((i) => i.packageId === PACKAGE_ID)) {
        volume.entries.push({
          type: "file",
          path: item.path,
          size: item.size,
          source: { kind: "content", sha256: item.sha256 },
          mode: 0o755,
        });
      }
      layout.config.prestart = { command: prestart.command, dir: PRESTART_DIR };
      build.context.log.write("prestart", `command line: ${prestart.command}`);
      return layout;
    });
  }
}
