/**
 * What stand-alone USB media kept of a deploy (docs/standalone-media.md, "Logs"): after the boot,
 * the files of the media's logs/ folder are copied from the case's writable copy of the media
 * into the case folder (media-logs/), read with bootmedia's own FAT reader (media read back are
 * parsed defensively: sizes and paths as the reader checks them).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { builtinInspectors } from "../plugins/builtin.ts";
import { openMedia } from "../plugins/media-manifest/open-media.ts";

/** The media's log folder (lib/standalone.sh's SA_LOG_DIR). */
const LOG_DIR = "logs/";
/** More than a deploy's log and events ever hold: a bigger file is not copied. */
const MAX_LOG_BYTES = 8 * 2 ** 20;

/** Copies logs/ of the USB image into `caseDir`/media-logs; the copied paths, relative to `caseDir`. */
export async function keepMediaLogs(image: string, caseDir: string): Promise<string[]> {
  const media = await openMedia(image, await builtinInspectors()).catch(() => undefined);
  if (!media) return [];
  const kept: string[] = [];
  for (const f of media.files) {
    if (!f.path.startsWith(LOG_DIR) || f.size > MAX_LOG_BYTES || f.path.split("/").includes("..")) continue;
    const bytes = await media.read(f.path);
    if (!bytes) continue;
    const rel = join("media-logs", f.path.slice(LOG_DIR.length));
    await mkdir(dirname(join(caseDir, rel)), { recursive: true });
    await writeFile(join(caseDir, rel), bytes);
    kept.push(rel);
  }
  return kept.sort();
}
