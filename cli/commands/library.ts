/**
 * `bootmedia library add-boot-image | add-os-image | add | ls | verify <library> ...`: a content library
 * folder edited by the tool, which writes every manifest (backends/library-admin/).
 */
import { resolve } from "node:path";
import type { CAC } from "cac";
import { BootmediaError } from "../../base/errors.ts";
import type { BootImageTestbed, ContentPackage } from "../../core/types.ts";
import { addBootImage, addFolder, listLibrary, verifyLibrary } from "../../backends/library-admin/library-admin.ts";
import { addOsImage } from "../../backends/library-admin/os-image.ts";
import { printJson } from "./render.ts";
import type { CommandRow, Run } from "./types.ts";
import "../../core/codes.ts";

export const LIBRARY_ACTIONS = ["add-boot-image", "add-os-image", "add", "ls", "verify"] as const;

interface LibraryFlags {
  kernel?: string;
  initrd?: string;
  arch?: string;
  cmdline?: string;
  drivers?: string;
  id?: string;
  name?: string;
  type?: string;
  image?: string;
  firmware?: string;
  secureBoot?: boolean;
  rootPartition?: string;
  packageVersion?: string;
  passSerial?: string;
  passScreen?: string;
  memory?: string;
  json?: boolean;
}

const MiB = 1024 * 1024;

/** `--pass-serial`, `--pass-screen`, `--memory`: how the testbed judges the imported image (manifest `bootImage.testbed`). */
function testbedHints(flags: LibraryFlags): { testbed?: BootImageTestbed } {
  const pass = {
    ...(flags.passSerial !== undefined ? { serial: String(flags.passSerial) } : {}),
    ...(flags.passScreen !== undefined ? { screen: String(flags.passScreen) } : {}),
  };
  const testbed: BootImageTestbed = {
    ...(Object.keys(pass).length > 0 ? { pass } : {}),
    ...(flags.memory !== undefined ? { memoryMiB: Number(flags.memory) } : {}),
  };
  return Object.keys(testbed).length > 0 ? { testbed } : {};
}

function printAdded(pkg: ContentPackage, library: string, json: boolean): void {
  if (json) return printJson({ ok: true, library, manifest: pkg });
  const arch = pkg.bootImage?.arch ?? pkg.osImage?.arch;
  process.stdout.write(`added ${pkg.id} (${pkg.type}${arch ? `, ${arch}` : ""}) to ${library}\n`);
  for (const f of pkg.files) process.stdout.write(`  ${f.path}  ${f.size} bytes  sha256 ${f.sha256}\n`);
  const o = pkg.osImage;
  if (!o) return;
  process.stdout.write(
    `  ${o.compression === "none" ? "raw" : o.compression}, ${o.size} bytes uncompressed  sha256 ${o.sha256}\n` +
      `  boots ${o.firmware.join(", ")}${o.secureBoot ? " (Secure Boot chain)" : ""}; ${o.partitionTable}, root partition ${o.rootPartition}\n`,
  );
  for (const p of o.partitions)
    process.stdout.write(
      `  ${String(p.index).padStart(3)}  ${(p.start / MiB).toFixed(1).padStart(9)} MiB  ${(p.size / MiB).toFixed(1).padStart(9)} MiB  ${p.type}${p.name ? `  ${p.name}` : ""}\n`,
    );
}

