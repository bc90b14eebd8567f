/**
 * The boot environment on stand-alone media (plugins/boot-image/agent/lib/standalone.sh with the
 * task-sequence engine), on the host under busybox sh, against media the real CLI built (a folder
 * target: the files the boot environment mounts). The password goes through the real unlock
 * script and the content keys come from `openssl kdf`; only mount, reboot and the device folder
 * are stand-ins. Oracles: sha256sum of the OS image against the disk file's bytes, sgdisk -v,
 * the media's log folder read as files. The same in QEMU with no NIC: testbed/standalone.e2e.test.ts.
 */
import { execa } from "execa";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_INIT, AGENT_LIBS, UNLOCK_SCRIPT } from "../boot-image/agent-files.ts";
import { bootmedia } from "../../testing/cli.ts";
import { testLibrary, type TestLibrary } from "./testing/library.ts";

const PW = "Stand-Alone-Pw-7";
const agent = readFileSync(AGENT_INIT, "utf8");
const helpers = agent.slice(agent.indexOf("json_str()"), agent.indexOf("mount_basics()"));
const MiB = 2 ** 20;

const STEPS = `steps:
  - { name: Choose the disk, type: select-disk }
  - { name: Apply the image, type: apply-image, package: OSI00001 }
  - { name: Read the tools, type: run-command, package: PKG00001, command: "sh run.sh %OSDTimeZone%" }
  - { name: Restart into it, type: restart }
`;

let lib: TestLibrary;
let bin: string;
let runs = 0;
beforeAll(async () => {
  lib = await testLibrary(STEPS);
  const tools = join(lib.dir, "tools");
  await mkdir(tools);
  await writeFile(join(tools, "run.sh"), 'echo "tools: $(cat hello.txt), zone $1"\n');
  await writeFile(join(tools, "hello.txt"), "hello from the media\n");
  const added = await bootmedia(["library", "add", lib.library, tools, "--type", "prestart", "--id", "PKG00001"]);
  if (added.exitCode !== 0) throw new Error(added.stderr);
  // The initramfs's PATH: busybox applets, openssl, sfdisk, the unlock script.
  bin = join(lib.dir, "bin");
  mkdirSync(bin);
  execFileSync("/bin/busybox", ["--install", "-s", bin]);
  for (const tool of ["/usr/bin/openssl", "/usr/sbin/sfdisk"])
    execFileSync("ln", ["-s", tool, join(bin, tool.split("/").pop()!)]);
  execFileSync("ln", ["-s", UNLOCK_SCRIPT, join(bin, "bootmedia-unlock")]);
}, 180_000);
afterAll(async () => {
  if (lib && !process.env.BM_KEEP_TEST_DIR) await rm(lib.dir, { recursive: true, force: true });
});

async function buildMedia(name: string, extra: string, args: string[] = []): Promise<string> {
  const spec = await lib.spec(name, `{ type: directory, output: out/${name} }`, extra);
  const r = await bootmedia(["build", spec, "--cache-dir", join(lib.dir, "cache"), ...args], { env: { PW } });
  if (r.exitCode !== 0) throw new Error(r.stderr);
  return join(lib.dir, "out", name);
}

interface Run {
  markers: Array<Record<string, unknown> & { event: string }>;
  stdout: string;
  disk: string;
  target: string;
  media: string;
}

