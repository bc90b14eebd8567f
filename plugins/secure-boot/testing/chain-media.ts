/**
 * Media with a Secure Boot chain built by the real CLI from the reference spec (the reference
 * boot images BM100086 x86 + BM100064 x64), and what independent tools read back from them:
 * xorriso (the ISO tree and its El Torito EFI image), sfdisk + mtools (the USB image's FAT),
 * never bootmedia's own readers.
 */
import { execa } from "execa";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { bootmedia, ROOT } from "../../../testing/cli.ts";
import { SNAKEOIL, sbverifyWith } from "../../../formats/pe/testing/oracles.ts";

const REFERENCE_SPEC = join(ROOT, "fixtures/specs/reference.yaml");
export { SNAKEOIL };
/** A fixed build date: outputs comparable between builds. */
const BUILD_ENV = { SOURCE_DATE_EPOCH: "1764000000" };
/** The env variables the own-key builds read the snakeoil key and its password from. */
const KEY_ENV = "BM_TEST_SB_KEY";
const PASSWORD_ENV = "BM_TEST_SB_PASSWORD";
const MTOOLS_ENV = { MTOOLS_SKIP_CHECK: "1", LANG: "C.UTF-8", LC_ALL: "C.UTF-8" };

/** `--secure-boot-chain own-key` with the snakeoil key (by env or file), certificate and password (by env). */
export function ownKeyArgs(key: "env" | "file" = "env"): string[] {
  return [
    "--secure-boot-chain",
    "own-key",
    "--signing-key",
    key === "env" ? `env:${KEY_ENV}` : `file:${SNAKEOIL.key}`,
    "--signing-cert",
    SNAKEOIL.cert,
    "--signing-key-password",
    `env:${PASSWORD_ENV}`,
  ];
}

/** The env the own-key builds run with: the (encrypted) snakeoil key text and its password. */
export async function ownKeyEnv(password: string = SNAKEOIL.password): Promise<Record<string, string>> {
  return { ...BUILD_ENV, [KEY_ENV]: await readFile(SNAKEOIL.key, "utf8"), [PASSWORD_ENV]: password };
}

export interface Built {
  out: string;
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  /** The build log beside the output (`<out>.bootmedia.log`, or `.failed.bootmedia.log`), "" if none. */
  log: string;
}

/** `bootmedia build reference.yaml --out OUT ...args` with its own cache; never throws on failure. */
export async function buildReference(
  out: string,
  cache: string,
  args: string[],
  env: Record<string, string> = BUILD_ENV,
): Promise<Built> {
  const r = await bootmedia(["build", REFERENCE_SPEC, "--out", out, "--cache-dir", cache, "--quiet", ...args], { env });
  const logPath = [`${out}.bootmedia.log`, `${out}.failed.bootmedia.log`].find((p) => existsSync(p));
  return { out, ...r, log: logPath ? await readFile(logPath, "utf8") : "" };
}

/** The whole ISO tree, extracted by xorriso's osirrox into `dir` (made writable again for cleanup). */
export async function extractIsoTree(iso: string, dir: string): Promise<string> {
  await execa("xorriso", ["-osirrox", "on", "-indev", iso, "-extract", "/", dir], {
    stderr: "ignore",
    stdout: "ignore",
  });
  await execa("chmod", ["-R", "u+w", dir]);
  return dir;
}

/** The El Torito EFI image (`/boot/efi.img`), extracted by osirrox. */
export async function extractIsoEsp(iso: string, out: string): Promise<string> {
  await execa("xorriso", ["-osirrox", "on", "-indev", iso, "-extract", "/boot/efi.img", out], {
    stderr: "ignore",
    stdout: "ignore",
  });
  await chmod(out, 0o644);
  return out;
}

/** Byte offset of the first partition of a disk image, as sfdisk reads its partition table. */
export async function firstPartitionOffset(image: string): Promise<number> {
  const { stdout } = await execa("sfdisk", ["-J", image]);
  const t = JSON.parse(stdout).partitiontable as { sectorsize?: number; partitions: { start: number }[] };
  return t.partitions[0]!.start * (t.sectorsize ?? 512);
}

/** Copies `files` (paths in the FAT volume) out with mcopy into `dir`; `offset` for a volume inside a disk image. */
export async function mcopyOut(fat: string, files: string[], dir: string, offset = 0): Promise<string> {
  await mkdir(dir, { recursive: true });
  const image = offset ? `${fat}@@${offset}` : fat;
  for (const f of files) {
    await mkdir(join(dir, f, ".."), { recursive: true });
    await execa("mcopy", ["-n", "-i", image, `::/${f}`, join(dir, f)], { env: MTOOLS_ENV });
  }
  return dir;
}

/** Every file path mtools lists in a FAT volume. */
export async function mtoolsFiles(fat: string, offset = 0): Promise<string[]> {
  const { stdout } = await execa("mdir", ["-/", "-b", "-a", "-i", offset ? `${fat}@@${offset}` : fat, "::"], {
    env: MTOOLS_ENV,
  });
  return stdout
    .split("\n")
    .filter((l) => l && !l.endsWith("/"))
    .map((l) => l.replace(/^::\//, ""));
}

/** `sbverify --cert CERT FILE`: its exit code and output. */
export async function sbverifyCert(file: string, cert: string): Promise<{ ok: boolean; output: string }> {
  const r = await sbverifyWith(cert, file);
  return { ok: r.exitCode === 0, output: r.output };
}

/** `sbverify --list FILE` output (stdout and stderr). */
export async function sbverifyList(file: string): Promise<string> {
  const r = await execa("sbverify", ["--list", file], { reject: false, all: true });
  return String(r.all ?? "");
}

/** The lines of the snakeoil key's decrypted PEM body (openssl, not bootmedia), the private key's DER, and the encrypted PEM's body lines. */
export async function snakeoilKeyTexts(): Promise<{ plainLines: string[]; der: Buffer; encryptedLines: string[] }> {
  const pem = (await execa("openssl", ["pkey", "-in", SNAKEOIL.key, "-passin", `pass:${SNAKEOIL.password}`])).stdout;
  const der = (
    await execa("openssl", ["pkey", "-in", SNAKEOIL.key, "-passin", `pass:${SNAKEOIL.password}`, "-outform", "DER"], {
      encoding: "buffer",
      stripFinalNewline: false,
    })
  ).stdout;
  const body = (text: string) => text.split("\n").filter((l) => l && !l.startsWith("-----"));
  return { plainLines: body(pem), der: Buffer.from(der), encryptedLines: body(await readFile(SNAKEOIL.key, "utf8")) };
}
