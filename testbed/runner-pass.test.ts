/**
 * A case judged by a serial pass pattern ends as soon as the pattern shows, with no
 * marker and no success exit: checked with a stand-in for QEMU (busybox sh on the same
 * stdio contract) that draws like a full-screen installer and then waits forever.
 */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { QemuBinary } from "./profiles.ts";
import { superviseQemu } from "./supervise.ts";
import { compilePassPattern } from "./pass-pattern.ts";
import { decideVerdict } from "./verdict.ts";

let work: string;
/** A stand-in outside the doctor's table: the runner takes any program it is given. */
let fake: QemuBinary;

const FAKE_INSTALLER = `#!/bin/busybox sh
echo 'Loading Linux 6.1.0-28-amd64 ...'
printf '\\033[1;1H\\033[37;44m  [!!] Select a language  \\033[K\\033[3;1H'
exec sleep 60
`;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "bm-pass-"));
  fake = join(work, "fake-qemu") as QemuBinary;
  writeFileSync(fake, FAKE_INSTALLER);
  chmodSync(fake, 0o755);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("runner with a serial pass pattern", () => {
  const args = () => ["-qmp", `unix:${join(work, "qmp.sock")},server=on,wait=off`];

  it("passes at the pattern, stops the machine, and says what matched", async () => {
    const run = await superviseQemu(fake, args(), join(work, "serial.log"), join(work, "screen.png"), {
      timeoutSec: 40,
      silenceSec: 10,
      pass: compilePassPattern({ serial: "Select a language" }),
    });
    expect(run.observation.passMatch).toEqual({
      source: "serial",
      pattern: "Select a language",
      text: "[!!] Select a language",
    });
    expect(run.observation.exitStatus).toBeNull();
    expect(run.timings.verdictMs).toBeLessThan(5000);
    expect(decideVerdict(run.observation)).toEqual({ status: "pass" });
  }, 40_000);

  it("times out as before when the pattern never shows", async () => {
    const run = await superviseQemu(fake, args(), join(work, "serial2.log"), join(work, "screen2.png"), {
      timeoutSec: 3,
      silenceSec: 2,
      pass: compilePassPattern({ serial: "Partition disks" }),
    });
    expect(run.observation.passMatch).toBeUndefined();
    expect(decideVerdict(run.observation)).toMatchObject({ status: "fail", reason: "timeout" });
  }, 40_000);
});
