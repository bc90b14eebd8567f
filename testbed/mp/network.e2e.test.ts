/**
 * A real guest reaches the simulated MPs, and nothing else: the reference x64 kernel and
 * initramfs boot under QEMU (x64-bios profile, e1000) with a tiny extra initramfs appended
 * whose /init, using the image's own busybox, pings MP1, posts a policy request signed on
 * the host with `openssl dgst` (busybox has no openssl yet), follows MP1's redirect to MP2
 * by the guest URL it was given, then tries the host's loopback port and an address with
 * no MP. The MPs' request logs and the console must match expectMpOutcome.
 */
import { execa } from "execa";
import { createHash } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { referenceImages } from "../../testing/reference-fixtures.ts";
import { writeCpioArchive, type CpioEntry } from "../../formats/cpio/writer.ts";
import { buildQemuArgs, PROFILES, DEBUG_EXIT } from "../profiles.ts";
import { REFERENCE_LIBRARY, REFERENCE_PACKAGES } from "../testing/reference-media.ts";
import { expectMpOutcome } from "./expect.ts";
import { planMpNetwork, withMpNetwork, GUEST_NETWORK } from "./network.ts";
import { MP_PATHS, renderPolicyRequest } from "../../backends/mp/protocol.ts";
import { startManagementPoint, type RunningMp } from "../../backends/mp/server.ts";
import { parseSite } from "../../backends/mp/site.ts";
import { makeMediaSettings, makeSelfSignedCert, makeTempDir, TASK_SEQUENCE } from "./testing/fixtures.ts";

const GUEST_MAC = "52:54:00:bb:00:01";
const BOOT = join(REFERENCE_LIBRARY, "packages", REFERENCE_PACKAGES.x64, "files", "boot", "x64");

/** The guest's /init: each step prints `MPTEST <step> <exit status> <answer>` on the serial console. */
function guestInit(mp1Port: number): string {
  return `#!/bin/sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev 2>/dev/null
. /etc/bootmedia/modules.env
for m in $BM_MODULES_NIC; do modprobe $m 2>/dev/null; done
ip link set eth0 up && ip addr add ${GUEST_NETWORK.guestIp}/24 dev eth0
say() { echo "MPTEST $*" >/dev/ttyS0; }
# busybox 1.35 wget segfaults with -T: bound it with timeout instead.
out=$(timeout 10 wget -q -O- http://10.0.2.100${MP_PATHS.ping}); say ping $? "$out"
out=$(timeout 10 nc 10.0.2.100 80 </mp/first.http | tail -n 1); say first $? "$out"
next=$(echo "$out" | sed -n 's/.*"mp":"http:\\/\\/\\([0-9.]*\\)".*/\\1/p')
out=$(timeout 10 nc "$next" 80 </mp/second.http | tail -n 1); say second $? "$out"
timeout 10 wget -q -O- http://10.0.2.2:${mp1Port}${MP_PATHS.ping} >/dev/null 2>&1; say host-loopback $?
timeout 10 wget -q -O- http://10.0.2.102${MP_PATHS.ping} >/dev/null 2>&1; say no-mp $?
printf '\\061' | dd of=/dev/port bs=1 seek=${DEBUG_EXIT.iobase} count=1 conv=notrunc 2>/dev/null
poweroff -f
`;
}

