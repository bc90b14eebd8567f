/**
 * Small whole-disk images for the os-image tests, made by the real tools: sgdisk/sfdisk for
 * the table, mkfs.ext4 writing its file system at the root partition's offset, and the zstd,
 * xz and gzip programs for the compressed copies.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";

const MiB = 1024 * 1024;

/** An empty sparse file of `bytes`. */
export function blankFile(path: string, bytes: number): string {
  writeFileSync(path, "");
  execFileSync("truncate", ["-s", String(bytes), path]);
  return path;
}

/** A GPT disk made by sgdisk: partitions `-n`/`-t`/`-c` as given, e.g. ["1:2048:+1M:ef02:bios", ...]. */
export function gptDisk(path: string, bytes: number, parts: string[]): string {
  blankFile(path, bytes);
  const args = parts.flatMap((p) => {
    const [n, start, end, type, name] = p.split(":");
    return [`-n${n}:${start}:${end}`, `-t${n}:${type}`, ...(name ? [`-c${n}:${name}`] : [])];
  });
  execFileSync("sgdisk", [...args, path], { stdio: "ignore" });
  return path;
}

/** The Debian layout the os-image builder makes: BIOS boot 1 MiB, ESP 8 MiB, x64 (or x86) root with ext4. */
export function debianLikeDisk(path: string, bytes = 64 * MiB, rootType = "8304"): string {
  gptDisk(path, bytes, ["1:2048:+1M:ef02:bios", "2:0:+8M:ef00:esp", `3:0:0:${rootType}:root`]);
  const sfdisk = JSON.parse(execFileSync("sfdisk", ["-J", path], { encoding: "utf8" }));
  const root = sfdisk.partitiontable.partitions[2];
  execFileSync(
    "mkfs.ext4",
    ["-q", "-F", "-L", "root", "-E", `offset=${root.start * 512}`, path, `${Math.floor((root.size * 512) / 1024)}k`],
    {
      stdio: "ignore",
    },
  );
  return path;
}

/** Compressed copies by the real programs: `path`.zst, .xz, .gz. */
export function compressWith(tool: "zstd" | "xz" | "gzip", path: string): string {
  const ext = { zstd: "zst", xz: "xz", gzip: "gz" }[tool];
  const out = `${path}.${ext}`;
  execFileSync("sh", ["-c", `${tool} -c -1 "$1" > "$2"`, "sh", path, out]);
  return out;
}
