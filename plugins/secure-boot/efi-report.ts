/**
 * `inspect`'s Secure Boot part: every EFI binary on the media (its file system, and the FAT
 * image an ISO's El Torito EFI entry boots), each with its Authenticode signers and SBAT
 * entries, SBAT revocations, and the chain the removable-media boot files form.
 */
import { BootmediaError } from "../../base/errors.ts";
import { readFat, readFatFile } from "../../formats/fat/index.ts";
import { readIso } from "../../formats/iso9660/read.ts";
import {
  looksLikePe,
  parseSbat,
  readAuthenticode,
  readPe,
  readSbatLevelSection,
  revokedBy,
  signedDataOf,
  type SbatEntry,
  type SbatLevel,
} from "../../formats/pe/index.ts";
import type { MediaChain } from "../../core/secure-boot.ts";
import type { OpenedMedia } from "../../core/plugin.ts";
import { LATEST_SBAT_LEVEL, SBAT_LEVELS_SOURCE } from "./sbat-levels.ts";
import { SHIM_LOADER_PATH, shimVendorSubject } from "./debian-chain.ts";
import { kernelSigners, type KernelTrust } from "./kernel-trust.ts";

interface EfiBinary {
  /** Media path; inside the El Torito EFI image: `<eltorito-efi@LBA>/EFI/BOOT/BOOTX64.EFI`. */
  path: string;
  machine?: string;
  signers: string[];
  /** SHA-256 of each signer's certificate (DER), in the order of `signers`; "" when not carried. */
  signerSha256: string[];
  sbat: SbatEntry[];
  /** Components below a revocation level (recorded, or built into a shim on the media). */
  revoked: Array<{ component: string; generation: number; minimum: number; level: string }>;
  error?: string;
}

type ChainKind = "none" | "unsigned" | "signed" | "own-key";

/** A kernel the media configuration names, with its signers (a Linux EFI-stub kernel is a PE image). */
interface KernelReport {
  path: string;
  arch: string;
  signers: string[];
  /** x64 kernels on media whose x64 boot file is signed: whether that chain starts the kernel. */
  startedByChain?: boolean;
  error?: string;
}

interface SecureBootReport {
  binaries: EfiBinary[];
  /** Per removable-media boot file (BOOTX64.EFI, BOOTIA32.EFI): the chain it starts. */
  chains: Array<{ path: string; chain: ChainKind; detail: string }>;
  kernels: KernelReport[];
  /** The x64 chain as core/secure-boot.ts reads it (the testbed's expected verdicts). */
  mediaChain: MediaChain;
  levels: string;
}

const MICROSOFT = /\/O=Microsoft Corporation\//;
const BOOT_FILE = /(^|\/)EFI\/BOOT\/BOOT(X64|IA32|AA64)\.EFI$/i;
const SHIM_LOADER_NAME = SHIM_LOADER_PATH.slice(SHIM_LOADER_PATH.lastIndexOf("/") + 1);

interface Source {
  path: string;
  read: () => Promise<Buffer>;
}

function isEfiPath(p: string): boolean {
  return /\.efi$/i.test(p);
}

/** EFI files of the media's file system, then those of each El Torito EFI image (ISO). */
async function efiSources(media: OpenedMedia): Promise<Source[]> {
  const out: Source[] = media.files
    .filter((f) => isEfiPath(f.path))
    .map((f) => ({ path: f.path, read: async () => (await media.read(f.path))! }));
  if (media.kind === "iso") {
    const iso = await readIso(media.path);
    for (const e of iso.bootEntries.filter((b) => b.platform === "efi")) {
      const offset = e.lba * 2048;
      let fat;
      try {
        fat = await readFat(media.path, offset);
      } catch (err) {
        if (err instanceof BootmediaError) continue; // not a FAT image: nothing to list
        throw err;
      }
      for (const f of fat.files.filter((x) => isEfiPath(x.path))) {
        const path = `<eltorito-efi@${e.lba}>/${f.path.replace(/^\/+/, "")}`;
        out.push({ path, read: () => readFatFile(media.path, f.path, offset) });
      }
    }
  }
  return out;
}