describe("guest network: QEMU user networking restricted to the MPs", () => {
  let dir: string;
  let mps: RunningMp[] = [];
  afterAll(async () => {
    for (const mp of mps) await mp.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  beforeAll(async () => {
    await referenceImages();
  }, 600_000);

  it("a booted guest reaches MP1 and MP2 by their guest addresses, and nothing else", async () => {
    dir = makeTempDir("bm-mp-net-");
    const cert = makeSelfSignedCert(dir, "media");
    const site = parseSite({
      siteCode: "BM1",
      managementPoints: ["MP1", "MP2"],
      boundaries: [{ mp: "MP2", macs: [GUEST_MAC] }],
      deployments: [
        { id: "DEP-UNKNOWN", taskSequence: TASK_SEQUENCE, target: "unknown", variables: { OSDTimeZone: "UTC" } },
      ],
      certificates: [{ der: cert.der.toString("base64") }],
    });
    mps = [await startManagementPoint({ site, name: "MP1" }), await startManagementPoint({ site, name: "MP2" })];
    const net = planMpNetwork(mps);
    for (const mp of mps) for (const [name, url] of net.guestUrls) mp.peers.set(name, url);

    const settings = makeMediaSettings(cert, {
      mps: [net.routes[0]!.guestUrl],
      managementPoints: { mode: "dynamic", list: [{ url: net.routes[0]!.guestUrl, priority: 1 }] },
      unknownComputers: true,
      userDeviceAffinity: "pending",
    });
    const client = { mac: GUEST_MAC, ip: GUEST_NETWORK.guestIp };
    const expected = expectMpOutcome(
      settings,
      site,
      { mps: net.routes.map((r) => ({ name: r.name, url: r.guestUrl })) },
      client,
      Math.floor(Date.now() / 1000),
    );

    // Two signed requests (fresh nonces), made on the host as the agent's openssl would.
    const request = async (name: string, host: string, nonce: string) => {
      const body = renderPolicyRequest({
        v: 1,
        mediaId: settings.id,
        taskSequence: TASK_SEQUENCE,
        mode: "dynamic",
        mac: GUEST_MAC,
        ip: GUEST_NETWORK.guestIp,
        unknownComputers: true,
        uda: "pending",
        timestamp: Math.floor(Date.now() / 1000),
        nonce,
      });
      writeFileSync(join(dir, `${name}.json`), body);
      const sig = (
        await execa("openssl", ["dgst", "-sha256", "-sign", cert.keyPath, join(dir, `${name}.json`)], {
          encoding: "buffer",
          // A DER signature may end in 0x0a: execa strips a final newline even from bytes.
          stripFinalNewline: false,
        })
      ).stdout;
      const http = [
        `POST ${MP_PATHS.policy} HTTP/1.1`,
        `Host: ${host}`,
        "Content-Type: application/json",
        `Content-Length: ${body.length}`,
        "Connection: close",
        `X-Bootmedia-Signature: ${Buffer.from(sig).toString("base64")}`,
        `X-Bootmedia-Certificate-Sha256: ${createHash("sha256").update(cert.der).digest("hex")}`,
        "",
        body,
      ].join("\r\n");
      return {
        type: "file",
        path: `mp/${name}.http`,
        size: Buffer.byteLength(http),
        source: { kind: "bytes", data: Buffer.from(http) },
      } satisfies CpioEntry;
    };
    const init = Buffer.from(guestInit(mps[0]!.port));
    const extra = join(dir, "extra.cpio.gz");
    await writeCpioArchive(
      [
        { type: "file", path: "init", size: init.length, mode: 0o755, source: { kind: "bytes", data: init } },
        await request("first", "10.0.2.100", "00000000000000000000000000000001"),
        await request("second", "10.0.2.101", "00000000000000000000000000000002"),
      ],
      extra,
      { sourceDateEpoch: 0, compression: "gzip" },
    );
    // The kernel unpacks concatenated archives in order: our /init replaces the agent's.
    const initrd = join(dir, "initrd.img");
    await execa("sh", ["-c", `cat "${join(BOOT, "initrd.img")}" "${extra}" > "${initrd}"`]);
    const dummyCd = join(dir, "empty.iso");
    writeFileSync(dummyCd, Buffer.alloc(64 * 1024));

    const args = withMpNetwork(
      buildQemuArgs({
        profile: "x64-bios",
        media: { kind: "iso", path: dummyCd },
        nic: "e1000",
        qmpSocket: join(dir, "qmp.sock"),
        accel: "tcg",
        kernel: { path: join(BOOT, "vmlinuz"), initrd, append: "console=ttyS0,115200 quiet panic=-1" },
      }),
      net,
    ).map((a) => (a.startsWith("e1000,netdev=n0") ? `${a},mac=${GUEST_MAC}` : a));
    // Direct kernel boot claims bootindex 0 itself: drop the placeholder CD (flag + value pairs).
    for (let i = args.length - 2; i >= 0; i--)
      if (/^(if=none,id=media|ide-cd,drive=media)/.test(args[i + 1]!)) args.splice(i, 2);
    const run = await execa(PROFILES["x64-bios"].binary, args, { reject: false, timeout: 150_000, encoding: "utf8" });
    const lines = run.stdout
      .split("\n")
      .filter((l) => l.startsWith("MPTEST "))
      .map((l) => l.trim());
    const step = (name: string) => lines.find((l) => l.startsWith(`MPTEST ${name} `));

    expect(run.exitCode, `${run.stderr}\n${run.stdout.slice(-2000)}`).toBe(DEBUG_EXIT.successStatus);
    expect(step("ping")).toBe('MPTEST ping 0 {"result":"pong","mp":"MP1","v":1}');
    expect(expected.contacts).toEqual(["http://10.0.2.100", "http://10.0.2.101"]);
    expect(step("first")).toBe(`MPTEST first 0 {"result":"redirect","mp":"${expected.contacts[1]}"}`);
    expect(JSON.parse(step("second")!.replace(/^MPTEST second 0 /, ""))).toEqual({
      result: expected.result,
      ...expected.policy,
    });
    // restrict=on: the host's loopback (slirp's 10.0.2.2) and addresses without an MP fail.
    expect(step("host-loopback")).toMatch(/^MPTEST host-loopback [1-9]\d*$/);
    expect(step("no-mp")).toMatch(/^MPTEST no-mp [1-9]\d*$/);
    // What each MP saw: MP1 the ping and the redirected request, MP2 the policy request; nothing else.
    expect(mps[0]!.requests.map((r) => [r.method, r.path, r.result, r.to])).toEqual([
      ["GET", MP_PATHS.ping, "pong", undefined],
      ["POST", MP_PATHS.policy, "redirect", "http://10.0.2.101"],
    ]);
    expect(mps[1]!.requests.map((r) => [r.method, r.path, r.result, r.client.mac])).toEqual([
      ["POST", MP_PATHS.policy, "policy", GUEST_MAC],
    ]);
  }, 200_000);
});
