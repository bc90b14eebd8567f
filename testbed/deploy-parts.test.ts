/**
 * The deploy case's parts without a deployment: disk sizes and buses, QEMU really attaching
 * the disk on each controller (QMP's query-pci / query-block are the oracle), DP guest
 * addresses, and the site's library served at the guest route (curl through QEMU's guestfwd
 * helper command is not needed: the route's host URL is fetched directly).
 */
import { mkdtemp, mkdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execa } from "execa";
import { buildQemuArgs, DISK_BUSES, DISK_SERIAL, type ProfileId } from "./profiles.ts";
import { checkDiskBus, createBlankDisk, parseDiskSize } from "./deploy-disk.ts";
import { dpGuestAddress, siteDistributionPoints, startCaseDistributionPoints } from "./deploy-dps.ts";
import { planMpNetwork } from "./mp/network.ts";
import { QmpClient } from "./qmp.ts";
import { serveLibrary } from "../plugins/distribution-point/server.ts";
import { PROFILES } from "./profiles.ts";

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "bm-deploy-parts-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe("deploy case disk", () => {
  it("reads sizes as people write them, in whole sectors", () => {
    expect(parseDiskSize("4GiB", "t")).toBe(4 * 2 ** 30);
    expect(parseDiskSize("1536MiB", "t")).toBe(1536 * 2 ** 20);
    expect(parseDiskSize(2 ** 30, "t")).toBe(2 ** 30);
    expect(parseDiskSize("1.5GiB", "t")).toBe(1.5 * 2 ** 30);
  });

  it.each(["10MiB", "3TiB", "four", "", "1073741825", "-1GiB", "4 GB"])("refuses %j with BM5411", (size) => {
    expect(() => parseDiskSize(size, "case x")).toThrow(expect.objectContaining({ code: "BM5411" }));
  });

  it("knows nvme, virtio and sata, nothing else", () => {
    for (const bus of DISK_BUSES) expect(checkDiskBus(bus, "t")).toBe(bus);
    expect(() => checkDiskBus("scsi", "case x")).toThrow(expect.objectContaining({ code: "BM5411" }));
  });

  it("creates a sparse blank disk of the exact size (stat's allocated blocks are the oracle)", async () => {
    const path = join(tmp, "blank.raw");
    await writeFile(path, "old bytes");
    await createBlankDisk(path, 8 * 2 ** 30);
    const s = await stat(path);
    expect(s.size).toBe(8 * 2 ** 30);
    expect(s.blocks * 512).toBeLessThan(1 << 20);
    const head = await execa("head", ["-c", "9", path], { encoding: "buffer" });
    expect(Buffer.from(head.stdout).every((b) => b === 0)).toBe(true);
  });

  it("puts the disk behind the media (bootindex 1), or first without media", () => {
    const base = { profile: "x64-bios" as const, nic: null, qmpSocket: "/s", accel: "tcg" as const };
    const withMedia = buildQemuArgs({
      ...base,
      media: { kind: "iso", path: "/m.iso" },
      disk: { path: "/d.raw", bus: "nvme", bootindex: 1 },
    }).join(" ");
    expect(withMedia).toContain("ide-cd,drive=media,id=cd0,bootindex=0");
    expect(withMedia).toContain(`nvme,drive=disk0,serial=${DISK_SERIAL},bootindex=1`);
    const alone = buildQemuArgs({ ...base, disk: { path: "/d.raw", bus: "sata", bootindex: 0 } }).join(" ");
    expect(alone).not.toContain("media");
    expect(alone).toContain("-device ahci,id=ahci0");
    expect(alone).toContain(`ide-hd,drive=disk0,bus=ahci0.0,serial=${DISK_SERIAL},bootindex=0`);
  });

  // QEMU itself is the oracle: the machine starts paused with the disk on the named controller.
  const machines: Array<[ProfileId, (typeof DISK_BUSES)[number]]> = [];
  for (const profile of ["x86-bios", "x64-uefi"] as const) for (const bus of DISK_BUSES) machines.push([profile, bus]);
  it.each(machines)("%s with a %s disk: QEMU attaches it (query-pci, query-block)", async (profile, bus) => {
    const dir = await mkdtemp(join(tmp, "q-"));
    const disk = join(dir, "d.raw");
    await createBlankDisk(disk, 64 * 2 ** 20);
    const vars = join(dir, "vars.fd");
    const flash = PROFILES[profile].flash;
    if (flash) await execa("cp", [flash.vars, vars]);
    const args = buildQemuArgs({
      profile,
      disk: { path: disk, bus, bootindex: 0 },
      nic: null,
      qmpSocket: join(dir, "q.sock"),
      ...(flash ? { varsPath: vars } : {}),
      accel: "tcg",
    });
    const qemu = execa(PROFILES[profile].binary, [...args, "-S"], { reject: false, stdin: "ignore" });
    try {
      const qmp = await QmpClient.connect(join(dir, "q.sock"), { timeoutMs: 10_000 });
      const blocks = (await qmp.execute("query-block")) as Array<{ device: string; inserted?: { file: string } }>;
      expect(blocks.find((b) => b.device === "disk0")?.inserted?.file).toBe(disk);
      const pci = JSON.stringify(await qmp.execute("query-pci"));
      // PCI class codes: NVMe 0x0108, SATA AHCI 0x0106, virtio-blk is vendor 0x1af4 with a storage class 0x0100.
      const want = { nvme: '"class":264', sata: '"class":262', virtio: '"class":256' }[bus];
      expect(pci).toContain(want);
      await qmp.quit();
      qmp.close();
    } finally {
      qemu.kill("SIGKILL");
      await qemu;
    }
  });
});

