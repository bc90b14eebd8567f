/**
 * `bootmedia verify <media> --key PUB [--sbom F] [--provenance F] [--attestation F]
 * [--require x64-uefi,x64-bios]`: the statements are about this medium's bytes, signed by
 * the key, and the testbed passed the required profiles (backends/media-verify/verify.ts).
 * Exit 0 verified, 1 with the coded reason otherwise.
 */
import { resolve } from "node:path";
import type { CAC } from "cac";
import { BootmediaError } from "../../base/errors.ts";
import { formatVerify, verifyMedia } from "../../backends/media-verify/verify.ts";
import { printJson } from "./render.ts";
import type { CommandRow, Run } from "./types.ts";

interface VerifyFlags {
  key?: string;
  sbom?: string;
  provenance?: string;
  attestation?: string;
  require?: string | string[];
  json?: boolean;
}

const one = (v: unknown) => (v === undefined ? undefined : String(Array.isArray(v) ? v[v.length - 1] : v));

export function register(cli: CAC, run: Run, _args: string[], row: CommandRow): void {
  cli
    .command(row.usage, row.describe)
    .option("--key <file>", "PEM public key (Ed25519 or ECDSA P-256) the statements must be signed with")
    .option("--sbom <file>", "The SBOM (default: <media>.cdx.json beside the medium)")
    .option("--provenance <file>", "The build's provenance (default: <media>.intoto.json beside the medium)")
    .option("--attestation <file>", "The testbed's signed statement (bootmedia testbed --attest-key)")
    .option("--require <profiles>", "Testbed profiles that must have passed, comma-separated (e.g. x64-uefi,x64-bios)")
    .action((media: string, flags: VerifyFlags) =>
      run(async () => {
        const key = one(flags.key);
        if (!key)
          throw new BootmediaError(
            "BM6002",
            "verify needs --key <public key file> (the public half of the --attest-key)",
          );
        const require = ([] as string[])
          .concat(flags.require ?? [])
          .flatMap((s) => String(s).split(","))
          .map((s) => s.trim())
          .filter(Boolean);
        const file = (v: unknown) => (one(v) === undefined ? undefined : resolve(one(v)!));
        const report = await verifyMedia({
          media: resolve(media),
          key: resolve(key),
          ...(file(flags.sbom) ? { sbom: file(flags.sbom)! } : {}),
          ...(file(flags.provenance) ? { provenance: file(flags.provenance)! } : {}),
          ...(file(flags.attestation) ? { attestation: file(flags.attestation)! } : {}),
          require,
        });
        if (flags.json) printJson({ ok: true, ...report });
        else process.stdout.write(`${formatVerify(report)}\n`);
        return 0;
      }),
    );
}
