/** Media opened for reading as `inspect --check` and `diff` read them: a disc of a stand-alone CD/DVD set opens the whole set. */
import type { Inspector } from "../../core/plugin.ts";
import { openMedia } from "../../plugins/media-manifest/open-media.ts";
import { openWholeSet } from "../../plugins/standalone/index.ts";

export async function openMediaSet(path: string, inspectors: readonly Inspector[]) {
  return openWholeSet(await openMedia(path, inspectors), (disc) => openMedia(disc, inspectors));
}
