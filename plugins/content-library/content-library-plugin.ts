/**
 * The embedded default content library: a local folder of packages. Resolves the spec's
 * package ids to manifests and content items, and fetches items by reading the folder.
 */
import { constants } from "node:fs";
import { lstat, open, readFile, realpath, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { packagePath } from "../../base/package-root.ts";
import { BootmediaError } from "../../base/errors.ts";
import { parseManifest } from "../../core/content/manifest.ts";
import { loadListedSteps, STEPS_FILE } from "../../core/task-sequence/load.ts";
import { setMediaSteps } from "../../core/task-sequence/media-steps.ts";
import { packageUsers } from "../../core/task-sequence/steps.ts";
import type { Plugin, PluginBuild } from "../../core/plugin.ts";
import type { ContentPackage, ResolvedMedia } from "../../core/types.ts";
import "../../core/codes.ts";

const PLUGIN_NAME = "ContentLibraryPlugin";
const ORIGIN_KIND = "library-folder";

export class ContentLibraryPlugin implements Plugin {
  readonly name = PLUGIN_NAME;

  apply(build: PluginBuild): void {
    build.hooks.resolve.tapPromise(PLUGIN_NAME, async (media) => {
      const library = media.spec.contentLibrary;
      // A URL, a list of URLs or the object form is a distribution point: another plugin's job.
      if (typeof library !== "string" || /^https?:\/\//.test(library)) return media;
      const root = libraryRoot(library, media.specDir);
      await assertLibrary(root);
      const ids = [...media.bootImageIds, media.spec.taskSequence];
      for (const id of ids) addPackage(media, await readPackage(root, id), root);
      if (media.spec.mediaType === "standalone") await addStandaloneContent(media, root);
      return media;
    });
    build.hooks.fetcher.tap(PLUGIN_NAME, (item) =>
      item.origin.kind === ORIGIN_KIND
        ? {
            open: async () =>
              openLibraryFile(
                item.origin.location,
                `${item.packageId}/${item.path}`,
                libraryOf(item.origin.location, item.packageId, item.path),
              ),
          }
        : undefined,
    );
  }
}

/** The sample library shipped with bootmedia, used when the spec says `embedded`. */
const EMBEDDED_LIBRARY = packagePath("fixtures", "content");

/** The library folder of a file location `<root>/packages/<id>/files/<path>`. */
const libraryOf = (location: string, id: string, path: string) =>
  location.slice(0, location.length - join("packages", id, "files", path).length);

function libraryRoot(value: string, specDir: string): string {
  return value === "embedded" ? EMBEDDED_LIBRARY : resolve(specDir, value);
}

async function assertLibrary(root: string): Promise<void> {
  try {
    if ((await stat(join(root, "packages"))).isDirectory()) return;
  } catch {
    /* fall through */
  }
  throw new BootmediaError("BM2001", `no content library at ${root} (expected a "packages" folder)`, { where: root });
}

async function readPackage(root: string, id: string): Promise<ContentPackage> {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(id)) throw new BootmediaError("BM2002", `invalid package id "${id}"`);
  const file = join(root, "packages", id, "package.json");
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, "utf8"));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT")
      throw new BootmediaError("BM2002", `package ${id} is not in the content library ${root}`, { where: id });
    throw new BootmediaError("BM2003", `package ${id}: cannot read manifest: ${(e as Error).message}`, { where: file });
  }
  const pkg = parseManifest(json, `package ${id}`);
  if (pkg.id !== id)
    throw new BootmediaError("BM2003", `package folder ${id} holds a manifest for "${pkg.id}"`, { where: file });
  return pkg;
}

/**
 * Stand-alone media carry the task sequence: its steps (steps.yaml, checked against the
 * package's manifest) and every package they use, each resolved like the spec's own.
 */
async function addStandaloneContent(media: ResolvedMedia, root: string): Promise<void> {
  const id = media.spec.taskSequence;
  const ts = media.packages.find((p) => p.id === id)!;
  const listed = ts.files.find((f) => f.path === STEPS_FILE);
  if (ts.type !== "task-sequence" || !listed)
    throw new BootmediaError(
      "BM6107",
      `package ${id} is a ${ts.type} package${listed ? "" : ` without ${STEPS_FILE}`}: stand-alone media need the task sequence's steps`,
      { where: "taskSequence" },
    );
  const file = join(root, "packages", id, "files", STEPS_FILE);
  const steps = await loadListedSteps(file, listed.sha256);
  const users = packageUsers(steps);
  for (const [pkgId, step] of users) {
    let pkg: ContentPackage;
    try {
      pkg = await readPackage(root, pkgId);
    } catch (e) {
      if (e instanceof BootmediaError && e.code === "BM2002")
        throw new BootmediaError(
          "BM6101",
          `task sequence ${id}: step "${step}" uses package ${pkgId}, which the content library ${root} does not hold`,
          { where: `${file}` },
        );
      throw e;
    }
    addPackage(media, pkg, root);
  }
  setMediaSteps(media, steps);
}

function addPackage(media: ResolvedMedia, pkg: ContentPackage, root: string): void {
  if (media.packages.some((p) => p.id === pkg.id)) return;
  media.packages.push(pkg);
  // The task sequence stays on the site (the media only names it); its files never go on media
  // (stand-alone media carry its steps as the engine's program, plugins/standalone).
  if (pkg.type === "task-sequence") return;
  for (const f of pkg.files) {
    media.items.push({
      ...f,
      packageId: pkg.id,
      origin: { kind: ORIGIN_KIND, location: join(root, "packages", pkg.id, "files", f.path) },
    });
  }
}

/**
 * A library file is read only when it is a regular file inside the library (a link to one
 * inside is followed); a link out of the library, a loop or a FIFO is BM2009.
 */
async function openLibraryFile(path: string, label: string, root: string) {
  try {
    await lstat(path);
  } catch {
    throw new BootmediaError("BM2005", `the manifest lists ${label}, but the library has no file at ${path}`, {
      where: label,
    });
  }
  let real: string;
  try {
    real = await realpath(path);
  } catch (e) {
    throw new BootmediaError(
      "BM2009",
      `${path} (${label}) is a link that cannot be resolved (${(e as NodeJS.ErrnoException).code})`,
      { where: path },
    );
  }
  const realRoot = `${await realpath(root)}/`;
  if (!real.startsWith(realRoot))
    throw new BootmediaError(
      "BM2009",
      `${path} (${label}) is a link leading outside the content library (to ${real})`,
      { where: path },
    );
  const fh = await open(real, constants.O_RDONLY | constants.O_NONBLOCK);
  const st = await fh.stat();
  if (!st.isFile()) {
    await fh.close();
    throw new BootmediaError("BM2009", `${path} (${label}) is not a regular file`, { where: path });
  }
  return fh.createReadStream();
}
