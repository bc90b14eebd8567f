import { describe, expect, it } from "vitest";
import { buildQemuArgs } from "../profiles.ts";
import { GUESTFWD_HELPER, planMpNetwork, withMpNetwork } from "./network.ts";

const MPS = [
  { name: "MP1", url: "http://127.0.0.1:40001" },
  { name: "MP2", url: "https://127.0.0.1:40002" },
];

describe("planMpNetwork", () => {
  it("gives each MP the next guest address and forwards it to the loopback port", () => {
    const net = planMpNetwork(MPS);
    expect(net.netdev).toBe(
      [
        "user,id=n0,restrict=on,net=10.0.2.0/24",
        `guestfwd=tcp:10.0.2.100:80-cmd:${GUESTFWD_HELPER} nc 127.0.0.1 40001`,
        `guestfwd=tcp:10.0.2.101:443-cmd:${GUESTFWD_HELPER} nc 127.0.0.1 40002`,
      ].join(","),
    );
    expect(net.routes).toEqual([
      { name: "MP1", guestUrl: "http://10.0.2.100", hostPort: 40001 },
      { name: "MP2", guestUrl: "https://10.0.2.101", hostPort: 40002 },
    ]);
    expect([...net.guestUrls]).toEqual([
      ["MP1", "http://10.0.2.100"],
      ["MP2", "https://10.0.2.101"],
    ]);
  });

  it("forwards to an MP on another host, refuses what is not http(s)://HOST[:PORT] and more MPs than the address block holds", () => {
    expect(planMpNetwork([{ name: "X", url: "http://192.168.1.5:8080" }]).netdev).toContain(
      "guestfwd=tcp:10.0.2.100:80-cmd:/bin/busybox nc 192.168.1.5 8080",
    );
    expect(planMpNetwork([{ name: "X", url: "https://mp.lab" }]).netdev).toContain(
      "guestfwd=tcp:10.0.2.100:443-cmd:/bin/busybox nc mp.lab 443",
    );
    for (const url of ["ftp://mp.lab", "http://mp.lab/x", "http://a,b:80", "not a url"])
      expect(() => planMpNetwork([{ name: "X", url }])).toThrow(expect.objectContaining({ code: "BM5018" }));
    const many = Array.from({ length: 101 }, (_, i) => ({ name: `MP${i}`, url: `http://127.0.0.1:${41000 + i}` }));
    expect(() => planMpNetwork(many)).toThrow(expect.objectContaining({ code: "BM5303" }));
  });

  it("swaps only the -netdev value of a testbed command line", () => {
    const base = buildQemuArgs({
      profile: "x64-bios",
      media: { kind: "iso", path: "/m.iso" },
      nic: "e1000",
      qmpSocket: "/q.sock",
      accel: "tcg",
    });
    const net = planMpNetwork(MPS);
    const args = withMpNetwork(base, net);
    const i = base.indexOf("-netdev");
    expect(base[i + 1]).toBe("user,id=n0,restrict=on");
    expect(args[i + 1]).toBe(net.netdev);
    expect(args.filter((_, j) => j !== i + 1)).toEqual(base.filter((_, j) => j !== i + 1));
    const noNic = buildQemuArgs({
      profile: "x64-bios",
      media: { kind: "iso", path: "/m.iso" },
      nic: null,
      qmpSocket: "/q.sock",
      accel: "tcg",
    });
    expect(() => withMpNetwork(noNic, net)).toThrow(/no -netdev/);
  });
});