export function register(cli: CAC, run: Run, _args: string[], row: CommandRow): void {
  cli
    .command(row.usage, row.describe)
    .option("--kernel <file>", "add-boot-image: the kernel (an x86 Linux bzImage)")
    .option("--initrd <file>", "add-boot-image: its initrd (optional)")
    .option("--arch <arch>", "add-boot-image: x86 (32-bit kernel) or x64 (64-bit kernel)")
    .option("--cmdline <args>", "add-boot-image: the kernel command line the media boots it with")
    .option(
      "--drivers <modules>",
      "add-boot-image: the NIC and disk drivers it carries, comma-separated (checked against the machines' NICs)",
    )
    .option("--image <file>", "add-os-image: the whole-disk image (raw, or compressed with zstd, xz or gzip)")
    .option(
      "--firmware <list>",
      "add-os-image: what the image boots, bios, uefi or bios,uefi (default: read from its partition table)",
    )
    .option("--secure-boot", "add-os-image: the image carries a Secure Boot chain (shim signed by Microsoft's UEFI CA)")
    .option(
      "--root-partition <n>",
      "add-os-image: the partition holding the root file system (default: the Linux root partition of the arch, else the largest Linux file system)",
    )
    .option("--package-version <v>", "add-os-image: package version (default: the start of the image's sha256)")
    .option("--id <id>", "add-boot-image, add-os-image, add: package id (default: the next free one)")
    .option("--name <name>", "add-boot-image, add-os-image, add: package name")
    .option("--type <type>", "add: prestart or task-sequence")
    .option(
      "--pass-serial <regex>",
      "add-boot-image, add-os-image: the testbed passes this image when the pattern shows on the serial line (an image without the bootmedia agent)",
    )
    .option(
      "--pass-screen <regex>",
      "add-boot-image, add-os-image: the testbed passes this image when the pattern shows on the VGA text screen",
    )
    .option(
      "--memory <MiB>",
      "add-boot-image, add-os-image: the least memory the image runs properly with (the testbed gives its machines at least this)",
    )
    .action((action: string, library: string | undefined, folder: string | undefined, flags: LibraryFlags) =>
      run(async () => {
        if (!(LIBRARY_ACTIONS as readonly string[]).includes(action))
          throw new BootmediaError(
            "BM1009",
            `unknown library action "${action}" (expected ${LIBRARY_ACTIONS.join(", ")})`,
          );
        if (!library) throw new BootmediaError("BM1009", `library ${action} needs the library folder`);
        const lib = resolve(library);
        const json = flags.json === true;
        if (action === "add-boot-image") {
          if (!flags.kernel || !flags.arch)
            throw new BootmediaError("BM1009", "library add-boot-image needs --kernel <file> and --arch x86|x64");
          const pkg = await addBootImage(lib, {
            kernel: String(flags.kernel),
            arch: String(flags.arch),
            ...(flags.initrd !== undefined ? { initrd: String(flags.initrd) } : {}),
            ...(flags.cmdline !== undefined ? { cmdline: String(flags.cmdline) } : {}),
            ...(flags.drivers !== undefined ? { drivers: String(flags.drivers).split(",").filter(Boolean) } : {}),
            ...(flags.id !== undefined ? { id: String(flags.id) } : {}),
            ...(flags.name !== undefined ? { name: String(flags.name) } : {}),
            ...testbedHints(flags),
          });
          printAdded(pkg, lib, json);
          return 0;
        }
        if (action === "add-os-image") {
          if (!flags.image || !flags.arch)
            throw new BootmediaError("BM1009", "library add-os-image needs --image <file> and --arch x86|x64");
          const rootPartition = flags.rootPartition !== undefined ? Number(flags.rootPartition) : undefined;
          const pkg = await addOsImage(lib, {
            image: String(flags.image),
            arch: String(flags.arch),
            ...(flags.firmware !== undefined ? { firmware: String(flags.firmware).split(",").filter(Boolean) } : {}),
            ...(flags.secureBoot === true ? { secureBoot: true } : {}),
            ...(rootPartition !== undefined ? { rootPartition } : {}),
            ...(flags.id !== undefined ? { id: String(flags.id) } : {}),
            ...(flags.name !== undefined ? { name: String(flags.name) } : {}),
            ...(flags.packageVersion !== undefined ? { version: String(flags.packageVersion) } : {}),
            ...testbedHints(flags),
            ...(json ? {} : { log: (line: string) => process.stderr.write(`${line}\n`) }),
          });
          printAdded(pkg, lib, json);
          return 0;
        }
        if (action === "add") {
          if (!folder || !flags.type)
            throw new BootmediaError("BM1009", "library add needs <folder> and --type prestart|task-sequence");
          printAdded(
            await addFolder(lib, folder, String(flags.type), {
              ...(flags.id !== undefined ? { id: String(flags.id) } : {}),
              ...(flags.name !== undefined ? { name: String(flags.name) } : {}),
            }),
            lib,
            json,
          );
          return 0;
        }
        if (action === "ls") {
          const rows = await listLibrary(lib);
          if (json) printJson({ ok: true, library: lib, packages: rows });
          else {
            for (const r of rows)
              process.stdout.write(
                `${r.id.padEnd(12)} ${r.type.padEnd(14)} ${(r.arch ?? "").padEnd(4)} ${String(r.files).padStart(5)} files ${(r.bytes / MiB).toFixed(1).padStart(8)} MiB  ${r.name}${r.osImage ? `  [${r.osImage.firmware.join("+")}${r.osImage.secureBoot ? ", secure boot" : ""}, ${r.osImage.compression}, ${(r.osImage.size / MiB).toFixed(0)} MiB on disk]` : ""}\n`,
              );
            process.stdout.write(`${rows.length} package${rows.length === 1 ? "" : "s"} in ${lib}\n`);
          }
          return 0;
        }
        const report = await verifyLibrary(lib);
        if (json) printJson({ ok: report.problems.length === 0, library: lib, ...report });
        else {
          for (const p of report.problems) process.stdout.write(`error ${p.code} ${p.message}\n`);
          process.stdout.write(
            `${report.packages} packages, ${report.files} files checked: ${report.problems.length === 0 ? "all match their manifests" : `${report.problems.length} problem${report.problems.length === 1 ? "" : "s"}`}\n`,
          );
        }
        return report.problems.length === 0 ? 0 : 1;
      }),
    );
}