function describeBinary(path: string, buf: Buffer, levels: Array<{ name: string; level: SbatLevel }>): EfiBinary {
  if (!looksLikePe(buf))
    return { path, signers: [], signerSha256: [], sbat: [], revoked: [], error: "not a PE/COFF image" };
  try {
    const pe = readPe(buf, path);
    const found: Array<{ subject: string; certificateSha256?: string }> = signedDataOf(pe).flatMap(
      (d) => readAuthenticode(d) ?? [{ subject: "(unreadable signature)" }],
    );
    const signers = found.map((s) => s.subject);
    const signerSha256 = found.map((s) => s.certificateSha256 ?? "");
    const sbat = parseSbat(pe.sbat ?? "");
    const revoked = levels.flatMap(({ name, level }) => revokedBy(sbat, level).map((r) => ({ ...r, level: name })));
    return { path, machine: pe.machine, signers, signerSha256, sbat, revoked };
  } catch (e) {
    if (e instanceof BootmediaError)
      return { path, signers: [], signerSha256: [], sbat: [], revoked: [], error: `${e.code}: ${e.message}` };
    throw e;
  }
}

function chainOf(b: EfiBinary): { chain: ChainKind; detail: string } {
  if (b.error) return { chain: "none", detail: b.error };
  if (b.signers.length === 0) return { chain: "unsigned", detail: "unsigned boot loader: refused with Secure Boot on" };
  const isShim = b.sbat.some((e) => e.component === "shim");
  if (isShim && b.signers.some((s) => MICROSOFT.test(s)))
    return {
      chain: "signed",
      detail: "shim signed by Microsoft's UEFI CA -> loader and kernel signed by the shim's vendor key",
    };
  return { chain: "own-key", detail: `signed by ${b.signers.join("; ")}: starts where that key is enrolled in db` };
}

/** A shim starts the loader beside it (DEFAULT_LOADER, grubx64.efi): without it the chain goes nowhere. */
function withLoader(
  b: EfiBinary,
  c: { chain: ChainKind; detail: string },
  all: readonly EfiBinary[],
): { chain: ChainKind; detail: string } {
  if ((c.chain !== "signed" && c.chain !== "own-key") || !b.sbat.some((e) => e.component === "shim")) return c;
  const loader = `${b.path.slice(0, b.path.lastIndexOf("/") + 1)}${SHIM_LOADER_NAME}`;
  if (all.some((x) => x.path.toLowerCase() === loader.toLowerCase())) return c;
  return { chain: "none", detail: `a ${c.chain} shim without its loader: no ${loader} beside it, so nothing starts` };
}

/**
 * What a kernel is trusted by under the x64 boot file's chain: when that file is a shim, a
 * certificate its vendor certificate issued; for an own-key file, its signer's certificate
 * (shim accepts db keys too). Null for an unsigned or unreadable boot file.
 */
function x64Trust(
  binaries: EfiBinary[],
  bufs: ReadonlyMap<string, Buffer>,
): { kind: "signed" | "own-key"; trust: KernelTrust; signerSha256?: string } | null {
  const boot = binaries.find((b) => /(^|\/)EFI\/BOOT\/BOOTX64\.EFI$/i.test(b.path));
  const kind = boot ? chainOf(boot).chain : "unsigned";
  if (!boot || (kind !== "signed" && kind !== "own-key")) return null;
  const bytes = bufs.get(boot.path);
  const vendorSubject =
    bytes && boot.sbat.some((e) => e.component === "shim") ? shimVendorSubject(bytes, boot.path) : null;
  const signerSha256 = kind === "own-key" ? boot.signerSha256[0] || undefined : undefined;
  return {
    kind,
    trust: { vendorSubject, ...(signerSha256 ? { certificateSha256: signerSha256 } : {}) },
    ...(signerSha256 ? { signerSha256 } : {}),
  };
}

async function describeKernels(
  media: OpenedMedia,
  kernels: ReadonlyArray<{ path: string; arch: string }>,
  x64: ReturnType<typeof x64Trust>,
): Promise<KernelReport[]> {
  return Promise.all(
    kernels.map(async ({ path, arch }) => {
      const buf = await media.read(path);
      if (!buf)
        return {
          path,
          arch,
          signers: [],
          error: "not on the media",
          ...(x64 && arch === "x64" ? { startedByChain: false } : {}),
        };
      const k = kernelSigners(buf, x64?.trust ?? {}, path);
      return { path, arch, signers: k.signers, ...(x64 && arch === "x64" ? { startedByChain: k.trusted } : {}) };
    }),
  );
}

