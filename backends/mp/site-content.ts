/**
 * A site as a running management point uses it: the site database plus each task sequence's
 * steps (inline, or from the library's task-sequence package, sha256 checked against its
 * manifest) and the packages those steps use. Resolved once when the site is loaded (start
 * and reload), so a bad steps file is an error then, never in the middle of a policy answer.
 */
import { X509Certificate } from "node:crypto";
import { dirname, join, resolve } from "node:path";
import { BootmediaError } from "../../base/errors.ts";
import { parseManifest } from "../../core/content/manifest.ts";
import { readInputBytes, readInputFile } from "../../core/limits.ts";
import type { ContentPackage as LibraryPackage } from "../../core/types.ts";
import { parseYamlData } from "../../core/yaml-limits.ts";
import { loadListedSteps, STEPS_FILE } from "../../core/task-sequence/load.ts";
import { imagePackages, referencedPackages, type Step } from "../../core/task-sequence/steps.ts";
import type { ContentPackage, OsImageWire } from "../../core/task-sequence/wire.ts";
import { parseSite, validateInlineSteps, type Site, type SiteInput } from "./site.ts";
import "./codes.ts";

/** Largest registration certificate read (a DER certificate is a few KiB). */
const CERTIFICATE_BYTES = 64 * 1024;

/**
 * `certificates: [{ file: media.cer }]`: the registration `.cer` a build writes, read (relative
 * to the site file) into the `der` form the site database holds, so nobody base64-encodes by hand.
 */
async function readCertificateFiles(input: unknown, opts: { baseDir?: string; where?: string }): Promise<unknown> {
  const certs = (input as { certificates?: unknown } | null)?.certificates;
  if (!Array.isArray(certs) || !certs.some((c) => typeof c === "object" && c !== null && "file" in c)) return input;
  const resolved = await Promise.all(
    certs.map(async (c: unknown, i) => {
      if (typeof c !== "object" || c === null || !("file" in c)) return c;
      const { file, ...rest } = c as { file: unknown };
      if (typeof file !== "string" || file.length === 0)
        throw new BootmediaError("BM5302", `site database: certificates.${i}.file: a path to a .cer file`, {
          where: opts.where,
        });
      const path = resolve(opts.baseDir ?? ".", file);
      const der = await readInputBytes(path, {
        label: "registered certificate",
        maxBytes: CERTIFICATE_BYTES,
        code: "BM5302",
      });
      return { ...rest, der: der.toString("base64") };
    }),
  );
  return { ...(input as object), certificates: resolved };
}

/** What a policy answer needs of a task sequence with steps. */
export interface TaskSequenceContent {
  steps: Step[];
  /** The packages the steps reference, with their content locations and manifest files. */
  packages: ContentPackage[];
  /** What the engine needs of the os-image packages apply-image steps name. */
  images: OsImageWire[];
}

export interface LoadedSite {
  site: Site;
  /** Task sequences with steps, by id; one without steps is absent. */
  content: Map<string, TaskSequenceContent>;
  /** The site file, when the site came from one (reload reads it again). */
  file?: string;
}

/** Largest site file read (computers and certificates of a lab-sized site fit easily). */
const SITE_FILE_BYTES = 16 * 1024 * 1024;

/** Reads, validates and resolves a site file (YAML or JSON); BM5308 when it cannot be read. */
export async function loadSiteFile(file: string): Promise<LoadedSite> {
  const path = resolve(file);
  const text = await readInputFile(path, { label: "site file", maxBytes: SITE_FILE_BYTES, code: "BM5308" });
  let doc: unknown;
  try {
    doc = parseYamlData(text, path);
  } catch (e) {
    if (e instanceof BootmediaError) throw e;
    throw new BootmediaError("BM5302", `site file ${path}: not YAML: ${(e as Error).message}`, { where: path });
  }
  return { ...(await resolveSite(doc, { baseDir: dirname(path), where: path })), file: path };
}