/** The boot from password to restart: unlock, open the media, run the task sequence. */
async function boot(media: string, answers: string): Promise<Run> {
  const work = join(lib.dir, `run-${++runs}`);
  const sys = join(work, "sys-block");
  const dev = join(work, "dev");
  mkdirSync(join(sys, "vda", "device"), { recursive: true });
  mkdirSync(dev);
  writeFileSync(join(sys, "vda", "size"), `${64 * 2048}\n`);
  writeFileSync(join(sys, "vda", "removable"), "0\n");
  execFileSync("truncate", ["-s", "64M", join(dev, "vda")]);
  const target = join(work, "target");
  mkdirSync(target);
  writeFileSync(join(work, "answers"), answers);
  const script = `say() { echo "BOOTMEDIA $1"; }
fail() { say "{\\"event\\":\\"error\\",\\"reason\\":\\"$1\\"\${2:+,$2}}"; exit 1; }
${helpers}
${AGENT_LIBS.map((f) => `. '${f}'`).join("\n")}
mount() { return 0; }
umount() { return 0; }
reboot() { echo "REBOOT $*"; exit 0; }
MEDIA='${media}' MEDIA_FS=vfat MEDIA_DEV=/dev/sdb1
SCREEN='${join(work, "screen.txt")}'
SECRETS_ENV='${join(work, "secrets.env")}' SA_RUN='${join(work, "sa")}' TS_DIR='${join(work, "ts")}'
TS_SYS_BLOCK='${sys}' TS_DEV='${dev}' TS_EFI_DIR='${join(work, "no-efi")}' TS_TARGET='${target}' TS_SCHED_DIR='${join(work, "no-sched")}' TS_PART_WAIT=0
. "$MEDIA/bootmedia/media.env"
exec 3<'${join(work, "answers")}'
unlock_media
standalone_open
run_task_sequence
echo after-engine`;
  writeFileSync(join(work, "boot.sh"), script);
  const r = await execa("/bin/busybox", ["sh", join(work, "boot.sh")], {
    reject: false,
    timeout: 100_000,
    extendEnv: false,
    env: { PATH: bin },
  });
  const markers = r.stdout
    .split("\n")
    .filter((l) => l.startsWith("BOOTMEDIA "))
    .map((l) => JSON.parse(l.slice(10)) as Run["markers"][number]);
  return { markers, stdout: `${r.stdout}\n${r.stderr}`, disk: join(dev, "vda"), target, media };
}

const steps = (r: Run) =>
  r.markers.filter((m) => m.event === "step" && m.state !== "start").map((m) => `${m.index} ${m.state}`);
const error = (r: Run) => r.markers.find((m) => m.event === "error");

/**
 * The sha256 of the image's partitions (from 1 MiB to its last usable sector) in `file`: the
 * engine moves the GPT backup to the disk's end, which changes the headers, never the partitions.
 */
function partitionsSha256(file: string): string {
  const bytes = 16 * MiB - 34 * 512 - MiB;
  return execFileSync("sh", ["-c", `tail -c +${MiB + 1} '${file}' | head -c ${bytes} | sha256sum`], {
    encoding: "utf8",
  }).split(" ")[0]!;
}

