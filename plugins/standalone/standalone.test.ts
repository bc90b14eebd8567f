/**
 * Stand-alone media through the real CLI. Oracles: the OpenSSL 3 command line decrypting a
 * package file as the boot environment would (testing/read-package.sh: streaming
 * `openssl enc -d -aes-256-ctr` and `openssl dgst -sha256 -mac HMAC`), sha256sum of the
 * original, grep of the raw USB image, fsck.fat and mtools.
 */
import { execFileSync } from "node:child_process";
import { closeSync, existsSync, openSync, writeSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkWithFsck } from "../../formats/fat/testing/oracles.ts";
import { bootmedia } from "../../testing/cli.ts";
import { bigPackageLibrary, DECRYPT_SCRIPT, MARKER, testLibrary, type TestLibrary } from "./testing/library.ts";

const PW = "Correct-Horse-9-battery";
const env = { PW };
let lib: TestLibrary;
beforeAll(async () => {
  lib = await testLibrary();
}, 120_000);
afterAll(async () => {
  if (lib) await rm(lib.dir, { recursive: true, force: true });
});

const sha256 = (file: string) => execFileSync("sha256sum", [file], { encoding: "utf8" }).split(" ")[0];
const build = (spec: string, ...args: string[]) =>
  bootmedia(["build", spec, "--cache-dir", join(lib.dir, "cache"), ...args], { env });
/** Decrypts PACKAGE/PATH of the media folder with the openssl CLI; the exit status of the script. */
function readPackage(root: string, pkg: string, path: string, out: string, password: string): number {
  try {
    execFileSync("sh", [DECRYPT_SCRIPT, root, pkg, path, out], {
      input: `${password}\n`,
      stdio: ["pipe", "pipe", "pipe"],
    });
    return 0;
  } catch (e) {
    return (e as { status: number }).status;
  }
}

