/** Whether a file holds an ISO 9660 volume: "CD001" in the first volume descriptor (ECMA-119 §8.1, at sector 16). */
import { open } from "node:fs/promises";
import { decodeRecord } from "../record.ts";
import { DESCRIPTOR_HEADER, SECTOR, STANDARD_ID, SYSTEM_AREA_SECTORS } from "./records.ts";

export async function probeIso(path: string): Promise<boolean> {
  const fh = await open(path, "r").catch(() => undefined);
  if (!fh) return false;
  try {
    const head = Buffer.alloc(DESCRIPTOR_HEADER.size);
    const { bytesRead } = await fh.read(head, 0, head.length, SYSTEM_AREA_SECTORS * SECTOR);
    return bytesRead === head.length && decodeRecord(DESCRIPTOR_HEADER, head).standardId === STANDARD_ID;
  } catch {
    return false;
  } finally {
    await fh.close();
  }
}
