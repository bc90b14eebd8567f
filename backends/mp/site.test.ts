import { describe, expect, it } from "vitest";
import { findBoundaryMp, findComputer, findDeployment, isIpInRange, parseSite } from "./site.ts";

describe("site database", () => {
  it.each([
    ["10.0.3.7", "10.0.3.0/24", true],
    ["10.0.4.1", "10.0.3.0/24", false],
    ["10.0.3.7", "10.0.3.7/32", true],
    ["192.168.1.1", "0.0.0.0/0", true],
    ["255.255.255.255", "128.0.0.0/1", true],
    ["10.0.3.9", "10.0.3.10-10.0.3.20", false],
    ["10.0.3.10", "10.0.3.10-10.0.3.20", true],
    ["10.0.3.20", "10.0.3.10-10.0.3.20", true],
  ])("%s in %s: %s", (ip, range, inside) => expect(isIpInRange(ip, range)).toBe(inside));

  const site = parseSite({
    siteCode: "BM1",
    managementPoints: ["MP1", "MP2", "MP3"],
    computers: [
      { name: "A", mac: "52:54:00:00:00:0a" },
      { name: "B", uuid: "00000000-0000-0000-0000-00000000000b" },
    ],
    boundaries: [
      { mp: "MP2", ipRanges: ["10.0.0.0/8"] },
      { mp: "MP3", macs: ["52:54:00:00:00:0a"] },
    ],
    deployments: [
      { id: "D1", taskSequence: "TS", target: ["B"] },
      { id: "D2", taskSequence: "TS", target: "unknown" },
    ],
  });

  it("matches computers by MAC or SMBIOS UUID and boundaries by MAC before IP", () => {
    expect(findComputer(site, { mac: "52:54:00:00:00:0a" })?.name).toBe("A");
    expect(findComputer(site, { mac: "52:54:00:00:00:ff", uuid: "00000000-0000-0000-0000-00000000000b" })?.name).toBe(
      "B",
    );
    expect(findBoundaryMp(site, { mac: "52:54:00:00:00:0a", ip: "10.1.2.3" })).toBe("MP3");
    expect(findBoundaryMp(site, { mac: "52:54:00:00:00:ff", ip: "10.1.2.3" })).toBe("MP2");
    expect(findBoundaryMp(site, { mac: "52:54:00:00:00:ff", ip: "192.168.0.1" })).toBeUndefined();
  });

  it("finds the deployment targeting a named, known or unknown computer", () => {
    expect(findDeployment(site, "TS", site.computers[1])?.id).toBe("D1");
    expect(findDeployment(site, "TS", site.computers[0])).toBeUndefined();
    expect(findDeployment(site, "TS", undefined)?.id).toBe("D2");
  });

  it("refuses a malformed database with BM5302", () => {
    expect(() =>
      parseSite({
        siteCode: "BM1",
        managementPoints: ["MP1"],
        taskSequences: [{ id: "TS", name: "t" }],
        deployments: [{ id: "D", taskSequence: "TX", target: "all" }],
      }),
    ).toThrow(/deployment D deploys unknown task sequence TX/);
    expect(() =>
      parseSite({ siteCode: "BM1", managementPoints: ["MP1"], computers: [{ name: "x", mac: "AA-BB" }] }),
    ).toThrow(expect.objectContaining({ code: "BM5302", message: expect.stringContaining("computers.0.mac") }));
  });
});
