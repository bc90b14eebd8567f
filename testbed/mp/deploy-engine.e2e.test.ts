/**
 * The disk steps in a real boot (TCG): reference media (x64 BIOS, CD) boot a QEMU machine with
 * a blank virtio disk; the agent asks the real management point for its policy and applies a
 * small real OS image (GPT, ext4 root with 8 MiB of incompressible bytes, zstd or xz) from the
 * real distribution point (serveLibrary, Range) through the guest network, writes its files,
 * and restarts (QEMU's -no-reboot ends the run). On BIOS the DP drops the connection half-way
 * through the image: the engine resumes with Range, and the DP's own request log shows the
 * bytes it sent, at most 1.1× the image. Oracles on the disk afterwards: sgdisk -v, sfdisk -J, fsck.ext4 -n and debugfs on the
 * root partition. The whole deploy case (second boot from the disk) is the testbed's.
 * Needs `npm run fixtures` and `npm run build`.
 */
import { execa } from "execa";
import { execFileSync } from "node:child_process";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startManagementPoint, type RunningMp } from "../../backends/mp/server.ts";
import { buildReferenceImages } from "../../fixtures/boot-images/build.ts";
import { serveLibrary, type LibraryServer } from "../../plugins/distribution-point/server.ts";
import { dropAfter } from "../../plugins/distribution-point/testing/faults.ts";
import { bootmedia } from "../../testing/cli.ts";
import { buildQemuArgs, PROFILES } from "../profiles.ts";
import { deployMediaSpec } from "../testing/deploy-media.ts";
import { planMpNetwork, withMpNetwork } from "./network.ts";
import { addTestOsImagePackage, makeTestOsImage, type TestOsImage } from "./testing/os-image.ts";

const GUEST_MAC = "52:54:00:12:34:56";
const PASSWORD = "Correct-Horse-Battery-9";

let dir = "";
let iso = "";
let image: TestOsImage;
let mp: RunningMp | undefined;
let dp: LibraryServer | undefined;

beforeAll(async () => {
  await buildReferenceImages({ log: () => {} });
  dir = await mkdtemp(join(tmpdir(), "bm-deploy-engine-"));
  writeFileSync(join(dir, "media.yaml"), deployMediaSpec({ name: "deploy" }));
  const built = await bootmedia(["build", join(dir, "media.yaml")], { env: { MEDIA_PW: PASSWORD }, cwd: dir });
  expect(built.exitCode, built.stderr).toBe(0);
  iso = join(dir, "deploy.iso");
  image = makeTestOsImage(join(dir, "image"), 64, { noiseMiB: 8 });
  addTestOsImagePackage(join(dir, "lib"), "OSI00001", image);
  addTestOsImagePackage(join(dir, "lib"), "OSI00002", image, "xz");
}, 600_000);
afterAll(async () => {
  await Promise.all([mp?.close(), dp?.close()]);
});

/** Boots the ISO with `disk` as a virtio disk; answers the password on the serial line; returns the markers. */
async function boot(
  profile: "x64-bios" | "x64-uefi",
  disk: string,
  varsPath?: string,
): Promise<Array<Record<string, unknown>>> {
  const network = planMpNetwork([
    { name: "MP1", url: mp!.url },
    { name: "DP1", url: dp!.url },
  ]);
  const args = withMpNetwork(
    buildQemuArgs({
      profile,
      media: { kind: "iso", path: iso },
      ...(varsPath ? { varsPath } : {}),
      nic: "e1000",
      qmpSocket: join(dir, "qmp.sock"),
      accel: "tcg",
      memoryMiB: 512,
    }),
    network,
  ).map((a) => (a.startsWith("e1000,netdev=") ? `${a},mac=${GUEST_MAC}` : a));
  args.push("-drive", `file=${disk},if=virtio,format=raw`);
  const qemu = execa("qemu-system-x86_64", args, { reject: false, timeout: 900_000, stdin: "pipe", buffer: false });
  const markers: Array<Record<string, unknown>> = [];
  let pending = "";
  qemu.stdout!.on("data", (chunk: Buffer) => {
    pending += chunk.toString("utf8");
    let nl = pending.indexOf("\n");
    while (nl >= 0) {
      const line = pending.slice(0, nl).replace(/\r$/, "");
      pending = pending.slice(nl + 1);
      nl = pending.indexOf("\n");
      const at = line.indexOf("BOOTMEDIA {");
      if (at < 0) continue;
      const m = JSON.parse(line.slice(at + 10)) as Record<string, unknown>;
      markers.push(m);
      if (m.event === "prompt" && m.for === "password") qemu.stdin!.write(`${PASSWORD}\n`);
    }
  });
  await qemu;
  writeFileSync(join(dir, `markers-${profile}.jsonl`), markers.map((m) => JSON.stringify(m)).join("\n"));
  return markers;
}

// BIOS: the zstd image, its first answer cut half-way (the engine resumes with Range);
// UEFI: the xz image, and a boot entry for the disk.
const CASES = [
  { profile: "x64-bios", pkg: "OSI00001", drop: true },
  { profile: "x64-uefi", pkg: "OSI00002", drop: false },
] as const;