/**
 * inspect's Secure Boot report, and the chain of core/secure-boot.ts the media carry for the
 * testbed's expected verdicts: from the x64 removable-media boot file and the `kernels` the
 * media configuration names (every x64 one must be started by the chain).
 */
export async function reportSecureBoot(
  media: OpenedMedia,
  kernels: ReadonlyArray<{ path: string; arch: string }> = [],
): Promise<SecureBootReport> {
  const sources = await efiSources(media);
  const bufs = await Promise.all(sources.map(async (s) => ({ path: s.path, buf: await s.read() })));
  // A shim on the media carries the levels it applies: check every binary against those too.
  const levels: Array<{ name: string; level: SbatLevel }> = [
    { name: `recorded ${LATEST_SBAT_LEVEL.date}`, level: LATEST_SBAT_LEVEL },
  ];
  for (const { path, buf } of bufs) {
    if (!looksLikePe(buf)) continue;
    try {
      const section = readPe(buf, path).sbatLevel;
      const l = section ? readSbatLevelSection(section) : null;
      if (l?.latest && !levels.some((x) => x.level.date === l.latest!.date))
        levels.push({ name: `${path} latest ${l.latest.date}`, level: l.latest });
    } catch (e) {
      if (!(e instanceof BootmediaError)) throw e;
    }
  }
  const binaries = bufs.map(({ path, buf }) => describeBinary(path, buf, levels));
  const chains = binaries
    .filter((b) => BOOT_FILE.test(b.path))
    .map((b) => ({ path: b.path, ...withLoader(b, chainOf(b), binaries) }));
  const x64 = x64Trust(binaries, new Map(bufs.map((b) => [b.path, b.buf])));
  const kernelReports = await describeKernels(media, kernels, x64);
  const x64Kernels = kernelReports.filter((k) => k.arch === "x64");
  const kernelSigned = x64Kernels.length > 0 && x64Kernels.every((k) => k.startedByChain === true);
  const mediaChain: MediaChain = !x64
    ? { chain: "unsigned", kernelSigned: false }
    : { chain: x64.kind, ...(x64.signerSha256 ? { signerSha256: x64.signerSha256 } : {}), kernelSigned };
  return {
    binaries,
    chains,
    kernels: kernelReports,
    mediaChain,
    levels: `${levels.map((l) => l.name).join(", ")} (${SBAT_LEVELS_SOURCE})`,
  };
}

export function formatSecureBoot(r: SecureBootReport): string {
  const lines = ["Secure Boot:"];
  if (r.chains.length === 0) lines.push("  chain: none (no EFI/BOOT/BOOT*.EFI: the media do not boot on UEFI)");
  for (const c of r.chains) lines.push(`  chain of ${c.path}: ${c.chain} (${c.detail})`);
  lines.push(`  EFI binaries (${r.binaries.length}):`);
  for (const b of r.binaries) {
    lines.push(`    ${b.path}${b.machine ? ` [${b.machine}]` : ""}${b.error ? `: ${b.error}` : ""}`);
    if (!b.error) lines.push(`      signers: ${b.signers.length ? b.signers.join("; ") : "none (unsigned)"}`);
    if (b.sbat.length) lines.push(`      sbat: ${b.sbat.map((e) => `${e.component},${e.generation}`).join(" ")}`);
    for (const v of b.revoked)
      lines.push(
        `      warning BM3706: ${v.component} generation ${v.generation} is below ${v.minimum} (${v.level}): revoked where that level is applied`,
      );
  }
  if (r.kernels.length) lines.push(`  kernels (${r.kernels.length}):`);
  for (const k of r.kernels) {
    const started =
      k.startedByChain === undefined
        ? ""
        : k.startedByChain
          ? `, started by the ${r.mediaChain.chain} chain`
          : `, NOT started by the ${r.mediaChain.chain} chain (BM3703)`;
    lines.push(`    ${k.path} [${k.arch}]${k.error ? `: ${k.error}` : ""}`);
    if (!k.error) lines.push(`      signers: ${k.signers.length ? k.signers.join("; ") : "none (unsigned)"}${started}`);
  }
  lines.push(`  SBAT levels checked: ${r.levels}`);
  return lines.join("\n") + "\n";
}
