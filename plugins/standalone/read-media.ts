/**
 * Stand-alone media read back (inspect, inspect --check, diff): bootmedia/standalone/index.json
 * says which packages the media carry, each file as one file whatever its pieces; the check
 * joins the pieces while hashing them (streamed) against the index's stored sha256.
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
      stored: string[];
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
        stored: f.pieces.map((x) => x.path),
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
  const lines = [
    `stand-alone media: task sequence ${r.taskSequence.id} (${r.taskSequence.steps} steps), set ${r.set.id}, ${r.set.discs} disc(s)`,
    r.protected
      ? "  content: encrypted (AES-256-CTR + HMAC-SHA256, key from the media password by scrypt)"
      : `  content: NOT PROTECTED — warning ${r.warning}`,
  ];
  for (const p of r.packages)
    for (const f of p.files)
      lines.push(
        `  ${p.id.padEnd(10)} ${f.path}  ${mib(f.size)}${f.pieces > 1 ? `  (${f.pieces} pieces: ${f.stored.map((s) => s.slice(s.lastIndexOf("/") + 1)).join(", ")})` : ""}`,
      );
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
        const n = await media.stream(piece, (chunk) => hash.update(chunk));
        if (n === undefined) missing.push(piece);
        else size += n;
      }
      const what = `${p.id}/${f.path}`;
      if (missing.length > 0) {
        // One disc of a set holds only its own pieces (a per-disc check comes with CD/DVD sets).
        if (report.set.discs === 1)
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
