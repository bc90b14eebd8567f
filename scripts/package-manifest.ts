/**
 * Rewrites a content-library package's `files` list from what its files/ folder holds
 * (sizes and sha256), keeping the rest of the manifest. Test support only (distribution-point
 * fixtures that alter a package on purpose); users get their manifests from `bootmedia library
 * add-boot-image | add` and `bootmedia boot-image build`. Usage: tsx scripts/package-manifest.ts <lib>/packages/<ID>
 */
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import fg from "fast-glob";
import { sha256File } from "../core/content/manifest.ts";

export async function refreshManifest(pkgDir: string): Promise<void> {
  const manifestPath = join(pkgDir, "package.json");
  const manifest = JSON.parse(await readFile(manifestPath, "utf8")) as Record<string, unknown>;
  const root = join(pkgDir, "files");
  const paths = (await fg("**/*", { cwd: root, onlyFiles: true, dot: true }).catch(() => [])).sort();
  manifest.files = await Promise.all(
    paths.map(async (p) => ({
      path: p,
      size: (await stat(join(root, p))).size,
      sha256: await sha256File(join(root, p)),
    })),
  );
  await writeFile(manifestPath, JSON.stringify(manifest, null, 2) + "\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const dir of process.argv.slice(2)) await refreshManifest(dir);
}
