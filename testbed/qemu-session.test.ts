/**
 * The QEMU session on its own, with stand-ins for QEMU (busybox sh scripts on the same stdio
 * contract: the serial console out on stdout, typed lines in on stdin).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { QemuSession } from "./qemu-session.ts";
import type { QemuBinary } from "./profiles.ts";

let work: string;
/** Stand-ins outside the doctor's table: a session runs what it is given. */
const fake = (name: string, script: string): QemuBinary => {
  const path = join(work, name);
  writeFileSync(path, `#!/bin/busybox sh\n${script}`);
  chmodSync(path, 0o755);
  return path as QemuBinary;
};

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "bm-session-"));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("QemuSession", () => {
  it("waits for a marker, types an answer, and ends by itself with QEMU's status", async () => {
    const qemu = fake(
      "echo-qemu",
      `echo 'BOOTMEDIA {"event":"prompt","for":"password"}'
IFS= read -r a
echo "BOOTMEDIA {\\"event\\":\\"typed\\",\\"text\\":\\"$a\\"}"
exit 99
`,
    );
    const session = await QemuSession.start(qemu, [], { serialLog: join(work, "echo.log") });
    const prompt = await session.waitForMarker((m) => m.event === "prompt");
    expect(prompt).toEqual({ event: "prompt", for: "password" });
    session.type("Pass-1\n");
    expect(await session.waitForMarker((m) => m.event === "typed")).toEqual({ event: "typed", text: "Pass-1" });
    const end = await session.close();
    expect(end).toEqual({ exitCode: 99, byItself: true });
    expect(session.markers.map((m) => m.event)).toEqual(["prompt", "typed"]);
    expect(session.firstSerialMs).not.toBeNull();
    expect(readFileSync(join(work, "echo.log"), "utf8")).toContain('"event":"typed"');
  });

  it("stop: no events after it, the last look runs while the machine is there, then it is gone", async () => {
    const qemu = fake(
      "chatty-qemu",
      `i=0; while true; do echo "BOOTMEDIA {\\"event\\":\\"tick\\",\\"n\\":$i}"; i=$((i+1)); sleep 0.05; done`,
    );
    const session = await QemuSession.start(qemu, [], { serialLog: join(work, "chatty.log") });
    await session.waitForMarker((m) => m.event === "tick" && m.n === 2);
    let runningAtLastLook: boolean | undefined;
    await session.stop(async () => {
      runningAtLastLook = session.running;
    });
    const seen = session.markers.length;
    const end = await session.close();
    expect(runningAtLastLook).toBe(true);
    expect(end.byItself).toBe(false);
    expect(session.running).toBe(false);
    expect(session.markers.length).toBe(seen);
  });

  it("a marker that never comes: the wait ends with undefined when QEMU ends", async () => {
    const session = await QemuSession.start(fake("quiet-qemu", "exit 1\n"), [], { serialLog: join(work, "quiet.log") });
    expect(await session.waitForMarker((m) => m.event === "done")).toBeUndefined();
    expect(await session.close()).toEqual({ exitCode: 1, byItself: true });
    expect(session.firstSerialMs).toBeNull();
  });

  it("a program that is not there: a start error, not a crash", async () => {
    const session = await QemuSession.start(join(work, "no-such-qemu") as QemuBinary, [], {
      serialLog: join(work, "none.log"),
    });
    const end = await session.close();
    expect(end.exitCode).toBeUndefined();
    expect(end.startError).toMatch(/ENOENT/);
  });
});
