/** Case results as a run would leave them, for report tests that need no QEMU. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import type { TestCase } from "../matrix.ts";
import { caseDirOf, type CaseResult } from "../runner.ts";
import { matchesExpected, type Actual } from "../verdict.ts";

/** A 1×1 PNG built by hand (PNG spec §5: signature, IHDR, IDAT, IEND), so no writer of ours is the oracle. */
export function tinyPng(): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer) => {
    let c = 0xffffffff;
    for (const x of b) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const td = Buffer.concat([Buffer.from(type), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    td.copy(out, 4);
    out.writeUInt32BE(crc(td), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]);
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(Buffer.from([0, 255, 0, 0]))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** What a run of `c` would leave behind, with outcomes chosen per case (no QEMU here). */
export function fakeResult(dir: string, c: TestCase, i: number): CaseResult {
  const actual: Actual =
    i % 5 === 4
      ? { status: "fail", reason: "timeout", detail: "no verdict <in> 5 s & more" }
      : c.expected.status === "pass"
        ? { status: "pass" }
        : { status: "fail", reason: c.expected.reason, detail: "d" };
  mkdirSync(join(dir, caseDirOf(c.id)), { recursive: true });
  writeFileSync(
    join(dir, caseDirOf(c.id), "serial.log"),
    `\x1b[1;1HBOOTMEDIA {"event":"booted"}\r\nline <${i}> & "quoted"\x01\n`,
  );
  writeFileSync(join(dir, caseDirOf(c.id), "screen.png"), tinyPng());
  return {
    id: c.id,
    profile: c.profile,
    media: {
      kind: c.media.kind,
      label: c.media.label,
      path: c.media.path,
      images: c.media.images,
      drivers: c.media.drivers,
    },
    nic: c.nic,
    expected: c.expected,
    actual,
    ok: matchesExpected(c.expected, actual),
    markers: [{ event: "booted" }],
    exitStatus: actual.status === "pass" ? 99 : null,
    serialLog: join(caseDirOf(c.id), "serial.log"),
    screenshot: join(caseDirOf(c.id), "screen.png"),
    timings: { firstSerialMs: 100 + i, verdictMs: 900 + i, totalMs: 1000 + i },
  };
}
