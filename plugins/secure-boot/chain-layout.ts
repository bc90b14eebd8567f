/**
 * Lays the Secure Boot chain on the media: EFI/BOOT/BOOTX64.EFI becomes a shim, the loader
 * shim starts sits beside it as EFI/BOOT/grubx64.efi, and /.disk/info lets Debian's signed
 * GRUB find the media. The rest of the boot files (BIOS, ia32 UEFI) and the generated
 * boot/grub/grub.cfg stay as the boot loader made them: both GRUBs read that grub.cfg.
 */
import { readFile, stat } from "node:fs/promises";
import type { SbChain } from "../../core/secure-boot.ts";
import type { LayoutFile, MediaLayout } from "../../core/types.ts";
import { loadBootLoaderBuild } from "../boot-loader/index.ts";
import { chainFile, debianGrubSbat, DISK_INFO_PATH, SHIM_LOADER_PATH } from "./debian-chain.ts";
import { signPe } from "./sign-pe.ts";
import type { Signer } from "./signing-key.ts";

type Source = LayoutFile["source"];

async function fileSource(path: string): Promise<{ size: number; source: Source }> {
  return { size: (await stat(path)).size, source: { kind: "file", path } };
}

function bytesSource(data: Uint8Array): { size: number; source: Source } {
  return { size: data.length, source: { kind: "bytes", data } };
}

/** shim and its loader for `chain`: Debian's signed pair, or shim and bootmedia's GRUB signed by `signer`. */
async function chainBinaries(
  chain: Exclude<SbChain, "unsigned">,
  signer: Signer | undefined,
  contentCacheDir: string,
  log: (line: string) => void,
) {
  if (chain === "signed")
    return { shim: await fileSource(chainFile("shimSigned")), loader: await fileSource(chainFile("grubSigned")) };
  if (!signer) throw new Error("the own-key chain needs its signer (the spec's secureBoot.signing)");
  const { bootLoaderCacheDir, ensureSbatGrub } = await loadBootLoaderBuild();
  const grub = await ensureSbatGrub(bootLoaderCacheDir(contentCacheDir), chainFile("grubSigned"), debianGrubSbat, log);
  const shim = await signPe(await readFile(chainFile("shimUnsigned")), signer, "shim (shim-unsigned's shimx64.efi)");
  const loader = await signPe(await readFile(grub), signer, "bootmedia's x64 GRUB");
  return { shim: bytesSource(shim), loader: bytesSource(loader) };
}

export async function layoutChain(
  layout: MediaLayout,
  chain: Exclude<SbChain, "unsigned">,
  signer: Signer | undefined,
  contentCacheDir: string,
  log: (line: string) => void,
): Promise<MediaLayout> {
  const volume = layout.volumes[0]!;
  const boot = volume.boot.find((b) => b.role === "uefi-x64");
  if (!boot) {
    log(`no x64 UEFI boot file on the media (no x64 boot image): the ${chain} chain has nothing to start`);
    return layout;
  }
  const { shim, loader } = await chainBinaries(chain, signer, contentCacheDir, log);
  volume.entries = volume.entries.map((e) => (e.type === "file" && e.path === boot.path ? { ...e, ...shim } : e));
  volume.entries.push({ type: "file", path: SHIM_LOADER_PATH, ...loader });
  volume.boot.push({ firmware: "uefi", arch: "x64", role: "uefi-x64-loader", path: SHIM_LOADER_PATH });
  volume.entries.push({
    type: "file",
    path: DISK_INFO_PATH,
    ...bytesSource(new TextEncoder().encode(`bootmedia ${layout.config.id} (Secure Boot chain: ${chain})\n`)),
  });
  log(
    `${chain} chain: ${boot.path} is shim${chain === "own-key" ? ` signed by ${signer!.subject}` : " (signed by Microsoft's UEFI CA)"}, ${SHIM_LOADER_PATH} is ${chain === "signed" ? "Debian's signed GRUB" : `bootmedia's GRUB signed by ${signer!.subject}`}`,
  );
  return layout;
}