/** Validates a site database and resolves its task sequences' steps; `baseDir` anchors a relative `library`. */
export async function resolveSite(
  input: Site | SiteInput | unknown,
  opts: { baseDir?: string; where?: string } = {},
): Promise<LoadedSite> {
  const site = parseSite(await readCertificateFiles(input, opts), opts.where);
  site.certificates.forEach((c, i) => {
    try {
      new X509Certificate(Buffer.from(c.der, "base64"));
    } catch {
      throw new BootmediaError("BM5302", `site database: certificates.${i}: not an X.509 certificate (DER)`, {
        where: opts.where,
      });
    }
  });
  const library = site.library === undefined ? undefined : resolve(opts.baseDir ?? ".", site.library);
  const content = new Map<string, TaskSequenceContent>();
  const manifests = new Map<string, LibraryPackage | undefined>();
  const manifest = async (id: string) => {
    if (!manifests.has(id)) manifests.set(id, library ? await readManifest(library, id, opts.where) : undefined);
    return manifests.get(id);
  };
  for (const t of site.taskSequences) {
    const steps = t.steps
      ? validateInlineSteps(t, opts.where).steps
      : library
        ? await librarySteps(library, t.id, await manifest(t.id), opts.where)
        : undefined;
    if (!steps) continue;
    const packages: ContentPackage[] = [];
    for (const id of referencedPackages(steps)) {
      const pkg = await manifest(id);
      if (!pkg)
        throw new BootmediaError(
          "BM5312",
          `site database: task sequence ${t.id} uses package ${id}, which ${library ? `the library ${library} does not hold` : "no library holds (the site names no `library`)"}`,
          { where: opts.where },
        );
      packages.push({
        id,
        locations: site.distributionPoints.map((dp) => `${dp.url.replace(/\/+$/, "")}/packages/${id}/files/`),
        files: pkg.files.map((f) => ({ path: f.path, sha256: f.sha256, size: f.size })),
      });
    }
    const images = (await Promise.all(imagePackages(steps).map(async (id) => [id, await manifest(id)] as const))).map(
      ([id, pkg]) => osImageOf(id, pkg!, `task sequence ${t.id}`, opts.where),
    );
    content.set(t.id, { steps, packages, images });
  }
  return { site, content };
}

/**
 * An apply-image step's package as the wire carries it; BM5313 when it is no os-image package.
 * Its `osImage` section was checked with the manifest (core/content/manifest.ts): the image is
 * one of its files, the root partition one of its partitions.
 */
function osImageOf(id: string, pkg: LibraryPackage, user: string, where?: string): OsImageWire {
  const os = pkg.type === "os-image" ? pkg.osImage : undefined;
  if (!os)
    throw new BootmediaError(
      "BM5313",
      `site database: ${user}: apply-image package ${id} is a ${pkg.type} package, not an os-image package (with an osImage section)`,
      { where },
    );
  const { image, compression, size, sha256, partitionTable, rootPartition, firmware } = os;
  return { id, image, compression, size, sha256, partitionTable, rootPartition, firmware };
}

/** A package's manifest, or undefined when the library has no such package. */
async function readManifest(library: string, id: string, where?: string): Promise<LibraryPackage | undefined> {
  // Ids come from the site file; a path separator in one would leave the library.
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(id)) return undefined;
  const file = join(library, "packages", id, "package.json");
  let text: string;
  try {
    text = await readInputFile(file, { label: "package manifest", maxBytes: 16 * 1024 * 1024, code: "BM5302", where });
  } catch (e) {
    if ((e as Error).message.includes("ENOENT")) return undefined;
    throw e;
  }
  try {
    return parseManifest(JSON.parse(text), file);
  } catch (e) {
    throw new BootmediaError("BM5302", `site database: package ${id}: ${(e as Error).message}`, { where, cause: e });
  }
}

/** The steps of a library task-sequence package, or undefined when it has none (no package, no steps file). */
async function librarySteps(
  library: string,
  id: string,
  pkg: LibraryPackage | undefined,
  where?: string,
): Promise<Step[] | undefined> {
  const listed = pkg?.files.find((f) => f.path === STEPS_FILE);
  if (!pkg || !listed) return undefined;
  const file = join(library, "packages", id, "files", STEPS_FILE);
  const named = (e: unknown): never => {
    if (!(e instanceof BootmediaError)) throw e;
    const message = e.message.startsWith(file) ? e.message : `${file}: ${e.message}`;
    throw new BootmediaError(e.code, `site database: task sequence ${id}: ${message}`, {
      where,
      hint: e.hint,
      cause: e,
    });
  };
  return loadListedSteps(
    file,
    listed.sha256,
    "The steps file changed after `library add`: add the package again (or restore the file), then reload the MP.",
  ).catch(named);
}
