/**
 * Where apply-image's time goes, in the guest (npm run bench:deploy -- --parts stages): each
 * stage of the pipeline on its own, as run-command steps timed by /proc/uptime. The image's
 * bytes come from a read-only virtio disk (/dev/vda: the raw image, then the zstd and the xz
 * file, each at a 4 MiB boundary) or from the distribution point; the target is the NVMe disk.
 * Each step prints one line, `STAGE <name> <bytes> <seconds>`, which reaches the MP as the
 * step's message.
 */
import { closeSync, openSync, statSync } from "node:fs";
import { execFileSync } from "node:child_process";

const MIB4 = 4 * 1048576;
const up4 = (n: number) => Math.ceil(n / MIB4) * MIB4;

export interface SourceLayout {
  raw: { offset: number; bytes: number };
  zst: { offset: number; bytes: number };
  xz: { offset: number; bytes: number };
}

/** Writes the source disk: the raw image at 0, the zstd and xz files after it (sparse where zero). */
export function writeSourceDisk(path: string, files: { raw: string; zst: string; xz: string }): SourceLayout {
  const raw = { offset: 0, bytes: statSync(files.raw).size };
  const zst = { offset: up4(raw.bytes), bytes: statSync(files.zst).size };
  const xz = { offset: up4(zst.offset + zst.bytes), bytes: statSync(files.xz).size };
  closeSync(openSync(path, "w"));
  for (const [file, at] of [
    [files.raw, raw],
    [files.zst, zst],
    [files.xz, xz],
  ] as const)
    execFileSync(
      "dd",
      [`if=${file}`, `of=${path}`, "bs=4M", `seek=${at.offset}`, "oflag=seek_bytes", "conv=notrunc,sparse"],
      {
        stdio: "pipe",
      },
    );
  execFileSync("truncate", ["-s", String(up4(xz.offset + xz.bytes)), path]);
  return { raw, zst, xz };
}

/** A run-command step that times `body` (bytes: what it moves) and prints the STAGE line. */
export function timedStep(name: string, bytes: number, body: string, setup = ""): Record<string, unknown> {
  const command = `set -e
up() { cut -d ' ' -f 1 /proc/uptime; }
${setup}
a=$(up)
${body}
b=$(up)
echo "STAGE ${name} ${bytes} $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", b - a }')"`;
  return { name: `stage ${name}`, type: "run-command", command, timeout: 3600 };
}

/** The stage steps, in order (the target disk is /dev/nvme0n1, the source /dev/vda). */
export function stageSteps(l: SourceLayout, storedUrl: { zst: string; xz: string }): Array<Record<string, unknown>> {
  const src = (part: { offset: number; bytes: number }, flags = "") =>
    `dd if=/dev/vda bs=4M skip=${part.offset} count=${part.bytes} iflag=skip_bytes,count_bytes${flags}`;
  const toTmp = (part: { offset: number; bytes: number }, file: string) => `${src(part)} of=${file} 2>/dev/null`;
  const R = l.raw.bytes;
  const get = (url: string) => {
    const u = new URL(url);
    return `rm -f /tmp/req; mkfifo /tmp/req
nc ${u.hostname} ${u.port || 80} </tmp/req >OUT &
n=$!
exec 5>/tmp/req
printf 'GET ${u.pathname} HTTP/1.1\\r\\nHost: ${u.hostname}\\r\\nConnection: close\\r\\n\\r\\n' >&5
wait $n
exec 5>&-`;
  };
  const Z = l.zst.bytes;
  const X = l.xz.bytes;
  return [
    timedStep("source-read", R, `${src(l.raw, ",direct")} of=/dev/null 2>/dev/null`),
    timedStep("floor dd 4M", R, `${src(l.raw, ",direct")} of=/dev/nvme0n1 conv=fsync 2>/dev/null`),
    timedStep("floor dd 4M direct", R, `${src(l.raw, ",direct")} of=/dev/nvme0n1 oflag=direct 2>/dev/null`),
    timedStep("zeros dd 4M", R, `dd if=/dev/zero of=/dev/nvme0n1 bs=4M count=${R / MIB4} conv=fsync 2>/dev/null`),
    timedStep("net nc", Z, get(storedUrl.zst).replace("OUT", "/dev/null")),
    timedStep("net wget", Z, `wget -q -O /dev/null ${storedUrl.zst}`),
    timedStep("net nc | cat", Z, get(storedUrl.zst).replace(">OUT", "| cat >/dev/null")),
    timedStep("pipe cat | cat", Z, "cat /tmp/z | cat >/dev/null", toTmp(l.zst, "/tmp/z")),
    timedStep("sha256sum", Z, "sha256sum /tmp/z >/dev/null"),
    timedStep("openssl sha256", Z, "openssl dgst -sha256 /tmp/z >/dev/null"),
    timedStep(
      "tee fifo + wc",
      Z,
      "rm -f /tmp/f; mkfifo /tmp/f; wc -c </tmp/f >/dev/null & tee /tmp/f </tmp/z >/dev/null; wait",
    ),
    timedStep("zstd -dc >null", R, "zstd -dc /tmp/z >/dev/null"),
    timedStep("zstd -dc >disk", R, "zstd -dc /tmp/z >/dev/nvme0n1; sync"),
    timedStep("zstd -dc | dd 4M", R, "zstd -dc /tmp/z | dd of=/dev/nvme0n1 bs=4M iflag=fullblock 2>/dev/null; sync"),
    timedStep(
      "zstd -dc | dd direct",
      R,
      "zstd -dc /tmp/z | dd of=/dev/nvme0n1 bs=4M iflag=fullblock oflag=direct 2>/dev/null",
    ),
    timedStep("xz -dc >null", R, "/usr/bin/xz -dc /tmp/x >/dev/null", `rm -f /tmp/z\n${toTmp(l.xz, "/tmp/x")}`),
    timedStep("busybox unxz >null", R, "unxz -c </tmp/x >/dev/null"),
    timedStep("xz -dc >disk", R, "/usr/bin/xz -dc /tmp/x >/dev/nvme0n1; sync"),
    timedStep("sha256sum xz", X, "sha256sum /tmp/x >/dev/null"),
  ];
}

/** The STAGE lines of a run's messages: name → { bytes, seconds }. */
export function parseStages(messages: string[]): Array<{ name: string; bytes: number; seconds: number }> {
  const out: Array<{ name: string; bytes: number; seconds: number }> = [];
  for (const msg of messages)
    for (const line of msg.split("\n")) {
      const m = line.match(/^STAGE (.+) (\d+) ([\d.]+)$/);
      if (m) out.push({ name: m[1]!, bytes: Number(m[2]), seconds: Number(m[3]) });
    }
  return out;
}
