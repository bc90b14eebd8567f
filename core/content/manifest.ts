/**
 * The content-library package manifest (docs/content-library.md): one schema shared by
 * every library kind (local folder now, HTTP distribution points later).
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { z } from "zod";
import { ARCHES, FIRMWARES } from "../compat.ts";
import { OS_IMAGE_COMPRESSIONS, OS_IMAGE_SUFFIX, PACKAGE_TYPES, type ContentPackage } from "../types.ts";
import { PARTITION_TABLE_KINDS } from "../../formats/disk/partitions.ts";
import { BootmediaError } from "../../base/errors.ts";
import "../codes.ts";

const mediaPath = z
  .string()
  .min(1)
  .refine(
    (p) => !p.startsWith("/") && !p.split("/").some((s) => s === "" || s === "." || s === ".."),
    "must be relative and stay inside the package",
  );

/** How the testbed judges an image without the bootmedia agent (core/types.ts BootImageTestbed). */
const bootImageTestbedSchema = z
  .object({
    pass: z
      .object({ serial: z.string().min(1).optional(), screen: z.string().min(1).optional() })
      .strict()
      .optional(),
    memoryMiB: z.number().int().min(128).max(65536).optional(),
  })
  .strict();

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const byteCount = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** A whole-disk image (core/types.ts OsImageInfo); how it fits its files is checked in parseManifest. */
const osImageSchema = z
  .object({
    arch: z.enum(ARCHES),
    firmware: z
      .array(z.enum(FIRMWARES))
      .min(1)
      .refine((f) => new Set(f).size === f.length, "lists a firmware twice"),
    secureBoot: z.boolean(),
    image: mediaPath,
    compression: z.enum(OS_IMAGE_COMPRESSIONS),
    size: byteCount.refine((n) => n > 0 && n % 512 === 0, "must be a positive number of 512-byte sectors"),
    sha256,
    partitionTable: z.enum(PARTITION_TABLE_KINDS),
    partitions: z
      .array(
        z
          .object({
            index: z.number().int().min(1).max(65536),
            start: byteCount,
            size: byteCount.min(1),
            type: z.string().regex(/^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|0x[0-9a-f]{2})$/),
            name: z.string().max(36).optional(),
          })
          .strict(),
      )
      .min(1),
    rootPartition: z.number().int().min(1),
    testbed: bootImageTestbedSchema.optional(),
  })
  .strict();

const manifestSchema = z
  .object({
    id: z.string().min(1),
    type: z.enum(PACKAGE_TYPES),
    name: z.string(),
    version: z.string(),
    bootImage: z
      .object({
        arch: z.enum(ARCHES),
        firmware: z.array(z.enum(FIRMWARES)).min(1).optional(),
        drivers: z.array(z.string()),
        kernel: mediaPath,
        initrd: mediaPath.optional(),
        // Words for GRUB's `linux` line: what GRUB's script would read as syntax is refused.
        cmdline: z
          .string()
          .regex(/^[^\n\r'"`$;&|<>\\{}]*$/, "may not hold quotes, $, ;, &, |, <, >, backslashes, braces or line breaks")
          .optional(),
        testbed: bootImageTestbedSchema.optional(),
      })
      .optional(),
    osImage: osImageSchema.optional(),
    files: z.array(z.object({ path: mediaPath, size: byteCount, sha256 })),
  })
  .passthrough();

/** Parses a manifest; errors name the package and the field. */
export function parseManifest(json: unknown, where: string): ContentPackage {
  const r = manifestSchema.safeParse(json);
  if (!r.success) {
    const unsafe = r.error.issues.find((i) => i.message.includes("stay inside"));
    if (unsafe) throw new BootmediaError("BM2006", `${where}: unsafe path at ${unsafe.path.join(".")}`, { where });
    const first = r.error.issues[0]!;
    throw new BootmediaError("BM2003", `${where}: ${first.path.join(".") || "manifest"}: ${first.message}`, { where });
  }
  const pkg = r.data as ContentPackage;
  if (pkg.type === "boot-image" && !pkg.bootImage) {
    throw new BootmediaError("BM2003", `${where}: a boot-image package needs a bootImage section`, { where });
  }
  if (pkg.type === "os-image") checkOsImage(pkg, where);
  else if (pkg.osImage)
    throw new BootmediaError("BM2003", `${where}: only an os-image package has an osImage section`, { where });
  return pkg;
}

/** An os-image manifest against itself: its image among its files, its partitions inside the disk. */
function checkOsImage(pkg: ContentPackage, where: string): void {
  const fail = (field: string, message: string) =>
    new BootmediaError("BM2003", `${where}: osImage.${field}: ${message}`, { where });
  const o = pkg.osImage;
  if (!o) throw new BootmediaError("BM2003", `${where}: an os-image package needs an osImage section`, { where });
  const file = pkg.files.find((f) => f.path === o.image);
  if (!file) throw fail("image", `${o.image} is not among the package's files`);
  if (!o.image.endsWith(OS_IMAGE_SUFFIX[o.compression]) || (o.compression !== "none" && o.image.endsWith(".raw")))
    throw fail("image", `a ${o.compression} image's name ends in ${OS_IMAGE_SUFFIX[o.compression]}`);
  if (o.compression === "none" && (file.size !== o.size || file.sha256 !== o.sha256))
    throw fail("size", "an uncompressed image's size and sha256 are its file's");
  const seen = new Set<number>();
  const sorted = [...o.partitions].sort((a, b) => a.start - b.start);
  for (const p of sorted) {
    if (seen.has(p.index)) throw fail("partitions", `partition ${p.index} is listed twice`);
    seen.add(p.index);
    if (p.start % 512 !== 0 || p.size % 512 !== 0 || p.start < 512 || p.start + p.size > o.size)
      throw fail(
        "partitions",
        `partition ${p.index} (${p.start} + ${p.size} bytes) does not lie inside the ${o.size}-byte disk`,
      );
    if (p.type.startsWith("0x") !== (o.partitionTable === "mbr"))
      throw fail("partitions", `partition ${p.index}'s type ${p.type} is not a ${o.partitionTable} type`);
  }
  for (let i = 1; i < sorted.length; i++)
    if (sorted[i]!.start < sorted[i - 1]!.start + sorted[i - 1]!.size)
      throw fail("partitions", `partitions ${sorted[i - 1]!.index} and ${sorted[i]!.index} overlap`);
  if (!seen.has(o.rootPartition)) throw fail("rootPartition", `there is no partition ${o.rootPartition}`);
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
