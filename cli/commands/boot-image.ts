/**
 * `bootmedia boot-image build --arch x86|x64 --out <library> [--drivers a,b] [--kernel-package P] [--id ID]
 * [--signing-key env:NAME|file:PATH --signing-cert PATH [--signing-key-password env:NAME|file:PATH]]`:
 * the reference boot image as a product command (backends/boot-image-builder/build-image.ts),
 * its kernel signed for the own-key Secure Boot chain when a key is given.
 */
import { join, resolve } from "node:path";
import type { CAC } from "cac";
import { BootmediaError } from "../../base/errors.ts";
import { defaultCacheDir } from "../../core/cache.ts";
import { sourceDateEpochFromEnv } from "../../core/context.ts";
import { Redactor } from "../../core/secrets.ts";
import { parseSecretFlag } from "../../core/spec-flags.ts";
import { buildBootImage } from "../../backends/boot-image-builder/build-image.ts";
import { bootLoaderCacheDir } from "../../plugins/boot-loader/boot-loader-build.ts";
import { assertArch, assertPackageId } from "../../backends/library-admin/library-admin.ts";
import { loadSigner, type Signer } from "../../plugins/secure-boot/signing-key.ts";
import { printJson, progressFor } from "./render.ts";
import type { CommandRow, Run } from "./types.ts";
import "../../core/codes.ts";

interface BootImageFlags {
  arch?: string;
  out?: string;
  drivers?: string;
  kernelPackage?: string;
  id?: string;
  cacheDir?: string;
  force?: boolean;
  signingKey?: string;
  signingCert?: string;
  signingKeyPassword?: string;
  json?: boolean;
  quiet?: boolean;
}

const last = (v: unknown) => String(Array.isArray(v) ? v[v.length - 1] : v);

/**
 * The own-key chain's signer from the flags, spelled as `build`'s (`--signing-key`,
 * `--signing-cert`, `--signing-key-password`; secrets by reference only, parsed by the one
 * parser of secret flags). Loaded before anything is built, so a bad key writes nothing.
 */
async function signerFromFlags(flags: BootImageFlags): Promise<Signer | undefined> {
  const { signingKey, signingCert, signingKeyPassword } = flags;
  if (signingKey === undefined && signingCert === undefined && signingKeyPassword === undefined) return undefined;
  if (signingKey === undefined || signingCert === undefined) {
    throw new BootmediaError(
      "BM1009",
      "signing the kernel needs both --signing-key env:NAME|file:PATH and --signing-cert PATH",
    );
  }
  const key = parseSecretFlag("--signing-key", last(signingKey));
  const password =
    signingKeyPassword !== undefined ? parseSecretFlag("--signing-key-password", last(signingKeyPassword)) : undefined;
  return loadSigner({ key, certificate: last(signingCert), password }, process.cwd(), new Redactor(), "signing");
}

export function register(cli: CAC, run: Run, _args: string[], row: CommandRow): void {
  cli
    .command(row.usage, row.describe)
    .option("--arch <arch>", "x86 (Debian linux-image-686) or x64 (linux-image-amd64)")
    .option("--out <library>", "Content library folder the package is written into (created if absent)")
    .option(
      "--drivers <modules>",
      "NIC and disk kernel modules, comma-separated, replacing the default set (the modules that find the media are always carried)",
    )
    .option("--kernel-package <name>", "Debian kernel package (default linux-image-amd64 / linux-image-686)")
    .option("--id <id>", "Package id (default BM100064 for x64, BM100086 for x86)")
    .option(
      "--cache-dir <dir>",
      "Cache for the Debian packages and the boot loader (default $BOOTMEDIA_CACHE or ~/.cache/bootmedia)",
    )
    .option("--force", "Build again even when the cached stamp says the package is current")
    .option(
      "--signing-key <env:NAME|file:PATH>",
      "Own-key Secure Boot chain (x64): sign the kernel with this PEM private key, by reference; Debian's signature stays",
    )
    .option(
      "--signing-cert <file>",
      "The signing key's certificate (PEM or DER): machines with it in db (or MOK) start the kernel",
    )
    .option("--signing-key-password <env:NAME|file:PATH>", "The password of an encrypted signing key, by reference")
    .action((action: string, flags: BootImageFlags) =>
      run(async () => {
        if (action !== "build")
          throw new BootmediaError("BM1009", `unknown boot-image action "${action}" (expected build)`);
        if (!flags.arch) throw new BootmediaError("BM1009", "boot-image build needs --arch x86|x64");
        if (!flags.out) throw new BootmediaError("BM1009", "boot-image build needs --out <library folder>");
        const arch = assertArch(String(flags.arch));
        const id = flags.id !== undefined ? assertPackageId(String(flags.id)) : undefined;
        const cache = resolve(flags.cacheDir ?? defaultCacheDir());
        const mode = { json: flags.json === true, quiet: flags.quiet === true };
        const progress = progressFor(mode);
        const start = performance.now();
        const epoch = process.env.SOURCE_DATE_EPOCH ? sourceDateEpochFromEnv() : undefined;
        const signer = await signerFromFlags(flags);
        const result = await buildBootImage({
          arch,
          library: resolve(flags.out),
          ...(id ? { id } : {}),
          ...(flags.drivers !== undefined ? { drivers: String(flags.drivers).split(",").filter(Boolean) } : {}),
          ...(flags.kernelPackage ? { kernelPackage: String(flags.kernelPackage) } : {}),
          workDir: join(cache, "boot-image-build"),
          bootLoaderCache: bootLoaderCacheDir(cache),
          ...(epoch !== undefined ? { sourceDateEpoch: epoch } : {}),
          force: flags.force === true,
          ...(signer ? { signer } : {}),
          progress,
          log: (line) => progress.info(line),
        });
        const seconds = (performance.now() - start) / 1000;
        const m = result.manifest;
        if (mode.json)
          printJson({
            ok: true,
            upToDate: result.upToDate,
            package: result.packageDir,
            manifest: m,
            ...(result.kernelSignedBy ? { kernelSignedBy: result.kernelSignedBy } : {}),
            seconds,
          });
        else {
          process.stdout.write(
            `${result.upToDate ? "up to date" : "built"}: ${m.id} (${m.bootImage!.arch}, kernel ${m.version}, ${m.bootImage!.drivers.length} modules) in ${result.packageDir}\n`,
          );
          for (const f of m.files) process.stdout.write(`  ${f.path}  ${f.size} bytes  sha256 ${f.sha256}\n`);
          if (result.kernelSignedBy)
            process.stdout.write(`kernel signed by ${result.kernelSignedBy} (added to Debian's signature)\n`);
          process.stdout.write(`took ${seconds.toFixed(1)} s\n`);
        }
        return 0;
      }),
    );
}
