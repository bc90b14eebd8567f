import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startCaseManagementPoints } from "./mp-case.ts";
import { postBody } from "../backends/mp/client.ts";
import { makeSelfSignedCert, makeSite } from "./mp/testing/fixtures.ts";

const dir = mkdtempSync(join(tmpdir(), "bm-mp-case-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Whether something accepts TCP connections on a loopback port. */
const listens = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    }).once("error", () => resolve(false));
  });

describe("a case's management points (mp-case.ts)", () => {
  it("starts the up MPs, routes a down one to a closed port, redirects by guest URL, logs on finish", async () => {
    const cert = makeSelfSignedCert(dir, "media");
    const started = await startCaseManagementPoints({
      site: makeSite(cert.der, makeSelfSignedCert(dir, "other").der),
      mps: [
        { name: "MP1", up: false },
        { name: "MP2", up: true },
      ],
    });
    const [down, up] = started.network.routes;
    expect([down!.guestUrl, up!.guestUrl]).toEqual(["http://10.0.2.100", "http://10.0.2.101"]);
    expect(await listens(down!.hostPort)).toBe(false);
    expect(await listens(up!.hostPort)).toBe(true);
    const args = started.applyTo(["-netdev", "user,id=n0,restrict=on", "-device", "e1000,netdev=n0"]);
    expect(args[1]).toBe(started.network.netdev);
    expect(args[1]).toContain(`guestfwd=tcp:10.0.2.101:80-cmd:/bin/busybox nc 127.0.0.1 ${up!.hostPort}`);
    // One unsigned request straight to MP2 (over loopback) lands in its log.
    const answer = await postBody(
      `http://127.0.0.1:${up!.hostPort}`,
      Buffer.from(JSON.stringify({ v: 1 })),
      { "content-type": "application/json" },
      null,
    );
    expect(answer.status).toBe(400);
    const logs = await started.finish(dir, "case");
    expect(logs.map((l) => [l.name, l.up, l.requests.length, l.log])).toEqual([
      ["MP1", false, 0, "case/mp-MP1.json"],
      ["MP2", true, 1, "case/mp-MP2.json"],
    ]);
    expect(JSON.parse(readFileSync(join(dir, "mp-MP2.json"), "utf8")).requests).toEqual(logs[1]!.requests);
    expect(await listens(up!.hostPort)).toBe(false);
  });
});

describe("an outage (restartable MPs: stop, then start)", () => {
  it("closes the port, opens the same one again, keeps every request of both lives", async () => {
    const cert = makeSelfSignedCert(dir, "outage");
    const started = await startCaseManagementPoints(
      { site: makeSite(cert.der, makeSelfSignedCert(dir, "outage-other").der), mps: [{ name: "MP1", up: true }] },
      { restartable: true },
    );
    const port = started.network.routes[0]!.hostPort;
    const post = () =>
      postBody(`http://127.0.0.1:${port}`, Buffer.from("{}"), { "content-type": "application/json" }, null);
    expect((await post()).status).toBe(400);
    await started.stop();
    expect(await listens(port)).toBe(false);
    await started.start();
    expect(await listens(port)).toBe(true);
    expect((await post()).status).toBe(400);
    const logs = await started.finish(dir, "outage");
    expect(logs[0]!.requests).toHaveLength(2);
    expect(await listens(port)).toBe(false);
  });

  it("is refused on MPs not started restartable", async () => {
    const cert = makeSelfSignedCert(dir, "plain");
    const started = await startCaseManagementPoints({
      site: makeSite(cert.der, makeSelfSignedCert(dir, "plain-other").der),
      mps: [{ name: "MP1", up: true }],
    });
    await expect(started.stop()).rejects.toThrow(/restartable/);
    await started.finish(dir, "plain");
  });
});

describe("an MP the user runs (testbed --mp)", () => {
  it("is routed to, never started or stopped by the case, and named as external in the log", async () => {
    const cert = makeSelfSignedCert(dir, "ext");
    const { startManagementPoint } = await import("../backends/mp/server.ts");
    const outside = await startManagementPoint({ site: makeSite(cert.der, cert.der), name: "MP1" });
    try {
      const started = await startCaseManagementPoints({ mps: [{ name: "MP1", up: true, url: outside.url }] });
      expect(started.network.netdev).toContain(
        `guestfwd=tcp:10.0.2.100:80-cmd:/bin/busybox nc 127.0.0.1 ${outside.port}`,
      );
      const caseDir = mkdtempSync(join(dir, "case-"));
      const [log] = await started.finish(caseDir, "case");
      expect(log).toMatchObject({ name: "MP1", external: outside.url, requests: [] });
      expect(JSON.parse(readFileSync(join(caseDir, "mp-MP1.json"), "utf8")).external).toBe(outside.url);
      expect(await listens(outside.port)).toBe(true); // still serving: the case did not stop it
    } finally {
      await outside.close();
    }
  });
});
