/**
 * The content-library package manifest (docs/content-library.md): one schema shared by
 * every library kind (local folder now, HTTP distribution points later).
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { z } from "zod";
import { ARCHES, FIRMWARES } from "../compat.ts";
import { PACKAGE_TYPES, type ContentPackage } from "../types.ts";
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
    files: z.array(
      z.object({ path: mediaPath, size: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
    ),
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
  return pkg;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
