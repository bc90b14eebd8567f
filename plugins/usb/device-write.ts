/**
 * Writing a finished image to a drive: confirm (model, size, serial), copy with progress,
 * flush, then read back and compare sha256. A device has no atomic rename, so the image
 * is complete and verified on disk before the first byte goes to the drive.
 */
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import { createInterface } from "node:readline/promises";
import { BootmediaError } from "../../base/errors.ts";
import type { StageProgress } from "../../core/progress.ts";
import { runProgram } from "../../core/program.ts";
import { checkDevice, describeDevice, probeDevice, type LsblkDevice } from "./device.ts";
import "./codes.ts";

const CHUNK = 4 * 1024 * 1024;

interface DeviceWriteOptions {
  /** Skip the prompt (scripts). */
  yes: boolean;
  /** How to learn about the device (tests inject recorded lsblk output). */
  probe?: (path: string) => Promise<LsblkDevice>;
  /** How to ask (tests inject an answer). */
  ask?: (question: string) => Promise<string>;
  progress: StageProgress;
}

/** Checks every safety rule and asks for confirmation; throws the first refusal. */
export async function approveDevice(
  device: string,
  imageBytes: number,
  opts: DeviceWriteOptions,
): Promise<LsblkDevice> {
  const dev = await (opts.probe ?? probeDevice)(device);
  const problems = checkDevice(dev, imageBytes);
  if (problems.length > 0) throw problems[0]!;
  if (!opts.yes) {
    const question = `Erase ${dev.path} (${describeDevice(dev)}) and write the media? Type "yes" to continue: `;
    const ask = opts.ask ?? askOnTerminal;
    const answer = (await ask(question)).trim().toLowerCase();
    if (answer !== "yes")
      throw new BootmediaError("BM3307", `not confirmed: ${dev.path} was left untouched`, { where: dev.path });
  }
  return dev;
}

async function askOnTerminal(question: string): Promise<string> {
  if (!process.stdin.isTTY)
    throw new BootmediaError("BM3307", "writing to a drive needs confirmation, and there is no terminal to ask on");
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

/** Copies `image` onto `device`, fsyncs, reads the same range back and compares hashes. */
export async function copyImageToDevice(
  image: string,
  device: string,
  progress: StageProgress,
): Promise<{ bytes: number; sha256: string }> {
  const src = await open(image, "r");
  const dst = await open(device, "r+");
  const written = createHash("sha256");
  const buf = Buffer.allocUnsafe(CHUNK);
  let total = 0;
  try {
    const size = (await src.stat()).size;
    for (;;) {
      const { bytesRead } = await src.read(buf, 0, CHUNK, total);
      if (bytesRead === 0) break;
      written.update(buf.subarray(0, bytesRead));
      await dst.write(buf, 0, bytesRead, total);
      total += bytesRead;
      progress.update(total, size);
    }
    await dst.sync();
    // Read back from the drive, not the page cache: drop the block device's buffers first.
    if ((await dst.stat()).isBlockDevice()) await runProgram("blockdev", ["--flushbufs", device]);
    const readBack = createHash("sha256");
    for (let pos = 0; pos < total; ) {
      const { bytesRead } = await dst.read(buf, 0, Math.min(CHUNK, total - pos), pos);
      if (bytesRead === 0) break;
      readBack.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
    const want = written.digest("hex");
    const got = readBack.digest("hex");
    if (want !== got)
      throw new BootmediaError("BM4301", `${device}: read back sha256 ${got}, wrote ${want}`, { where: device });
    return { bytes: total, sha256: want };
  } finally {
    await src.close();
    await dst.close();
  }
}