describe("stand-alone media", () => {
  it("carry the task sequence, its OS image encrypted, and the variables; openssl decrypts the image while streaming", async () => {
    const spec = await lib.spec("dir", "{ type: directory, output: out/dir }", "security: { password: { env: PW } }\n");
    const r = await build(spec);
    expect(r.exitCode, r.stderr).toBe(0);
    const root = join(lib.dir, "out/dir");
    expect(await readFile(join(root, "bootmedia/media.env"), "utf8")).toContain("BM_MEDIA_TYPE='standalone'");
    const program = await readFile(join(root, "bootmedia/standalone/task-sequence.txt"), "utf8");
    expect(program.split("\n")[0]).toBe("bootmedia-steps\t1\t3");
    expect(program).toContain(`V\tOSDTimeZone\t${Buffer.from("UTC").toString("base64")}`);
    expect(program).toMatch(/^I\tOSI00001\tnone\t16777216\t/m);
    const index = JSON.parse(await readFile(join(root, "bootmedia/standalone/index.json"), "utf8"));
    expect(index.protection.cipher).toBe("aes-256-ctr");
    const file = index.packages[0].files[0];
    expect(file.pieces).toEqual([
      { n: 0, disc: 1, path: "bootmedia/content/OSI00001/disk.raw.enc", offset: 0, size: 16777216 },
    ]);
    // The stored bytes are not the image's, and hash to what the index says.
    const stored = join(root, file.pieces[0].path);
    expect(sha256(stored)).toBe(file.storedSha256);
    expect(sha256(stored)).not.toBe(sha256(lib.image));
    // The independent oracle: the OpenSSL CLI, streaming, gives back the original bytes.
    const out = join(lib.dir, "decrypted.raw");
    expect(readPackage(root, "OSI00001", "disk.raw", out, PW)).toBe(0);
    expect(sha256(out)).toBe(sha256(lib.image));
    // A wrong password fails index.mac before anything is decrypted; so does a changed step.
    expect(readPackage(root, "OSI00001", "disk.raw", out, "Wrong-Horse-9-battery")).toBe(5);
    const tsFile = join(root, "bootmedia/standalone/task-sequence.txt");
    await writeFile(tsFile, program.replace("\tselect-disk\t", "\trestart\t"));
    expect(readPackage(root, "OSI00001", "disk.raw", out, PW)).toBe(5);
    await writeFile(tsFile, program);
    const log = await readFile(join(lib.dir, "out/dir.bootmedia.log"), "utf8");
    expect(log).toMatch(/\[standalone\] task sequence TS000001: 3 steps; 1 packages, 1 files, 16777216 bytes/);
  }, 120_000);

  it("hold none of the image's known strings on protected USB media; unprotected ones do (the grep can fail)", async () => {
    const prot = await lib.spec(
      "usb-prot",
      "{ type: usb, output: out/prot.img }",
      "security: { password: { env: PW } }\n",
    );
    const open = await lib.spec(
      "usb-open",
      "{ type: usb, output: out/open.img }",
      "security: { allowUnprotected: true }\n",
    );
    const a = await build(prot);
    expect(a.exitCode, a.stderr).toBe(0);
    const b = await build(open);
    expect(b.exitCode, b.stderr).toBe(0);
    expect(b.stderr).toContain("BM6103");
    expect(await readFile(join(lib.dir, "out/open.img.bootmedia.log"), "utf8")).toContain("warning BM6103");
    const hits = (img: string) => {
      try {
        return Number(execFileSync("grep", ["-c", "-a", MARKER, img], { encoding: "utf8" }).trim());
      } catch (e) {
        return Number(String((e as { stdout: string }).stdout).trim()); // grep -c exits 1 with 0 hits
      }
    };
    expect(hits(join(lib.dir, "out/open.img"))).toBeGreaterThan(0);
    expect(hits(join(lib.dir, "out/prot.img"))).toBe(0);
    const fsck = await checkWithFsck(join(lib.dir, "out/prot.img"), 2 ** 20);
    expect(fsck.ok, fsck.output).toBe(true);
  }, 180_000);

  it("inspect shows them, --check rehashes the joined content (BM6109 when a byte changed), diff compares their facts", async () => {
    const a = await lib.spec("ia", "{ type: directory, output: out/ia }", "security: { password: { env: PW } }\n");
    const b = await lib.spec("ib", "{ type: directory, output: out/ib }", "security: { allowUnprotected: true }\n");
    expect((await build(a)).exitCode).toBe(0);
    expect((await build(b)).exitCode).toBe(0);
    const [ra, rb] = [join(lib.dir, "out/ia"), join(lib.dir, "out/ib")];
    const shown = await bootmedia(["inspect", ra, "--json"]);
    expect(shown.exitCode, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout).standalone).toMatchObject({
      taskSequence: { id: "TS000001", steps: 3 },
      protected: true,
      packages: [{ id: "OSI00001", files: [{ path: "disk.raw", size: 16777216, pieces: 1 }] }],
    });
    const text = await bootmedia(["inspect", rb]);
    expect(text.stdout).toContain("NOT PROTECTED");
    expect(text.stdout).toContain("BM6103");
    const ok = await bootmedia(["inspect", ra, "--check", "--json"]);
    expect(ok.exitCode, ok.stdout).toBe(0);
    expect(JSON.parse(ok.stdout).standalone).toEqual({ filesChecked: 1, bytesChecked: 16777216 });
    // One byte of the ciphertext changed: the joined bytes no longer hash to the index.
    const stored = join(ra, "bootmedia/content/OSI00001/disk.raw.enc");
    const fd = openSync(stored, "r+");
    writeSync(fd, Buffer.from([0x55]), 0, 1, 9_000_000);
    closeSync(fd);
    // The boot environment's reading fails the tag at the end of the stream.
    expect(readPackage(ra, "OSI00001", "disk.raw", join(lib.dir, "tampered.raw"), PW)).toBe(4);
    const bad = await bootmedia(["inspect", ra, "--check"]);
    expect(bad.exitCode).toBe(1);
    expect(bad.stdout).toContain("BM6109");
    const diff = await bootmedia(["diff", ra, rb, "--json"]);
    expect(diff.exitCode).toBe(1);
    const changes = JSON.parse(diff.stdout).differences.filter((d: { area: string }) => d.area === "standalone");
    // Same package bytes (plaintext), other protection: the content itself is not reported.
    expect(changes).toEqual([expect.objectContaining({ item: "protection", a: "aes-256-ctr", b: "none" })]);
  }, 180_000);

  it("plan shows each package file's pieces and disc from the manifests alone", async () => {
    const size = 9 * 2 ** 30;
    const other = await bigPackageLibrary(size);
    try {
      const spec = await other.spec(
        "plan",
        "{ type: usb, output: out/plan.img }",
        "security: { password: { env: PW } }\n",
      );
      const r = await bootmedia(["plan", spec, "--json"], { env });
      expect(r.exitCode, r.stderr).toBe(0);
      const piece = 4095 * 2 ** 20;
      expect(JSON.parse(r.stdout).standalone.files).toEqual([
        {
          package: "BIG00002",
          file: "data/big.wim.enc",
          size,
          pieces: [0, 1, 2].map((n) => ({
            path: `bootmedia/content/BIG00002/data/big.wim.enc.00${n}`,
            size: n < 2 ? piece : size - 2 * piece,
            disc: 1,
          })),
        },
      ]);
      const text = await bootmedia(["plan", spec], { env });
      expect(text.stdout).toContain("BIG00002/data/big.wim.enc  9663676416 bytes in 3 pieces");
    } finally {
      await rm(other.dir, { recursive: true, force: true });
    }
  }, 120_000);

  it("refuse bad input with a code, exit 1 and nothing written", async () => {
    const cases: Array<[string, string, string, string]> = [
      ["no-pw", "{ type: directory, output: out/no-pw }", "", "BM6102"],
      ["small", "{ type: usb, output: out/small.img, size: 8MiB }", "security: { password: { env: PW } }\n", "BM6104"],
      ["cd", "{ type: iso, output: out/cd.iso, capacity: 1000000 }", "security: { password: { env: PW } }\n", "BM6105"],
    ];
    for (const [name, target, extra, code] of cases) {
      const r = await build(await lib.spec(name, target, extra));
      expect(r.exitCode, `${name}: ${r.stderr}`).toBe(1);
      expect(r.stderr, name).toContain(code);
      expect(existsSync(join(lib.dir, "out", name)) || existsSync(join(lib.dir, "out", `${name}.img`))).toBe(false);
      expect(existsSync(join(lib.dir, "out", `${name}.iso`))).toBe(false);
    }
  }, 180_000);

  it("refuse a task sequence without steps (BM6107) and an apply-image of a package that is no OS image (BM6108)", async () => {
    const noSteps = (
      await readFile(
        await lib.spec("nosteps", "{ type: directory, output: out/nosteps }", "security: { password: { env: PW } }\n"),
        "utf8",
      )
    ).replace("taskSequence: TS000001", "taskSequence: OSI00001");
    const file = join(lib.dir, "nosteps.yaml");
    await writeFile(file, noSteps);
    const r = await build(file);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("BM6107");
    expect(existsSync(join(lib.dir, "out/nosteps"))).toBe(false);
    const other = await testLibrary(`steps:
  - { name: Apply a boot image, type: apply-image, package: BM100001 }
`);
    try {
      const spec = await other.spec(
        "notos",
        "{ type: directory, output: out/notos }",
        "security: { password: { env: PW } }\n",
      );
      const s = await bootmedia(["build", spec, "--cache-dir", join(other.dir, "cache")], { env });
      expect(s.exitCode).toBe(1);
      expect(s.stderr).toContain("BM6108");
      expect(existsSync(join(other.dir, "out/notos"))).toBe(false);
    } finally {
      await rm(other.dir, { recursive: true, force: true });
    }
  }, 120_000);

  it("refuse a step whose package the library lacks (BM6101), naming the step", async () => {
    const other = await testLibrary(`steps:
  - { name: Apply the image, type: apply-image, package: OSI00001 }
  - { name: Install the agent, type: run-command, command: sh install.sh, package: PKG404 }
`);
    try {
      const spec = await other.spec(
        "missing",
        "{ type: directory, output: out/missing }",
        "security: { password: { env: PW } }\n",
      );
      const r = await bootmedia(["build", spec, "--cache-dir", join(other.dir, "cache")], { env });
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain("BM6101");
      expect(r.stderr).toContain('step "Install the agent" uses package PKG404');
      expect(existsSync(join(other.dir, "out/missing"))).toBe(false);
    } finally {
      await rm(other.dir, { recursive: true, force: true });
    }
  }, 120_000);
});
