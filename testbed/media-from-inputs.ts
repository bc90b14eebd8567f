/**
 * What `bootmedia testbed` boots: media files as given (their architectures and drivers
 * read back from bootmedia/media.json), or specs, which are built first as ISO and/or USB.
 */
import { mkdir } from "node:fs/promises";
import { basename, join } from "node:path";
import { BootmediaError } from "../base/errors.ts";
import type { Arch } from "../core/compat.ts";
import type { BootImageTestbed } from "../core/types.ts";
import { builtinInspectors } from "../plugins/builtin.ts";
import { openMedia } from "../plugins/media-manifest/open-media.ts";
import { reportSecureBoot } from "../plugins/secure-boot/efi-report.ts";
import { readStandalone, setDiscPaths } from "../plugins/standalone/index.ts";
import type { MediaKind } from "./profiles.ts";
import type { MediaUnderTest } from "./matrix.ts";
import "./codes.ts";

interface ImageConfig {
  images?: Array<{ arch: Arch; drivers: string[]; kernel?: string; testbed?: BootImageTestbed }>;
}

/** Reads a built media back and describes it for the matrix. */
export async function describeMedia(path: string, label?: string): Promise<MediaUnderTest> {
  for (const inspector of await builtinInspectors()) {
    if (!(await inspector.detect(path))) continue;
    const report = await inspector.inspect(path);
    if (report.kind !== "iso" && report.kind !== "usb") break;
    const config = (report.config ?? {}) as ImageConfig;
    const images = config.images ?? [];
    if (images.length === 0)
      throw new BootmediaError("BM5003", `${path} carries no bootmedia configuration with boot images`, {
        where: path,
      });
    const imageTestbed: Partial<Record<Arch, BootImageTestbed>> = {};
    for (const image of images) if (image.testbed) imageTestbed[image.arch] = image.testbed;
    // The Secure Boot chain the media really carry decides the Secure Boot profiles' verdicts.
    const opened = await openMedia(path, [inspector]);
    const kernels = images.flatMap((i) => (i.kernel ? [{ path: i.kernel, arch: i.arch }] : []));
    const secureBoot = (await reportSecureBoot(opened, kernels)).mediaChain;
    const standalone = await readStandalone(opened);
    return {
      kind: report.kind as MediaKind,
      path,
      secureBoot,
      images: [...new Set(images.map((i) => i.arch))],
      drivers: [...new Set(images.flatMap((i) => i.drivers))],
      label: label ?? basename(path).replace(/\.(iso|img)$/i, ""),
      ...(Object.keys(imageTestbed).length > 0 ? { imageTestbed } : {}),
      ...(standalone ? { standalone: { discs: setDiscs(path, standalone.set.discs) } } : {}),
    };
  }
  throw new BootmediaError("BM5003", `${path} is neither an .iso nor a USB image bootmedia can read`, { where: path });
}

/** A set's discs beside its first (`<name>-1.iso` → `<name>-2.iso`, …, as the ISO writer names them). */
function setDiscs(first: string, count: number): string[] {
  if (count <= 1) return [first];
  const paths = setDiscPaths(first, 1, count);
  if (!paths)
    throw new BootmediaError(
      "BM5003",
      `${first} is disc 1 of ${count}, but not named <name>-1.iso as a set's first disc`,
      {
        where: first,
      },
    );
  return paths;
}

export const isSpecFile = (p: string) => /\.(ya?ml|json)$/i.test(p);

/** Builds a spec as each media kind asked, under `workDir`, through the CLI's own pipeline. */
export async function buildSpecMedia(
  spec: string,
  kinds: MediaKind[],
  workDir: string,
  build: (spec: string, kind: MediaKind, out: string) => Promise<void>,
): Promise<MediaUnderTest[]> {
  await mkdir(workDir, { recursive: true });
  const out: MediaUnderTest[] = [];
  for (const kind of kinds) {
    const file = join(workDir, `${basename(spec).replace(/\.(ya?ml|json)$/i, "")}.${kind === "iso" ? "iso" : "img"}`);
    await build(spec, kind, file);
    out.push(await describeMedia(file, `${basename(file).replace(/\.(iso|img)$/i, "")}-${kind}`));
  }
  return out;
}
