/**
 * The two Secure Boot chains on real media, built by the CLI from the reference spec and read
 * back by independent tools only: xorriso (ISO tree, El Torito EFI image), sfdisk + mtools
 * (the ESP image, the USB FAT), sbverify (signatures), objcopy (.sbat), openssl (the key text
 * that must appear nowhere), cmp against Debian's files. `bootmedia inspect` must name the chain.
 */
import { execa } from "execa";
import { X509Certificate } from "node:crypto";
import { copyFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { referenceImages } from "../../testing/reference-fixtures.ts";
import { objcopySection, otherCertificate, sbverifySubjects } from "../../formats/pe/testing/oracles.ts";
import { bootmedia } from "../../testing/cli.ts";
import { DEBIAN_CHAIN_FILES } from "./debian-chain.ts";
import {
  buildReference,
  extractIsoEsp,
  extractIsoTree,
  firstPartitionOffset,
  mcopyOut,
  mtoolsFiles,
  ownKeyArgs,
  ownKeyEnv,
  sbverifyCert,
  sbverifyList,
  snakeoilKeyTexts,
  SNAKEOIL,
  type Built,
} from "./testing/chain-media.ts";

const SHIM_SIGNED = DEBIAN_CHAIN_FILES.shimSigned.path;
const GRUB_SIGNED = DEBIAN_CHAIN_FILES.grubSigned.path;
const EFI_FILES = ["EFI/BOOT/BOOTX64.EFI", "EFI/BOOT/grubx64.efi", "EFI/BOOT/BOOTIA32.EFI"];

let work: string;
const built: Record<"unsigned" | "signed" | "signedUsb" | "ownIso" | "ownUsb", Built> = {} as never;
/** Extracted copies: where[media][place] is a folder holding EFI/BOOT/... as that place has them. */
const where: Record<string, Record<string, string>> = {};
/** An RSA certificate of another key (openssl), which must not verify the own-key binaries. */
let otherCert: string;
/** The snakeoil certificate's subject as sbverify prints the signers (openssl's compat one-line form). */
let snakeoilSubject: string;

beforeAll(async () => {
  await referenceImages();
  work = await mkdtemp(join(tmpdir(), "bm-sb-chain-"));
  const cache = join(work, "cache");
  const ownEnv = await ownKeyEnv();
  // Five independent builds (the cache is safe to share: files enter it by rename), then
  // their independent extractions, side by side: each spends much of its time waiting on
  // its child processes and the disk.
  [built.unsigned, built.signed, built.signedUsb, built.ownIso, built.ownUsb] = await Promise.all([
    buildReference(join(work, "unsigned.iso"), cache, []),
    buildReference(join(work, "signed.iso"), cache, ["--secure-boot-chain", "signed"]),
    buildReference(join(work, "signed.img"), cache, ["--secure-boot-chain", "signed", "--target", "usb"]),
    buildReference(join(work, "own.iso"), cache, ownKeyArgs("env"), ownEnv),
    buildReference(join(work, "own.img"), cache, [...ownKeyArgs("file"), "--target", "usb"], ownEnv),
  ]);
  for (const [name, b] of Object.entries(built))
    if (b.exitCode !== 0) throw new Error(`building ${name} failed: ${b.stderr}`);

  const fromIso = async (name: "unsigned" | "signed" | "ownIso") => {
    const iso = built[name].out;
    const esp = await extractIsoEsp(iso, join(work, `${name}.esp.img`));
    where[name] = {
      tree: await extractIsoTree(iso, join(work, `${name}.tree`)),
      esp: await mcopyOut(
        esp,
        (await mtoolsFiles(esp)).filter((f) => f.startsWith("EFI/")),
        join(work, `${name}.esp`),
      ),
    };
  };
  const fromUsb = async (name: "signedUsb" | "ownUsb") => {
    const usb = built[name].out;
    where[name] = {
      fat: await mcopyOut(
        usb,
        EFI_FILES.concat(".disk/info", "boot/grub/grub.cfg"),
        join(work, `${name}.fat`),
        await firstPartitionOffset(usb),
      ),
    };
  };
  await Promise.all([
    fromIso("unsigned"),
    fromIso("signed"),
    fromIso("ownIso"),
    fromUsb("signedUsb"),
    fromUsb("ownUsb"),
  ]);

  otherCert = (await otherCertificate(work)).cert;
  snakeoilSubject = (
    await execa("openssl", ["x509", "-in", SNAKEOIL.cert, "-noout", "-subject", "-nameopt", "compat"])
  ).stdout
    .replace(/^subject=/, "")
    .trim();
}, 600_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const bytes = (path: string) => readFile(path);

describe("signed chain (ISO and USB)", () => {
  it("EFI/BOOT/BOOTX64.EFI is Debian's Microsoft-signed shim and grubx64.efi Debian's signed CD GRUB, in the ISO tree, the El Torito EFI image and the USB FAT", async () => {
    for (const [place, dir] of [
      ["tree", where.signed!.tree!],
      ["esp", where.signed!.esp!],
      ["usb", where.signedUsb!.fat!],
    ] as const) {
      expect(
        (await bytes(join(dir, "EFI/BOOT/BOOTX64.EFI"))).equals(await bytes(SHIM_SIGNED)),
        `${place} BOOTX64.EFI`,
      ).toBe(true);
      expect(
        (await bytes(join(dir, "EFI/BOOT/grubx64.efi"))).equals(await bytes(GRUB_SIGNED)),
        `${place} grubx64.efi`,
      ).toBe(true);
    }
  });

  it("keeps the rest as the boot loader made it: /.disk/info added, grub.cfg and the ia32 GRUB unchanged and unsigned", async () => {
    const tree = where.signed!.tree!;
    expect(await readFile(join(tree, ".disk/info"), "utf8")).toMatch(/Secure Boot chain: signed/);
    expect(
      (await bytes(join(tree, "boot/grub/grub.cfg"))).equals(
        await bytes(join(where.unsigned!.tree!, "boot/grub/grub.cfg")),
      ),
    ).toBe(true);
    expect(await readFile(join(where.signedUsb!.fat!, ".disk/info"), "utf8")).toMatch(/Secure Boot chain: signed/);
    expect((await bytes(join(where.signedUsb!.fat!, "boot/grub/grub.cfg"))).length).toBeGreaterThan(0);
    expect(await sbverifyList(join(where.signedUsb!.fat!, "EFI/BOOT/BOOTIA32.EFI"))).toMatch(
      /No signature table present/,
    );
    for (const place of ["tree", "esp"]) {
      const ia32 = join(where.signed![place]!, "EFI/BOOT/BOOTIA32.EFI");
      expect(
        (await bytes(ia32)).equals(await bytes(join(where.unsigned![place]!, "EFI/BOOT/BOOTIA32.EFI"))),
        `${place} BOOTIA32.EFI is bootmedia's`,
      ).toBe(true);
      const list = await sbverifyList(ia32);
      expect(list, place).toMatch(/No signature table present/);
      expect(list, place).not.toMatch(/^signature \d/m);
    }
    // The unsigned build has neither shim's loader nor /.disk/info: the chain put them there.
    expect(await mtoolsFiles(join(work, "unsigned.esp.img"))).not.toContain("EFI/BOOT/grubx64.efi");
  });

  it("the kernel on the media is Debian's signed one, as the chain requires", async () => {
    expect(await sbverifySubjects(join(where.signed!.tree!, "boot/x64/vmlinuz"))).toEqual([
      "/CN=Debian Secure Boot Signer 2022 - linux",
    ]);
  });

  it("inspect names the chain signed for BOOTX64.EFI, in the tree and in the El Torito image, and the ia32 loader unsigned", async () => {
    const r = await bootmedia(["inspect", built.signed.out]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^ {2}chain of EFI\/BOOT\/BOOTX64\.EFI: signed \(/m);
    expect(r.stdout).toMatch(/^ {2}chain of <eltorito-efi@\d+>\/EFI\/BOOT\/BOOTX64\.EFI: signed \(/m);
    expect(r.stdout).toMatch(/^ {2}chain of EFI\/BOOT\/BOOTIA32\.EFI: unsigned/m);
    expect(r.stdout).toContain((await sbverifySubjects(GRUB_SIGNED))[0]);
  });
  it("inspect says no chain when shim's loader is missing (the signed USB image without grubx64.efi, deleted by mtools)", async () => {
    const broken = join(work, "signed-no-loader.img");
    await copyFile(built.signedUsb.out, broken);
    await execa("mdel", ["-i", `${broken}@@${await firstPartitionOffset(broken)}`, "::/EFI/BOOT/grubx64.efi"], {
      env: { MTOOLS_SKIP_CHECK: "1" },
    });
    const r = await bootmedia(["inspect", broken]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(
      /^ {2}chain of EFI\/BOOT\/BOOTX64\.EFI: none \(a signed shim without its loader: no EFI\/BOOT\/grubx64\.efi beside it/m,
    );
    // The intact image, read the same way, names the chain.
    expect((await bootmedia(["inspect", built.signedUsb.out])).stdout).toMatch(
      /^ {2}chain of EFI\/BOOT\/BOOTX64\.EFI: signed \(/m,
    );
  });
});

describe("own-key chain with the snakeoil key (ISO and USB)", () => {
  const places = () =>
    [
      ["ISO tree", where.ownIso!.tree!],
      ["ISO El Torito image", where.ownIso!.esp!],
      ["USB FAT", where.ownUsb!.fat!],
    ] as const;

  it("sbverify --cert accepts BOOTX64.EFI and grubx64.efi with the snakeoil certificate, and refuses them with another one", async () => {
    for (const [place, dir] of places()) {
      for (const f of ["EFI/BOOT/BOOTX64.EFI", "EFI/BOOT/grubx64.efi"]) {
        const good = await sbverifyCert(join(dir, f), SNAKEOIL.cert);
        expect(good.output, `${place} ${f}`).toMatch(/^Signature verification OK$/m);
        expect(good.ok, `${place} ${f}`).toBe(true);
        const bad = await sbverifyCert(join(dir, f), otherCert);
        expect(bad.ok, `${place} ${f} with another certificate`).toBe(false);
        expect(bad.output, `${place} ${f} with another certificate`).toMatch(/Signature verification failed/);
        expect(await sbverifySubjects(join(dir, f)), `${place} ${f}`).toEqual([snakeoilSubject]);
      }
    }
  });

  it("BOOTX64.EFI is shim-unsigned's shim (signed, not Microsoft's) and grubx64.efi carries Debian GRUB's .sbat byte for byte", async () => {
    const debianSbat = await objcopySection(GRUB_SIGNED, ".sbat", join(work, "debian.sbat"));
    expect(debianSbat.toString("latin1")).toMatch(/^grub\.debian,/m);
    const shimText = await objcopySection(DEBIAN_CHAIN_FILES.shimUnsigned.path, ".text", join(work, "shim.text"));
    for (const [place, dir] of places()) {
      const tag = place.replace(/\W/g, "-");
      expect(
        (await objcopySection(join(dir, "EFI/BOOT/grubx64.efi"), ".sbat", join(work, `${tag}.sbat`))).equals(
          debianSbat,
        ),
        `${place} .sbat`,
      ).toBe(true);
      expect(
        (await objcopySection(join(dir, "EFI/BOOT/BOOTX64.EFI"), ".text", join(work, `${tag}.text`))).equals(shimText),
        `${place} shim .text`,
      ).toBe(true);
      expect(
        (await bytes(join(dir, "EFI/BOOT/BOOTX64.EFI"))).equals(await bytes(SHIM_SIGNED)),
        `${place}: not the Microsoft-signed shim`,
      ).toBe(false);
      expect(await sbverifyList(join(dir, "EFI/BOOT/BOOTIA32.EFI")), `${place} BOOTIA32.EFI`).toMatch(
        /No signature table present/,
      );
    }
    expect(await readFile(join(where.ownUsb!.fat!, ".disk/info"), "utf8")).toMatch(/Secure Boot chain: own-key/);
    expect(await readFile(join(where.ownIso!.tree!, ".disk/info"), "utf8")).toMatch(/Secure Boot chain: own-key/);
  });

  it("inspect names the chain own-key with the snakeoil subject, on the ISO and on the USB image", async () => {
    for (const b of [built.ownIso, built.ownUsb]) {
      const r = await bootmedia(["inspect", b.out]);
      expect(r.exitCode, b.out).toBe(0);
      expect(r.stdout).toContain(`chain of EFI/BOOT/BOOTX64.EFI: own-key (signed by ${snakeoilSubject}`);
      expect(r.stdout).toContain(`signers: ${snakeoilSubject}`);
    }
    expect((await bootmedia(["inspect", built.ownIso.out])).stdout).toMatch(
      /chain of <eltorito-efi@\d+>\/EFI\/BOOT\/BOOTX64\.EFI: own-key \(signed by /,
    );
  });

  it("the key and its password appear nowhere: not on stdout, stderr, the build log nor in the media's bytes", async () => {
    const { plainLines, der, encryptedLines } = await snakeoilKeyTexts();
    expect(plainLines.length).toBeGreaterThan(20);
    // Control: the search finds what is there (the certificate rides in every signature).
    const certDer = new X509Certificate(await readFile(SNAKEOIL.cert)).raw;
    for (const b of [built.ownIso, built.ownUsb]) {
      const media = await readFile(b.out);
      expect(media.includes(certDer), `${b.out} carries the certificate`).toBe(true);
      expect(b.log, "the build log exists").toMatch(/own-key chain/);
      for (const [what, text] of [
        ["stdout", b.stdout],
        ["stderr", b.stderr],
        ["log", b.log],
      ] as const) {
        for (const line of [...plainLines, ...encryptedLines])
          expect(text.includes(line), `${b.out} ${what} holds a key line`).toBe(false);
        expect(text, `${b.out} ${what}`).not.toMatch(/PRIVATE KEY/);
        expect(text.includes(SNAKEOIL.password), `${b.out} ${what} holds the password`).toBe(false);
      }
      for (const line of [...plainLines, ...encryptedLines])
        expect(media.includes(line), `${b.out} holds the key line ${line}`).toBe(false);
      // The private key's DER (past the modulus, which the certificate carries too): 64-byte slices of its second half.
      for (let at = Math.floor(der.length / 2); at + 64 <= der.length; at += 64)
        expect(media.includes(der.subarray(at, at + 64)), `${b.out} holds the key's DER at ${at}`).toBe(false);
      expect(media.includes("PRIVATE KEY"), b.out).toBe(false);
      expect(media.includes(SNAKEOIL.password), `${b.out} holds the password`).toBe(false);
    }
  });
});
