/**
 * Safety rules for writing media to a real drive: only a removable or USB-attached whole
 * disk, none of whose partitions is mounted, that does not hold the running system, and
 * that is large enough. Facts come from `lsblk --json` (and sysfs `removable`).
 */
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { runProgram } from "../../core/program.ts";
import { BootmediaError } from "../../base/errors.ts";
import "./codes.ts";

export interface LsblkDevice {
  name: string;
  path: string;
  size: number;
  type: string;
  rm: boolean;
  hotplug?: boolean;
  tran: string | null;
  mountpoints: Array<string | null>;
  model: string | null;
  serial: string | null;
  ro: boolean;
  children?: LsblkDevice[];
}

const LSBLK_COLUMNS = "NAME,PATH,SIZE,TYPE,RM,HOTPLUG,TRAN,MOUNTPOINTS,MODEL,SERIAL,RO,PKNAME";
/** Mount points that mean "this drive runs the system". */
const SYSTEM_MOUNTS = ["/", "/boot", "/boot/efi", "/usr", "/var", "[SWAP]"];

/** Reads the device's lsblk tree (and sysfs removable flag, which lsblk may not report). */
export async function probeDevice(path: string): Promise<LsblkDevice> {
  let json: { blockdevices?: LsblkDevice[] };
  try {
    const r = await runProgram("lsblk", ["--json", "-b", "-o", LSBLK_COLUMNS, path]);
    json = JSON.parse(r.stdout) as { blockdevices?: LsblkDevice[] };
  } catch (e) {
    throw new BootmediaError(
      "BM3306",
      `cannot read ${path} with lsblk: ${(e as { stderr?: string }).stderr?.trim() || (e as Error).message}`,
      { where: path },
    );
  }
  const dev = json.blockdevices?.[0];
  if (!dev) throw new BootmediaError("BM3306", `lsblk does not know ${path}`, { where: path });
  const sysRemovable = await readFile(`/sys/block/${basename(dev.path)}/removable`, "utf8").then(
    (s) => s.trim() === "1",
    () => false,
  );
  return { ...dev, rm: dev.rm || sysRemovable };
}

function isRemovable(dev: LsblkDevice): boolean {
  return dev.rm || dev.tran === "usb" || dev.hotplug === true;
}

function allMounts(dev: LsblkDevice): string[] {
  const own = dev.mountpoints.filter((m): m is string => m !== null);
  return [...own, ...(dev.children ?? []).flatMap(allMounts)];
}

/** Every rule the device breaks, as coded errors (empty = safe to write). */
export function checkDevice(dev: LsblkDevice, neededBytes: number): BootmediaError[] {
  const out: BootmediaError[] = [];
  const id = `${dev.path} (${describeDevice(dev)})`;
  if (dev.type !== "disk")
    out.push(new BootmediaError("BM3305", `${dev.path} is a ${dev.type}, not a whole disk`, { where: dev.path }));
  if (!isRemovable(dev))
    out.push(
      new BootmediaError("BM3301", `${id} is not removable (removable=0, transport ${dev.tran ?? "unknown"})`, {
        where: dev.path,
      }),
    );
  const mounts = allMounts(dev);
  const system = mounts.filter((m) => SYSTEM_MOUNTS.includes(m));
  if (system.length > 0)
    out.push(
      new BootmediaError("BM3303", `${id} holds the running system (mounted at ${system.join(", ")})`, {
        where: dev.path,
      }),
    );
  else if (mounts.length > 0)
    out.push(new BootmediaError("BM3302", `${id} has mounted partitions: ${mounts.join(", ")}`, { where: dev.path }));
  if (dev.ro) out.push(new BootmediaError("BM3308", `${id} is read-only`, { where: dev.path }));
  if (dev.size < neededBytes)
    out.push(
      new BootmediaError("BM3304", `${id} holds ${dev.size} bytes; the media needs ${neededBytes} bytes`, {
        where: dev.path,
      }),
    );
  return out;
}

export function describeDevice(dev: LsblkDevice): string {
  const gb = (dev.size / 1e9).toFixed(1);
  return `${dev.model?.trim() || "unknown model"}, ${gb} GB, serial ${dev.serial?.trim() || "unknown"}${dev.tran ? `, ${dev.tran}` : ""}`;
}
