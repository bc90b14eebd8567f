/**
 * The runner types answers into the serial console: checked with a stand-in for QEMU (a
 * busybox sh script on the same stdio contract: markers out on stdout, typed lines in on
 * stdin), so the plumbing is proven without booting anything.
 */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { QemuBinary } from "./profiles.ts";
import { superviseQemu } from "./supervise.ts";

let work: string;
/** A stand-in outside the doctor's table: the runner takes any program it is given. */
let fake: QemuBinary;

// Two password prompts: the first gets the one answer given, the second none (the guest's
// own 2 s timeout decides). Then done and the success exit status, as QEMU would end.
const FAKE_QEMU = `#!/bin/busybox sh
echo 'BOOTMEDIA {"event":"prompt","for":"password","attempt":1}'
IFS= read -r a
echo "BOOTMEDIA {\\"event\\":\\"typed\\",\\"text\\":\\"$a\\"}"
echo 'BOOTMEDIA {"event":"prompt","for":"password","attempt":2}'
IFS= read -r -t 2 b || b=no-answer
echo "BOOTMEDIA {\\"event\\":\\"typed\\",\\"text\\":\\"$b\\"}"
echo 'BOOTMEDIA {"event":"done"}'
exit 99
`;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "bm-answers-"));
  fake = join(work, "fake-qemu") as QemuBinary;
  writeFileSync(fake, FAKE_QEMU);
  chmodSync(fake, 0o755);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("runner answers prompts through the serial console", () => {
  it("types each answer once at its prompt; an unanswered prompt is left to the guest's timeout", async () => {
    const args = ["-qmp", `unix:${join(work, "qmp.sock")},server=on,wait=off`];
    const run = await superviseQemu(fake, args, join(work, "serial.log"), join(work, "screen.png"), {
      timeoutSec: 30,
      silenceSec: 10,
      answers: { password: ["Typed Pass-1"] },
    });
    const typed = run.observation.markers.filter((m) => m.event === "typed").map((m) => m.text);
    expect(typed).toEqual(["Typed Pass-1", "no-answer"]);
    expect(run.prompts).toEqual([
      { for: "password", answered: true },
      { for: "password", answered: false },
    ]);
    expect(run.observation.exitStatus).toBe(99);
    expect(readFileSync(join(work, "serial.log"), "utf8")).toContain('"event":"done"');
  }, 30_000);
});
