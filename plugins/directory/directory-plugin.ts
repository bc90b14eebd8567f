/**
 * The `directory` target: the media layout as a folder tree. The whole tree is built in a
 * temporary folder beside the output and swapped in by core when complete.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { copyFile, mkdir, writeFile, stat } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { dirname, join } from "node:path";
import { BootmediaError } from "../../base/errors.ts";
import { splitTreePath } from "../../base/tree.ts";
import type { Plugin, PluginBuild } from "../../core/plugin.ts";
import type { MediaWriter, WriteContext } from "../../core/write.ts";
import "../../core/codes.ts";

const PLUGIN_NAME = "DirectoryWriterPlugin";

export class DirectoryWriterPlugin implements Plugin {
  readonly name = PLUGIN_NAME;
  apply(build: PluginBuild): void {
    build.hooks.writer.tap(PLUGIN_NAME, (target) => (target.type === "directory" ? directoryWriter : undefined));
  }
}

const directoryWriter: MediaWriter = {
  outputs: (layout, target) =>
    layout.volumes.length === 1 ? [target.output] : layout.volumes.map((v) => `${target.output}-${v.index}`),
  async write(ctx: WriteContext) {
    const outputs = directoryWriter.outputs(ctx.layout, ctx.target);
    const results = [];
    for (const [i, volume] of ctx.layout.volumes.entries()) {
      const root = await ctx.tx.temp(outputs[i]!);
      const tree = ctx.treeOf(volume);
      const total = tree.reduce((n, e) => n + (e.type === "file" ? e.size : 0), 0);
      const s = ctx.progress.stage(`write ${outputs[i]}`, "bytes");
      let done = 0;
      await mkdir(root, { recursive: true });
      for (const e of tree) {
        if (ctx.tx.aborted) throw new BootmediaError("BM4003", "build interrupted");
        const dest = join(root, ...splitTreePath(e.path));
        if (e.type === "dir") {
          await mkdir(dest, { recursive: true });
          continue;
        }
        await mkdir(dirname(dest), { recursive: true });
        if (e.source.kind === "bytes") await writeFile(dest, e.source.data, { mode: e.mode ?? 0o644 });
        else if (e.source.offset !== undefined) {
          // A piece of a larger file: its `size` bytes from `offset`.
          const end = e.source.offset + e.size - 1;
          await pipeline(createReadStream(e.source.path, { start: e.source.offset, end }), createWriteStream(dest));
          const size = (await stat(dest)).size;
          if (size !== e.size)
            throw new BootmediaError("BM4002", `${e.path}: expected ${e.size} bytes, source has ${size}`);
        } else {
          await copyFile(e.source.path, dest);
          const size = (await stat(dest)).size;
          if (size !== e.size)
            throw new BootmediaError("BM4002", `${e.path}: expected ${e.size} bytes, source has ${size}`);
        }
        done += e.size;
        s.update(done, total);
      }
      s.end();
      results.push({ path: outputs[i]!, bytes: total });
    }
    return results;
  },
};