describe("deploy case distribution points", () => {
  it("takes http://10.0.2.N[:PORT] outside the MPs' block", () => {
    expect(dpGuestAddress({ name: "DP1", guestUrl: "http://10.0.2.200" })).toEqual({ ip: "10.0.2.200", port: 80 });
    expect(dpGuestAddress({ name: "DP1", guestUrl: "http://10.0.2.20:8080/" })).toEqual({
      ip: "10.0.2.20",
      port: 8080,
    });
  });

  it.each([
    "https://10.0.2.200",
    "http://10.0.2.100",
    "http://10.0.2.150",
    "http://10.0.2.15",
    "http://192.168.1.5",
    "http://dp.lab",
    "not a url",
  ])("refuses %s with BM5412", (guestUrl) => {
    expect(() => dpGuestAddress({ name: "DP1", guestUrl })).toThrow(expect.objectContaining({ code: "BM5412" }));
  });

  it("a deploy case needs the site's library and a DP (BM5413)", () => {
    expect(() => siteDistributionPoints({ distributionPoints: [] }, tmp, "case x")).toThrow(
      expect.objectContaining({ code: "BM5413" }),
    );
  });

  it("serves the site's library with the real DP server at each route, and routes the guest there", async () => {
    const lib = join(tmp, "lib");
    await mkdir(join(lib, "packages", "OSI00001", "files"), { recursive: true });
    await writeFile(join(lib, "packages", "OSI00001", "files", "image.raw"), "0123456789");
    const dps = await startCaseDistributionPoints(
      siteDistributionPoints(
        { library: "lib", distributionPoints: [{ name: "DP1", url: "http://10.0.2.200" }] },
        tmp,
        "t",
      ),
    );
    try {
      expect(dps.routes).toHaveLength(1);
      const route = dps.routes[0]!;
      expect(route).toMatchObject({ name: "DP1", guestIp: "10.0.2.200", guestPort: 80 });
      // curl is the client: a byte range, as apply-image resumes.
      const got = await execa("curl", ["-s", "-r", "4-", `${route.url}/packages/OSI00001/files/image.raw`]);
      expect(got.stdout).toBe("456789");
      // The server logs a request when its response has finished, which may be just after curl
      // has read the last byte: poll rather than race it.
      await expect.poll(() => dps.requests.join("\n")).toMatch(/DP1 .*GET .*image\.raw.* 206/);
      const net = planMpNetwork([{ name: "MP1", url: "http://127.0.0.1:1" }], { extra: dps.routes });
      expect(net.netdev).toContain(
        `guestfwd=tcp:10.0.2.200:80-cmd:/bin/busybox nc 127.0.0.1 ${new URL(route.url).port}`,
      );
    } finally {
      await dps.close();
    }
  });

  it("routes the guest to a DP the user runs (`dp serve`, given by url): neither started nor stopped by the case", async () => {
    const lib = join(tmp, "outside-lib");
    await mkdir(join(lib, "packages", "OSI00002", "files"), { recursive: true });
    await writeFile(join(lib, "packages", "OSI00002", "files", "image.raw"), "abcdefghij");
    const outside = await serveLibrary({ root: lib, host: "127.0.0.1", port: 0 });
    try {
      const dps = await startCaseDistributionPoints([
        { name: "DP1", guestUrl: "http://10.0.2.200:8080", url: outside.url },
      ]);
      expect(dps.routes).toEqual([
        { name: "DP1", guestIp: "10.0.2.200", guestPort: 8080, url: `http://127.0.0.1:${outside.port}` },
      ]);
      const net = planMpNetwork([{ name: "MP1", url: "http://127.0.0.1:1" }], { extra: dps.routes });
      expect(net.netdev).toContain(`guestfwd=tcp:10.0.2.200:8080-cmd:/bin/busybox nc 127.0.0.1 ${outside.port}`);
      await dps.close();
      // The case served nothing itself, and the user's DP still answers after the case closed.
      expect(dps.requests).toEqual([]);
      const got = await execa("curl", ["-s", "-r", "6-", `${dps.routes[0]!.url}/packages/OSI00002/files/image.raw`]);
      expect(got.stdout).toBe("ghij");
    } finally {
      await outside.close();
    }
  });
});
