/**
 * The whole-disk image: a sparse file with a GPT (BIOS-boot, ESP, root), written without loop
 * devices — sfdisk writes the table into the file, mkfs.ext4 fills the root partition from the
 * installed tree at its byte offset (`-E offset`, `-d`), formats/fat writes the ESP in place, and
 * GRUB's BIOS code goes into the MBR and the BIOS-boot partition as grub-bios-setup would
 * (formats/disk/grub.ts). Every id on the disk is derived from the build's seed, so the same
 * inputs give the same bytes.
 */
import { createHash } from "node:crypto";
import { open, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BootmediaError } from "../../base/errors.ts";
import type { TreeEntry } from "../../base/tree.ts";
import { runProgram } from "../../core/program.ts";
import { writeFat } from "../../formats/fat/index.ts";
import { checkGrubImages, embedGrubBios } from "../../formats/disk/grub.ts";
import { DISK_LAYOUT, PARTITION_TYPES } from "./config.ts";
import "./codes.ts";

const SECTOR = 512;

export interface DiskPartition {
  index: number;
  start: number;
  size: number;
  type: string;
  name: string;
  uuid: string;
}

export interface DiskPlan {
  size: number;
  diskGuid: string;
  partitions: DiskPartition[];
  /** ext4 UUID of the root filesystem (GRUB and fstab find the root by it). */
  rootFsUuid: string;
  /** ext4 directory hash seed: fixed so directory blocks are the same in every build. */
  rootHashSeed: string;
  /** The index of the root partition in `partitions` (1-based, as in the table). */
  rootPartition: number;
}

/** A UUID (RFC 9562 version 4 layout) derived from `seed` and a role name: stable per build input. */
export function derivedUuid(seed: string, role: string): string {
  const b = createHash("sha256").update(`bootmedia-os-image:${seed}:${role}`).digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function planDisk(size: number, rootType: string, seed: string): DiskPlan {
  const L = DISK_LAYOUT;
  const rootSize = size - L.rootStart - L.tailSize;
  const part = (index: number, start: number, sz: number, type: string, name: string): DiskPartition => ({
    index,
    start,
    size: sz,
    type,
    name,
    uuid: derivedUuid(seed, `partition-${name}`),
  });
  return {
    size,
    diskGuid: derivedUuid(seed, "disk"),
    partitions: [
      part(1, L.biosBootStart, L.biosBootSize, PARTITION_TYPES.biosBoot, "bios"),
      part(2, L.espStart, L.espSize, PARTITION_TYPES.esp, "esp"),
      part(3, L.rootStart, rootSize, rootType, "root"),
    ],
    rootFsUuid: derivedUuid(seed, "root-fs"),
    rootHashSeed: derivedUuid(seed, "root-hash-seed"),
    rootPartition: 3,
  };
}

/** sfdisk's script for the plan (sfdisk(8) "INPUT FORMATS"): sectors, fixed GUIDs. */
function sfdiskScript(plan: DiskPlan): string {
  const lines = ["label: gpt", `label-id: ${plan.diskGuid}`, "unit: sectors", "sector-size: 512", ""];
  for (const p of plan.partitions)
    lines.push(`start=${p.start / SECTOR}, size=${p.size / SECTOR}, type=${p.type}, uuid=${p.uuid}, name="${p.name}"`);
  return `${lines.join("\n")}\n`;
}

async function step(what: string, run: () => Promise<{ exitCode?: number; stderr?: unknown; stdout?: unknown }>) {
  const r = await run();
  if (r.exitCode !== 0)
    throw new BootmediaError(
      "BM5404",
      `${what} failed: ${String(r.stderr ?? r.stdout)
        .trim()
        .slice(-2000)}`,
    );
}

/** Creates the sparse image file and writes its GPT. */
export async function writePartitionTable(file: string, plan: DiskPlan): Promise<void> {
  await rm(file, { force: true });
  const fh = await open(file, "w");
  await fh.truncate(plan.size);
  await fh.close();
  await step("sfdisk", () =>
    runProgram("sfdisk", ["--no-reread", "--no-tell-kernel", "-q", file], {
      input: sfdiskScript(plan),
      reject: false,
    }),
  );
}

/**
 * The root ext4, filled from `tree`, in place at the root partition's offset. Times come from
 * E2FSPROGS_FAKE_TIME (the superblock's) and the tree's own files (inodes).
 */
export async function writeRootFs(file: string, plan: DiskPlan, tree: string, sourceDateEpoch: number): Promise<void> {
  const root = plan.partitions[plan.rootPartition - 1]!;
  const r = await runProgram(
    "mkfs.ext4",
    [
      "-q",
      "-F",
      "-L",
      "root",
      "-U",
      plan.rootFsUuid,
      "-E",
      `offset=${root.start},hash_seed=${plan.rootHashSeed},nodiscard`,
      "-d",
      tree,
      file,
      `${root.size / 1024}k`,
    ],
    { reject: false, env: { E2FSPROGS_FAKE_TIME: String(sourceDateEpoch) } },
  );
  if (r.exitCode !== 0) {
    const text = `${r.stderr}${r.stdout}`;
    if (/No space left|Could not allocate/i.test(text))
      throw new BootmediaError(
        "BM5403",
        `the tree does not fit the root partition of ${Math.floor(root.size / 2 ** 20)} MiB: ${text.trim().slice(-300)}`,
      );
    throw new BootmediaError("BM5404", `mkfs.ext4 failed: ${text.trim().slice(-2000)}`);
  }
}

/** The ESP (FAT32) in place at its offset; returns its volume serial as fstab spells it (XXXX-XXXX). */
export async function writeEsp(
  file: string,
  plan: DiskPlan,
  entries: TreeEntry[],
  sourceDateEpoch: number,
): Promise<string> {
  const esp = plan.partitions.find((p) => p.name === "esp")!;
  const fh = await open(file, "r+");
  try {
    const fat = await writeFat(
      entries,
      { label: "EFI", sourceDateEpoch, sizeBytes: esp.size, fatType: 32 },
      { fd: fh.fd, offset: esp.start },
    );
    const hex = fat.volumeId.toString(16).toUpperCase().padStart(8, "0");
    return `${hex.slice(0, 4)}-${hex.slice(4)}`;
  } finally {
    await fh.close();
  }
}

/** GRUB's BIOS boot code: boot.img into the MBR (its table kept), core.img into the BIOS-boot partition. */
export async function writeGrubBios(file: string, plan: DiskPlan, bootImg: Buffer, coreImg: Buffer): Promise<void> {
  const bios = plan.partitions.find((p) => p.name === "bios")!;
  const coreLba = bios.start / SECTOR;
  // The limit is the partition's size: checked as a "gap" of that many sectors after LBA 0.
  checkGrubImages(bootImg, coreImg, bios.size / SECTOR + 1, { boot: "boot.img", core: "core.img" });
  const fh = await open(file, "r+");
  try {
    const mbr = Buffer.alloc(SECTOR);
    await fh.read(mbr, 0, SECTOR, 0);
    const embedded = embedGrubBios(mbr, bootImg, coreImg, coreLba);
    await fh.write(embedded.mbr, 0, SECTOR, 0);
    await fh.write(embedded.core, 0, embedded.core.length, bios.start);
  } finally {
    await fh.close();
  }
}

/** Every path of `tree` as debugfs names it ("/etc/fstab"), parents before children. */
async function treePaths(tree: string): Promise<string[]> {
  const out: string[] = ["/"];
  const walk = async (dir: string, rel: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const p = `${rel}/${e.name}`;
      out.push(p);
      if (e.isDirectory()) await walk(join(dir, e.name), p);
    }
  };
  await walk(tree, "");
  return out;
}

