/**
 * Stand-alone media read back (inspect, inspect --check, diff): bootmedia/standalone/index.json
 * says which packages the media carry, each file as one file whatever its pieces and discs; the
 * check joins the pieces while hashing them (streamed) against the index's stored sha256 (a set
 * is checked whole: read-set.ts opens its discs as one medium).
 */
import { createHash } from "node:crypto";
import { diagnostic, type Diagnostic } from "../../base/diagnostics.ts";
import type { OpenedMedia } from "../../core/plugin.ts";
import { parseStandaloneIndex, type StandaloneIndex } from "./media-index.ts";
import { INDEX_JSON_PATH } from "./placement.ts";
import "./codes.ts";

export interface StandaloneReport {
  taskSequence: { id: string; steps: number };
  set: { id: string; discs: number };
  protected: boolean;
  protection: StandaloneIndex["protection"];
  packages: Array<{
    id: string;
    type: string;
    name: string;
    files: Array<{
      path: string;
      size: number;
      sha256: string;
      storedSha256: string;
      pieces: number;
      /** Each piece's media path and disc, in the order they join. */
      stored: Array<{ path: string; disc: number }>;
    }>;
  }>;
  /** Unprotected media: the warning the build gave. */
  warning?: string;
}

/** The stand-alone part of media; undefined for bootable media. */
export async function readStandalone(media: OpenedMedia): Promise<StandaloneReport | undefined> {
  const bytes = await media.read(INDEX_JSON_PATH);
  const index = bytes ? parseStandaloneIndex(bytes.toString("utf8")) : undefined;
  if (!index) return undefined;
  const isProtected = index.protection.cipher !== "none";
  return {
    taskSequence: { id: index.taskSequence.id, steps: index.taskSequence.steps },
    set: index.set,
    protected: isProtected,
    protection: index.protection,
    packages: index.packages.map((p) => ({
      id: p.id,
      type: p.type,
      name: p.name,
      files: p.files.map((f) => ({
        path: f.path,
        size: f.size,
        sha256: f.sha256,
        storedSha256: f.storedSha256,
        pieces: f.pieces.length,
        stored: [...f.pieces].sort((a, b) => a.n - b.n).map((x) => ({ path: x.path, disc: x.disc })),
      })),
    })),
    ...(isProtected
      ? {}
      : {
          warning: "BM6103: stand-alone media without a password: the OS image and packages are in clear on the media",
        }),
  };
}

export function formatStandalone(r: StandaloneReport): string {
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
  const set = r.set.discs > 1;
  const lines = [
    `stand-alone media: task sequence ${r.taskSequence.id} (${r.taskSequence.steps} steps), set ${r.set.id}, ${set ? `disc 1 of ${r.set.discs} (the index is here; discs 2-${r.set.discs} hold pieces)` : "1 disc"}`,
    r.protected
      ? "  content: encrypted (AES-256-CTR + HMAC-SHA256, key from the media password by scrypt)"
      : `  content: NOT PROTECTED — warning ${r.warning}`,
  ];
  const name = (path: string) => path.slice(path.lastIndexOf("/") + 1);
  for (const p of r.packages)
    for (const f of p.files) {
      const where = f.stored.map((x) => `${name(x.path)}${set ? ` on disc ${x.disc}` : ""}`).join(", ");
      lines.push(
        `  ${p.id.padEnd(10)} ${f.path}  ${mib(f.size)}${f.pieces > 1 ? `  (${f.pieces} pieces: ${where})` : set ? `  (on disc ${f.stored[0]?.disc})` : ""}`,
      );
    }
  return `${lines.join("\n")}\n`;
}

export interface StandaloneCheck {
  filesChecked: number;
  bytesChecked: number;
}

/** Every package file joined from its pieces and rehashed (streamed); BM6109 for each that differs or lacks a piece. */
export async function checkStandalone(
  media: OpenedMedia,
  report: StandaloneReport,
  findings: Diagnostic[],
): Promise<StandaloneCheck> {
  let filesChecked = 0;
  let bytesChecked = 0;
  if (report.warning)
    findings.push(diagnostic("BM6103", report.warning.replace(/^BM6103: /, ""), { severity: "warning" }));
  for (const p of report.packages)
    for (const f of p.files) {
      const hash = createHash("sha256");
      let size = 0;
      const missing: string[] = [];
      for (const piece of f.stored) {
        const n = await media.stream(piece.path, (chunk) => hash.update(chunk));
        if (n === undefined) missing.push(`${piece.path}${report.set.discs > 1 ? ` (disc ${piece.disc})` : ""}`);
        else size += n;
      }
      const what = `${p.id}/${f.path}`;
      if (missing.length > 0) {
        findings.push(diagnostic("BM6109", `${what}: ${missing.join(", ")} missing from the media`, { path: what }));
        continue;
      }
      filesChecked++;
      bytesChecked += size;
      const sha256 = hash.digest("hex");
      if (sha256 !== f.storedSha256 || size !== f.size)
        findings.push(
          diagnostic(
            "BM6109",
            `${what}: its ${f.stored.length} piece(s) join to ${size} bytes, sha256 ${sha256}; the index says ${f.size} bytes, sha256 ${f.storedSha256}`,
            { path: what },
          ),
        );
    }
  return { filesChecked, bytesChecked };
}