describe.each(CASES)("apply-image in a real boot ($profile, $pkg)", ({ profile, pkg, drop }) => {
  it("a blank virtio disk gets the image, its GPT backup at the disk's end, the policy's hostname; then the restart marker", async () => {
    const der = readFileSync(iso.replace(/\.iso$/, ".cer")).toString("base64");
    await Promise.all([mp?.close(), dp?.close()]);
    const stored = readFileSync(join(dir, "lib/packages", pkg, "package.json"), "utf8");
    const storedSize = (JSON.parse(stored) as { files: Array<{ size: number }> }).files[0]!.size;
    const requests: string[] = [];
    dp = await serveLibrary({
      root: join(dir, "lib"),
      log: (l) => requests.push(l),
      ...(drop ? { intercept: dropAfter(Math.floor(storedSize / 2), (rel) => rel.includes(pkg)) } : {}),
    });
    mp = await startManagementPoint({
      site: {
        siteCode: "BM1",
        managementPoints: ["MP1"],
        library: join(dir, "lib"),
        distributionPoints: [{ name: "DP1", url: "http://10.0.2.101" }],
        computers: [{ name: "PC-DISK", mac: GUEST_MAC }],
        taskSequences: [
          {
            id: "BM200010",
            name: "Deploy",
            steps: [
              { name: "Pick the disk", type: "select-disk" },
              { name: "Apply the image", type: "apply-image", package: pkg },
              { name: "Name it", type: "write-files", files: [{ path: "/etc/motd", content: "%OSDComputerName%\n" }] },
              { name: "Restart", type: "restart" },
            ],
          },
        ],
        deployments: [{ id: "DEP-DISK", taskSequence: "BM200010", target: "all" }],
        certificates: [{ der }],
      },
      name: "MP1",
      stateDir: join(dir, `state-${profile}`),
    } as Parameters<typeof startManagementPoint>[0]);
    const disk = join(dir, `blank-${profile}.raw`);
    execFileSync("truncate", ["-s", "96M", disk]);
    const flash = PROFILES[profile].flash;
    const vars = flash ? join(dir, `vars-${profile}.fd`) : undefined;
    if (flash && vars) copyFileSync(flash.vars, vars);
    const markers = await boot(profile, disk, vars);
    const steps = markers.filter((m) => m.event === "step").map((m) => `${m.index}:${m.state}`);
    expect(steps, JSON.stringify(markers.at(-1))).toEqual([
      "1:start",
      "1:success",
      "2:start",
      "2:success",
      "3:start",
      "3:success",
      "4:start",
      "4:success",
    ]);
    // Every stored byte fetched once: one connection, or two when the first was cut.
    const applied = readFileSync(join(dir, `state-${profile}`, "journal.jsonl"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { t: string; event?: { step: number; state: string; message?: string } })
      .find((r) => r.t === "status" && r.event?.step === 2 && r.event.state === "success");
    expect(applied?.event?.message).toContain(`; ${storedSize} bytes in ${drop ? 2 : 1} connection(s); sha256 ok`);
    // The DP's side: its request log's body bytes (what it wrote, the cut answer up to the cut).
    const served = requests.filter((l) => l.includes(pkg));
    expect(served).toHaveLength(drop ? 2 : 1);
    if (drop) expect(served[0]).toMatch(new RegExp(` ${Math.floor(storedSize / 2)} cut$`));
    const sent = served.reduce((n, l) => n + Number(l.split(" ")[3]), 0);
    expect(sent).toBeGreaterThanOrEqual(storedSize);
    expect(sent).toBeLessThanOrEqual(1.1 * storedSize);
    expect(storedSize).toBeGreaterThan(8 * 1048576);
    process.stderr.write(
      `deploy-engine ${profile}: the DP sent ${sent} body bytes for a ${storedSize}-byte image (${(sent / storedSize).toFixed(4)}×) in ${served.length} answer(s)\n`,
    );
    expect(markers.at(-1)).toMatchObject({
      event: "restart",
      disk: "/dev/vda",
      computer: "PC-DISK",
      queued: 0,
      logSent: true,
    });

    expect(execFileSync("sgdisk", ["-v", disk], { encoding: "utf8" })).toContain("No problems found");
    const table = JSON.parse(execFileSync("sfdisk", ["-J", disk], { encoding: "utf8" })).partitiontable;
    expect(table.lastlba).toBe(96 * 2048 - 34);
    expect(table.partitions).toHaveLength(3);
    const p3 = table.partitions[2] as { start: number; size: number };
    expect(p3.start * 512).toBe(image.root.start);
    const root = join(dir, `root-${profile}.ext4`);
    execFileSync("dd", [`if=${disk}`, `of=${root}`, "bs=512", `skip=${p3.start}`, `count=${p3.size}`], {
      stdio: "pipe",
    });
    execFileSync("fsck.ext4", ["-n", "-f", root], { stdio: "pipe" });
    const cat = (path: string) =>
      execFileSync("debugfs", ["-R", `cat ${path}`, root], { encoding: "utf8", stdio: "pipe" });
    expect(cat("/etc/hostname")).toBe("PC-DISK\n");
    expect(cat("/etc/hosts")).toContain("127.0.1.1\tPC-DISK\n");
    expect(cat("/etc/motd")).toBe("PC-DISK\n");
    const env = cat("/var/lib/bootmedia/report.env");
    expect(env).toContain("BM_DEPLOYMENT_ID='DEP-DISK'");
    expect(env).toContain("BM_MP='http://10.0.2.100'");
    expect(cat("/var/lib/bootmedia/report.key")).toContain("BEGIN PRIVATE KEY");
    expect(cat("/var/lib/bootmedia/variables.env")).toContain("OSDTargetDisk='/dev/vda'");
    if (flash && vars) {
      expect(markers.at(-1)!.bootEntry).toMatch(/^[0-9A-F]{4}$/);
      // Oracle: the firmware's variable store holds the new entry's description (UTF-16LE).
      expect(readFileSync(vars).includes(Buffer.from("bootmedia: installed system", "utf16le"))).toBe(true);
    } else expect(markers.at(-1)!.bootEntry).toBeNull();
  }, 900_000);
});
