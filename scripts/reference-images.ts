/**
 * The one door to the reference boot images for the demo and the test set-up: built from
 * Debian packages into fixtures/reference/content, or taken as they are when the build's
 * stamp says they are current. Today's recipe is fixtures/boot-images/build.ts.
 */
import type { Arch } from "../core/compat.ts";
import { buildReferenceImages, REFERENCE_LIBRARY_DIR } from "../fixtures/boot-images/build.ts";

export { REFERENCE_LIBRARY_DIR };

export async function ensureReferenceImages(
  log: (line: string) => void,
  arches?: readonly Arch[],
): Promise<{ library: string; built: boolean }> {
  const { upToDate } = await buildReferenceImages({ log, ...(arches ? { arches } : {}) });
  return { library: REFERENCE_LIBRARY_DIR, built: !upToDate };
}