/**
 * mkfs.ext4 -d copies each file's atime and ctime from the build host (the time the build
 * ran, which nothing can set back): debugfs sets both to SOURCE_DATE_EPOCH on every inode,
 * so two builds give the same inode tables. mtimes are the packages' own (clamped).
 */
export async function normalizeInodeTimes(
  file: string,
  plan: DiskPlan,
  tree: string,
  epoch: number,
  work: string,
): Promise<number> {
  const root = plan.partitions[plan.rootPartition - 1]!;
  // Inside debugfs's double quotes a backslash is literal (systemd's "\x2d" unit names); a
  // quote or a line break could not be spelled, and Debian ships no such name.
  const paths = await treePaths(tree);
  const odd = paths.find((p) => /["\n\r]/.test(p));
  if (odd !== undefined) throw new BootmediaError("BM5404", `debugfs cannot name ${JSON.stringify(odd)}`);
  const script = paths.flatMap((p) => [`sif "${p}" ctime @${epoch}`, `sif "${p}" atime @${epoch}`]).join("\n");
  const cmdFile = join(work, "debugfs-times.txt");
  await writeFile(cmdFile, `${script}\n`);
  // Its own writes (the superblock's write time) take the fake time too.
  const r = await runProgram("debugfs", ["-w", "-f", cmdFile, `${file}?offset=${root.start}`], {
    reject: false,
    env: { E2FSPROGS_FAKE_TIME: String(epoch) },
  });
  if (r.exitCode !== 0) throw new BootmediaError("BM5404", `debugfs failed: ${r.stderr.trim().slice(-2000)}`);
  const errors = r.stderr.split("\n").filter((l) => /^sif|error|not found/i.test(l) && !l.startsWith("debugfs"));
  if (errors.length > 0) throw new BootmediaError("BM5404", `debugfs: ${errors.slice(0, 5).join("; ")}`);
  return paths.length;
}
