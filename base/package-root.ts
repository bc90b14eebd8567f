/**
 * The installed package's root folder (where package.json, the sample library and the
 * native helper live), found the same way from the sources and from the compiled dist/.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "bootmedia")
      return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error("bootmedia's package.json not found above " + fileURLToPath(import.meta.url));
    dir = up;
  }
}

const PACKAGE_ROOT = findRoot();

/** A path inside the package. */
export const packagePath = (...parts: string[]): string => join(PACKAGE_ROOT, ...parts);

/** The package's version, as package.json says. */
export const PACKAGE_VERSION: string = (
  JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")) as { version: string }
).version;
