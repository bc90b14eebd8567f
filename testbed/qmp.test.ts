import { describe, it, expect, afterEach } from "vitest";
import { createServer, type Server, type Socket } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { QmpClient, type QmpEvent } from "./qmp.ts";

/** A fake QEMU: greets, answers like QMP does, records every command it was sent. */
function startFakeQmp(path: string, opts: { greet?: boolean } = {}) {
  const received: Array<Record<string, unknown>> = [];
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => {
    sockets.push(socket);
    if (opts.greet !== false)
      socket.write(JSON.stringify({ QMP: { version: { qemu: { major: 7, minor: 2 } }, capabilities: [] } }) + "\r\n");
    let buf = "";
    let negotiated = false;
    socket.on("data", (chunk) => {
      buf += chunk.toString();
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const msg = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        received.push(msg);
        const reply = (body: object) => socket.write(JSON.stringify({ ...body, id: msg.id }) + "\r\n");
        if (msg.execute === "qmp_capabilities") {
          negotiated = true;
          reply({ return: {} });
        } else if (!negotiated) {
          reply({
            error: { class: "CommandNotFound", desc: "Expecting capabilities negotiation with 'qmp_capabilities'" },
          });
        } else if (msg.execute === "query-status") {
          // An event may arrive between a command and its reply; the client must route both.
          socket.write(JSON.stringify({ event: "RESUME", timestamp: { seconds: 1, microseconds: 2 } }) + "\r\n");
          reply({ return: { status: "running", running: true } });
        } else if (msg.execute === "screendump" || msg.execute === "send-key") {
          reply({ return: {} });
        } else if (msg.execute === "quit") {
          reply({ return: {} });
          socket.end();
        } else {
          reply({ error: { class: "CommandNotFound", desc: `The command ${msg.execute} has not been found` } });
        }
      }
    });
  });
  const listening = new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    received,
    listening,
    close: () =>
      new Promise<void>((resolve) => {
        sockets.forEach((s) => s.destroy());
        server.close(() => resolve());
      }),
  };
}

describe("QmpClient", () => {
  const dirs: string[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  const socketPath = () => {
    const dir = mkdtempSync(join(tmpdir(), "bm-qmp-"));
    dirs.push(dir);
    return join(dir, "qmp.sock");
  };
  /** A fake QEMU listening on a fresh socket and a client connected to it; `keepOpen` leaves closing to the test. */
  const connectToFake = async (keepOpen = false) => {
    const path = socketPath();
    const fake = startFakeQmp(path);
    cleanups.push(fake.close);
    await fake.listening;
    const qmp = await QmpClient.connect(path);
    if (!keepOpen) cleanups.push(async () => qmp.close());
    return { fake, qmp };
  };
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it("negotiates capabilities first, then matches replies to commands and routes events", async () => {
    const { fake, qmp } = await connectToFake();
    const events: QmpEvent[] = [];
    qmp.events.on("event", (e: QmpEvent) => events.push(e));

    const [status, again] = await Promise.all([qmp.execute("query-status"), qmp.execute("query-status")]);
    expect(status).toEqual({ status: "running", running: true });
    expect(again).toEqual(status);
    expect(events.map((e) => e.event)).toEqual(["RESUME", "RESUME"]);
    expect(fake.received[0]).toMatchObject({ execute: "qmp_capabilities" });
    expect(qmp.greeting).toMatchObject({ version: { qemu: { major: 7 } } });
  });

  it("sends screendump, send-key and quit in QMP's argument shapes", async () => {
    const { fake, qmp } = await connectToFake(true);
    await qmp.screendump("/tmp/x.png");
    await qmp.sendKey(["ctrl", "alt", "delete"], 50);
    const closed = new Promise((resolve) => qmp.events.once("close", resolve));
    await qmp.quit();
    await closed;
    const sent = fake.received.slice(1).map(({ id: _id, ...rest }) => rest);
    expect(sent).toEqual([
      { execute: "screendump", arguments: { filename: "/tmp/x.png", format: "png" } },
      {
        execute: "send-key",
        arguments: {
          keys: [
            { type: "qcode", data: "ctrl" },
            { type: "qcode", data: "alt" },
            { type: "qcode", data: "delete" },
          ],
          "hold-time": 50,
        },
      },
      { execute: "quit" },
    ]);
    await expect(qmp.execute("query-status")).rejects.toMatchObject({ code: "BM5103" });
  });

  it("rejects with QEMU's error class and text", async () => {
    const { qmp } = await connectToFake();
    await expect(qmp.execute("no-such-command")).rejects.toThrow(
      /BM5103|CommandNotFound: The command no-such-command has not been found/,
    );
    await expect(qmp.execute("no-such-command")).rejects.toMatchObject({ code: "BM5103" });
  });

  it("waits for a socket that appears late, as QEMU creates it after starting", async () => {
    const path = socketPath();
    let fake: ReturnType<typeof startFakeQmp> | undefined;
    setTimeout(() => {
      fake = startFakeQmp(path);
    }, 300);
    const qmp = await QmpClient.connect(path, { timeoutMs: 3000 });
    cleanups.push(async () => {
      qmp.close();
      await fake?.close();
    });
    expect(await qmp.execute("query-status")).toMatchObject({ running: true });
  });

  it("gives up with BM5102 when nothing greets it", async () => {
    const path = socketPath();
    const fake = startFakeQmp(path, { greet: false });
    cleanups.push(fake.close);
    await fake.listening;
    await expect(QmpClient.connect(path, { timeoutMs: 600 })).rejects.toMatchObject({ code: "BM5102" });
  });
});
