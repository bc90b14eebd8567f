import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_KDF,
  openSecrets,
  readSecretsHeader,
  sealSecrets,
  SECRETS_HEADER_SIZE,
  SECRETS_TAG_SIZE,
} from "./secret-box.ts";
import { makeVerifier } from "../password/password-plugin.ts";

const UNLOCK = fileURLToPath(new URL("./agent/bootmedia-unlock.sh", import.meta.url));
const FAST = { log2N: 12, r: 8, p: 1 };
const SALT = Buffer.alloc(32, 0x5a);
const PLAINTEXT = Buffer.from(
  "BM_VAR_DomainJoinPassword='s3cr3t-Join!'\nBM_MEDIA_KEY='-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----'\n",
);

/** A media folder holding only what the unlock script reads. */
async function mediaWith(password: string, secrets: Buffer | undefined) {
  const root = await mkdtemp(join(tmpdir(), "bm-unlock-"));
  await mkdir(join(root, "bootmedia"));
  await writeFile(
    join(root, "bootmedia/password.sha512crypt"),
    makeVerifier(password, Buffer.from("fedcba9876543210"), 5000) + "\n",
  );
  if (secrets) await writeFile(join(root, "bootmedia/secrets.enc"), secrets);
  return root;
}

// The oracle: busybox sh + the OpenSSL 3 command line, as in the boot environment.
const unlock = (root: string, password: string) =>
  execa("busybox", ["sh", UNLOCK, root, join(root, "out/secrets.env")], { input: password + "\n", reject: false });

describe("secrets.enc", () => {
  it("round-trips, is deterministic, and fails with BM3414 on a wrong password", () => {
    const sealed = sealSecrets(PLAINTEXT, "Right-Password-1", SALT, FAST);
    expect(sealSecrets(PLAINTEXT, "Right-Password-1", SALT, FAST)).toEqual(sealed);
    expect(readSecretsHeader(sealed).kdf).toEqual(FAST);
    expect(sealed.length).toBe(SECRETS_HEADER_SIZE + Math.ceil((PLAINTEXT.length + 1) / 16) * 16 + SECRETS_TAG_SIZE);
    expect(openSecrets(sealed, "Right-Password-1")).toEqual(PLAINTEXT);
    expect(() => openSecrets(sealed, "Right-Password-2")).toThrow(expect.objectContaining({ code: "BM3414" }));
    expect(sealed.includes(Buffer.from("s3cr3t-Join!"))).toBe(false);
  });

  it("detects any altered byte (header, body or tag)", () => {
    const sealed = sealSecrets(PLAINTEXT, "Right-Password-1", SALT, FAST);
    for (const at of [20, SECRETS_HEADER_SIZE + 3, sealed.length - 1]) {
      const bad = Buffer.from(sealed);
      bad[at]! ^= 1;
      expect(() => openSecrets(bad, "Right-Password-1"), `byte ${at}`).toThrow(
        expect.objectContaining({ code: "BM3414" }),
      );
    }
  });

  it("opens with busybox sh + openssl (default scrypt parameters); a wrong password exits 3", async () => {
    const root = await mediaWith("Right-Password-1", sealSecrets(PLAINTEXT, "Right-Password-1", SALT, DEFAULT_KDF));
    const ok = await unlock(root, "Right-Password-1");
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(await readFile(join(root, "out/secrets.env"))).toEqual(PLAINTEXT);
    expect((await unlock(root, "Wrong-Password-1")).exitCode).toBe(3);
  });

  it("the unlock script refuses a tampered secrets.enc (exit 4) even with the right password", async () => {
    const sealed = sealSecrets(PLAINTEXT, "Right-Password-1", SALT, FAST);
    sealed[SECRETS_HEADER_SIZE + 5]! ^= 0x80;
    const root = await mediaWith("Right-Password-1", sealed);
    expect((await unlock(root, "Right-Password-1")).exitCode).toBe(4);
  });

  it("without secrets.enc the script only checks the password", async () => {
    const root = await mediaWith("Right-Password-1", undefined);
    expect((await unlock(root, "Right-Password-1")).exitCode).toBe(0);
    expect((await unlock(root, "Right-Password-")).exitCode).toBe(3);
  });
});
