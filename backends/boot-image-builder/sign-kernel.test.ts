/**
 * The signing step of `boot-image build --signing-key`, on a Debian-signed PE (Debian's signed
 * GRUB: same CA and format as Debian's kernel, and always on a machine with the chain packages;
 * the real kernel is signed end to end in cli/commands/boot-image.e2e.test.ts). Oracles:
 * sbverify with the snakeoil certificate, Debian's CA (from shim by objcopy) and a stranger's.
 */
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isBootmediaError } from "../../base/errors.ts";
import { Redactor } from "../../core/secrets.ts";
import { loadSigner, type Signer } from "../../plugins/secure-boot/signing-key.ts";
import { signKernel } from "./sign-kernel.ts";
import {
  debianCa,
  otherCertificate,
  sbverifySubjects,
  sbverifyWith,
  SNAKEOIL,
} from "../../formats/pe/testing/oracles.ts";

const DEBIAN_SIGNED_PE = "/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed";
const SNAKEOIL_SUBJECT = "/C=US/ST=Colorado/L=Fort Collins/O=SnakeOil";
let dir: string;
let signer: Signer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "bm-sign-kernel-"));
  process.env.BM_TEST_SNAKEOIL_PASSWORD = SNAKEOIL.password;
  signer = await loadSigner(
    { key: { file: SNAKEOIL.key }, certificate: SNAKEOIL.cert, password: { env: "BM_TEST_SNAKEOIL_PASSWORD" } },
    dir,
    new Redactor(),
    "signing",
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("signKernel", () => {
  it("appends the snakeoil signature after Debian's: both verify (sbverify), a stranger's certificate does not", async () => {
    const out = join(dir, "signed.efi");
    const r = await signKernel(DEBIAN_SIGNED_PE, out, signer, "Debian's signed GRUB");
    expect(r).toMatchObject({ file: out, subject: SNAKEOIL_SUBJECT });
    expect(await sbverifySubjects(DEBIAN_SIGNED_PE)).toEqual(["/CN=Debian Secure Boot Signer 2022 - grub2"]);
    expect(await sbverifySubjects(out)).toEqual(["/CN=Debian Secure Boot Signer 2022 - grub2", SNAKEOIL_SUBJECT]);
    expect(r.signers).toEqual(await sbverifySubjects(out));
    expect(await sbverifyWith(SNAKEOIL.cert, out)).toEqual({ exitCode: 0, output: "Signature verification OK" });
    expect(await sbverifyWith(await debianCa(dir), out)).toEqual({ exitCode: 0, output: "Signature verification OK" });
    const other = await otherCertificate(dir);
    const bad = await sbverifyWith(other.cert, out);
    expect(bad.exitCode).not.toBe(0);
    expect(bad.output).toMatch(/Signature verification failed/);
  });

  it("BM4404 and no output file when the signature read back is not the signer's", async () => {
    const out = join(dir, "mismatch.efi");
    try {
      await signKernel(DEBIAN_SIGNED_PE, out, { ...signer, certificateSha256: "0".repeat(64) }, "Debian's signed GRUB");
      expect.unreachable();
    } catch (e) {
      expect(isBootmediaError(e) && e.code).toBe("BM4404");
    }
    await expect(stat(out)).rejects.toThrow(/ENOENT/);
  });
});