describe("the boot environment on stand-alone media", () => {
  let protectedMedia: string;
  beforeAll(async () => {
    protectedMedia = await buildMedia("prot", "security: { password: { env: PW } }\n");
  }, 120_000);

  it("deploys from protected media with no network: keys from the password, index.mac checked, the image decrypted onto the disk, the log on the media", async () => {
    const r = await boot(protectedMedia, `${PW}\n`);
    expect(error(r), r.stdout).toBeUndefined();
    const opened = r.markers.find((m) => m.event === "standalone");
    expect(opened).toMatchObject({ result: "ok", taskSequence: "TS000001", protected: true, discs: 1, files: 3 });
    expect(steps(r)).toEqual(["1 success", "2 success", "3 success", "4 success"]);
    // The disk holds the OS image's bytes (the oracles: sha256sum of the original, sgdisk).
    expect(partitionsSha256(r.disk)).toBe(partitionsSha256(lib.image));
    expect(execFileSync("sgdisk", ["-v", r.disk], { encoding: "utf8" })).toMatch(/No problems found/);
    expect(r.markers.find((m) => m.event === "restart")).toMatchObject({ deployment: "prot" });
    // The installed system's handoff: the deployment named, nothing to deliver.
    const handoff = join(r.target, "var/lib/bootmedia");
    expect(readFileSync(join(handoff, "report.env"), "utf8")).toContain("BM_DEPLOYMENT_ID='prot'");
    expect(existsSync(join(handoff, "delivered"))).toBe(true);
    expect(existsSync(join(handoff, "report.key"))).toBe(false);
    // Status events and the log in the media's log folder, and no password in them.
    const logs = readdirSync(join(r.media, "logs"));
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/^\d{8}T\d{6}Z-MININT-[0-9A-F]{7}-[0-9a-f]{16}$/);
    const folder = join(r.media, "logs", logs[0]!);
    const events = readFileSync(join(folder, "events.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(events.filter((e) => e.state !== "progress").map((e) => `${e.step} ${e.state}`)).toEqual([
      "1 start",
      "1 success",
      "2 start",
      "2 success",
      "3 start",
      "3 success",
      "4 start",
      "4 success",
      "0 success",
    ]);
    const log = readFileSync(join(folder, "engine.log"), "utf8");
    expect(log).toMatch(/apply-image: 16 MiB to \/dev\/vda in .* off the media, decrypted; tag ok/);
    expect(log).toContain("| tools: hello from the media, zone UTC");
    for (const text of [log, readFileSync(join(folder, "events.jsonl"), "utf8"), r.stdout])
      expect(text).not.toContain(PW);
    expect(r.markers.find((m) => m.event === "standalone-log")).toMatchObject({ path: `logs/${logs[0]}` });
    await rm(join(r.media, "logs"), { recursive: true });
  }, 120_000);

  it("a wrong password three times: the coded stop, no content key derived, nothing read or written", async () => {
    const r = await boot(protectedMedia, "Wrong-Pw-1\nWrong-Pw-2\nWrong-Pw-3\n");
    expect(error(r)).toMatchObject({ reason: "wrong-password" });
    expect(r.markers.filter((m) => m.event === "password").map((m) => m.result)).toEqual(["wrong", "wrong", "wrong"]);
    expect(r.markers.some((m) => m.event === "standalone" || m.event === "step")).toBe(false);
    expect(existsSync(join(r.disk, "..", "..", "sa", "keys"))).toBe(false);
    expect(execFileSync("sh", ["-c", `tr -d '\\000' <'${r.disk}' | wc -c`], { encoding: "utf8" }).trim()).toBe("0");
  }, 120_000);

  it("refuses media whose program was changed (index.mac): nothing decrypted, nothing written", async () => {
    const media = await buildMedia("tampered-ts", "security: { password: { env: PW } }\n");
    const file = join(media, "bootmedia/standalone/task-sequence.txt");
    writeFileSync(file, readFileSync(file, "utf8").replace("OSDTimeZone", "OSDTimeZonf"));
    const r = await boot(media, `${PW}\n`);
    expect(error(r)).toMatchObject({ reason: "standalone-tampered" });
    expect(r.markers.some((m) => m.event === "step")).toBe(false);
    expect(execFileSync("sh", ["-c", `tr -d '\\000' <'${r.disk}' | wc -c`], { encoding: "utf8" }).trim()).toBe("0");
  }, 120_000);

  it("wipes the disk when a byte of the encrypted image was changed on the media (its tag)", async () => {
    const media = await buildMedia("tampered-image", "security: { password: { env: PW } }\n");
    const stored = join(media, "bootmedia/content/OSI00001/disk.raw.enc");
    execFileSync("sh", ["-c", `printf 'X' | dd of='${stored}' bs=1 seek=9000000 conv=notrunc 2>/dev/null`]);
    const r = await boot(media, `${PW}\n`);
    expect(error(r)).toMatchObject({ reason: "task-sequence-failed", step: 2, code: "image-hash-mismatch" });
    expect(r.stdout).not.toContain("REBOOT");
    // The wipe: the disk's first MiBs are zero again (no partition table for a firmware to boot).
    expect(
      execFileSync("sh", ["-c", `head -c ${4 * MiB} '${r.disk}' | tr -d '\\000' | wc -c`], { encoding: "utf8" }).trim(),
    ).toBe("0");
    const folder = join(media, "logs", readdirSync(join(media, "logs"))[0]!);
    expect(readFileSync(join(folder, "engine.log"), "utf8")).toMatch(/HMAC is not the index's tag/);
  }, 120_000);

  it("deploys from unprotected media (--allow-unprotected) with the plaintext sha256 as the check", async () => {
    const media = await buildMedia("open", "", ["--allow-unprotected"]);
    const r = await boot(media, "");
    expect(error(r), r.stdout).toBeUndefined();
    expect(r.markers.find((m) => m.event === "standalone")).toMatchObject({ protected: false });
    expect(r.markers.find((m) => m.event === "password")).toMatchObject({ result: "not-required" });
    expect(steps(r)).toEqual(["1 success", "2 success", "3 success", "4 success"]);
    expect(partitionsSha256(r.disk)).toBe(partitionsSha256(lib.image));
  }, 120_000);
});
