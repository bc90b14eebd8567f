/**
 * `bootmedia os-image build --distro debian-12 --arch x64|x86 --out <library> [--size 1536MiB]
 * [--id ID] [--cache-dir D] [--force]`: a minimal Debian whole-disk image as an os-image
 * package (backends/os-image-builder/build-os-image.ts).
 */
import { join, resolve } from "node:path";
import type { CAC } from "cac";
import { BootmediaError } from "../../base/errors.ts";
import { defaultCacheDir } from "../../core/cache.ts";
import { sourceDateEpochFromEnv } from "../../core/context.ts";
import { buildOsImage } from "../../backends/os-image-builder/build-os-image.ts";
import { DISTROS, type Distro } from "../../backends/os-image-builder/config.ts";
import { parseImageSize } from "../../backends/os-image-builder/size.ts";
import { assertArch, assertPackageId } from "../../backends/library-admin/library-admin.ts";
import { printJson, progressFor } from "./render.ts";
import type { CommandRow, Run } from "./types.ts";
import "../../core/codes.ts";

interface OsImageFlags {
  distro?: string;
  arch?: string;
  out?: string;
  size?: string;
  id?: string;
  cacheDir?: string;
  force?: boolean;
  json?: boolean;
  quiet?: boolean;
}

export function register(cli: CAC, run: Run, _args: string[], row: CommandRow): void {
  cli
    .command(row.usage, row.describe)
    .option("--distro <distro>", `The distribution (${DISTROS.join(", ")})`)
    .option("--arch <arch>", "x64 (amd64: BIOS, UEFI, Secure Boot) or x86 (i386: BIOS, ia32 UEFI)")
    .option("--out <library>", "Content library folder the os-image package is written into (created if absent)")
    .option(
      "--size <size>",
      "Whole-disk image size, e.g. 1536MiB or 2GiB (default 1536MiB; the root grows to the disk on first boot)",
    )
    .option("--id <id>", "Package id (default OSI00064 for x64, OSI00086 for x86)")
    .option(
      "--cache-dir <dir>",
      "Cache for the Debian packages and the build (default $BOOTMEDIA_CACHE or ~/.cache/bootmedia)",
    )
    .option("--force", "Build again even when the cached stamp says the package is current")
    .action((action: string, flags: OsImageFlags) =>
      run(async () => {
        if (action !== "build")
          throw new BootmediaError("BM1009", `unknown os-image action "${action}" (expected build)`);
        if (!flags.distro || !(DISTROS as readonly string[]).includes(String(flags.distro)))
          throw new BootmediaError("BM5405", `os-image build needs --distro ${DISTROS.join("|")}`, {
            where: "--distro",
          });
        if (!flags.arch) throw new BootmediaError("BM1009", "os-image build needs --arch x86|x64");
        if (!flags.out) throw new BootmediaError("BM1009", "os-image build needs --out <library folder>");
        const arch = assertArch(String(flags.arch));
        const id = flags.id !== undefined ? assertPackageId(String(flags.id)) : undefined;
        const size = flags.size !== undefined ? parseImageSize(String(flags.size)) : undefined;
        const cache = resolve(flags.cacheDir ?? defaultCacheDir());
        const mode = { json: flags.json === true, quiet: flags.quiet === true };
        const progress = progressFor(mode);
        const start = performance.now();
        const result = await buildOsImage({
          distro: String(flags.distro) as Distro,
          arch,
          library: resolve(flags.out),
          ...(id ? { id } : {}),
          ...(size ? { size } : {}),
          workDir: join(cache, "os-image-build"),
          ...(process.env.SOURCE_DATE_EPOCH ? { sourceDateEpoch: sourceDateEpochFromEnv() } : {}),
          force: flags.force === true,
          progress,
          log: (line) => progress.info(line),
        });
        const seconds = (performance.now() - start) / 1000;
        const m = result.manifest;
        if (mode.json)
          printJson({ ok: true, upToDate: result.upToDate, package: result.packageDir, manifest: m, seconds });
        else {
          process.stdout.write(
            `${result.upToDate ? "up to date" : "built"}: ${m.id} (${m.name}, ${m.osImage.firmware.join("+")}${m.osImage.secureBoot ? ", Secure Boot" : ""}) in ${result.packageDir}\n`,
          );
          for (const f of m.files) process.stdout.write(`  ${f.path}  ${f.size} bytes  sha256 ${f.sha256}\n`);
          process.stdout.write(`  uncompressed ${m.osImage.size} bytes  sha256 ${m.osImage.sha256}\n`);
          process.stdout.write(`took ${seconds.toFixed(1)} s\n`);
        }
        return 0;
      }),
    );
}
