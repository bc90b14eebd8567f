/**
 * The reference boot images for a test that only needs them present. The full check
 * (buildReferenceImages: apt lookups, input hashes, the boot loader; ~7 s of CPU, more on a
 * busy machine, and one file at a time behind the build lock) runs once per vitest run; the
 * run's later files read the manifests it vouched for. A file run outside vitest always
 * checks. fixtures/boot-images/build.e2e.test.ts calls buildReferenceImages itself: the
 * check is what it proves.
 */
import { existsSync } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { ARCHES } from "../core/compat.ts";
import { ARCH_RECIPES } from "../backends/boot-image-builder/config.ts";
import {
  buildReferenceImages,
  readManifest,
  REFERENCE_LIBRARY_DIR,
  type BuildResult,
} from "../fixtures/boot-images/build.ts";
import { checkedRunMarker, TEST_RUN_ENV } from "./global-setup.ts";

export async function referenceImages(): Promise<BuildResult> {
  const run = process.env[TEST_RUN_ENV];
  if (!run) return buildReferenceImages({ log: () => {} });
  const marker = checkedRunMarker(run);
  if (existsSync(marker)) {
    const packages = await Promise.all(ARCHES.map((a) => readManifest(REFERENCE_LIBRARY_DIR, ARCH_RECIPES[a].id)));
    return { packages, upToDate: true };
  }
  const result = await buildReferenceImages({ log: () => {} });
  await mkdir(dirname(marker), { recursive: true });
  // Whole, then renamed: a file starting meanwhile finds no marker (and checks) or this one.
  const tmp = `${marker}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify({ checkedAt: new Date().toISOString(), pid: process.pid })}\n`);
  await rename(tmp, marker);
  return result;
}
