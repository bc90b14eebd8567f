/**
 * The index of stand-alone media, twice: `content.txt` for the boot environment (busybox sh
 * reads it line by line: no JSON parser there) and `index.json` for bootmedia's own readers
 * (plan, inspect, diff). Both are written from one model, so they cannot disagree. Their
 * format is in docs/standalone-media.md. Hex fields have fixed widths: an index rendered with
 * zeros where the tags and hashes of encrypted files go (known only once encrypted, at write
 * time) has the size of the final one, so the layout can place it before a byte is encrypted.
 */
import type { KdfParams } from "../secrets/index.ts";
import type { ContentPackage } from "../../core/types.ts";
import { CONTENT_CIPHER, CONTENT_MAC } from "./content-crypto.ts";
import { INDEX_MAC_PATH, TASK_SEQUENCE_PATH, type PlacedFile } from "./placement.ts";

const CONTENT_INDEX_VERSION = 1;

/** What encryption gave one file (hex). */
export interface FileSeal {
  iv: string;
  tag: string;
  storedSha256: string;
}

export interface IndexModel {
  taskSequence: { id: string; steps: number };
  /** Names the set of media (16 hex digits): a disc of another set can be told apart. */
  setId: string;
  discs: number;
  protection?: { kdf: KdfParams; salt: string };
  packages: readonly ContentPackage[];
  files: readonly PlacedFile[];
  /** Encrypted files' IVs, tags and stored hashes by fileKey; absent ones render as zeros. */
  seals: ReadonlyMap<string, FileSeal>;
}

export const fileKey = (f: { packageId: string; path: string }) => `${f.packageId}\0${f.path}`;
const ZERO = "0".repeat(64);
const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

function sealOf(m: IndexModel, f: PlacedFile): FileSeal | undefined {
  if (!f.encrypted) return undefined;
  return m.seals.get(fileKey(f)) ?? { iv: ZERO.slice(0, 32), tag: ZERO, storedSha256: ZERO };
}

/** content.txt: tab-separated lines, one header, then K (key derivation), F (file) and C (piece) lines. */
export function renderContentIndex(m: IndexModel): string {
  const lines = [
    ["bootmedia-content", CONTENT_INDEX_VERSION, m.files.length, m.protection ? 1 : 0, m.setId, m.discs].join("\t"),
  ];
  if (m.protection) {
    const { kdf, salt } = m.protection;
    lines.push(["K", "scrypt", 2 ** kdf.log2N, kdf.r, kdf.p, salt].join("\t"));
  }
  for (const f of m.files) {
    const seal = sealOf(m, f);
    lines.push(
      [
        "F",
        f.packageId,
        f.sha256,
        f.size,
        seal ? CONTENT_CIPHER : "none",
        seal?.iv ?? "-",
        seal?.tag ?? "-",
        seal?.storedSha256 ?? f.sha256,
        f.pieces.length,
        b64(f.path),
      ].join("\t"),
    );
  }
  for (const f of m.files)
    for (const p of f.pieces)
      lines.push(["C", f.packageId, p.n, p.disc, p.offset, p.size, b64(f.path), b64(p.path)].join("\t"));
  return `${lines.join("\n")}\n`;
}

/** The JSON form: what inspect, diff and plan read. */
export interface StandaloneIndex {
  schema: 1;
  mediaType: "standalone";
  set: { id: string; discs: number };
  taskSequence: { id: string; steps: number; path: string };
  protection:
    | {
        cipher: typeof CONTENT_CIPHER;
        mac: typeof CONTENT_MAC;
        kdf: { name: "scrypt"; N: number; r: number; p: number; salt: string };
        indexMac: string;
      }
    | { cipher: "none" };
  packages: Array<{
    id: string;
    type: string;
    name: string;
    version: string;
    files: Array<{
      path: string;
      size: number;
      sha256: string;
      storedSha256: string;
      iv?: string;
      tag?: string;
      pieces: Array<{ n: number; disc: number; path: string; offset: number; size: number }>;
    }>;
  }>;
  /** Per disc (1 on USB and on a single disc): the media paths of the pieces on it. */
  discs: Array<{ index: number; pieces: string[] }>;
}

function indexJson(m: IndexModel): StandaloneIndex {
  const byPackage = (id: string) => m.files.filter((f) => f.packageId === id);
  return {
    schema: 1,
    mediaType: "standalone",
    set: { id: m.setId, discs: m.discs },
    taskSequence: { ...m.taskSequence, path: TASK_SEQUENCE_PATH },
    protection: m.protection
      ? {
          cipher: CONTENT_CIPHER,
          mac: CONTENT_MAC,
          kdf: {
            name: "scrypt",
            N: 2 ** m.protection.kdf.log2N,
            r: m.protection.kdf.r,
            p: m.protection.kdf.p,
            salt: m.protection.salt,
          },
          indexMac: INDEX_MAC_PATH,
        }
      : { cipher: "none" },
    packages: m.packages
      .filter((p) => byPackage(p.id).length > 0)
      .map((p) => ({
        id: p.id,
        type: p.type,
        name: p.name,
        version: p.version,
        files: byPackage(p.id).map((f) => {
          const seal = sealOf(m, f);
          return {
            path: f.path,
            size: f.size,
            sha256: f.sha256,
            storedSha256: seal?.storedSha256 ?? f.sha256,
            ...(seal ? { iv: seal.iv, tag: seal.tag } : {}),
            pieces: f.pieces.map((p) => ({ ...p })),
          };
        }),
      })),
    discs: Array.from({ length: m.discs }, (_, i) => ({
      index: i + 1,
      pieces: m.files.flatMap((f) => f.pieces.filter((p) => p.disc === i + 1).map((p) => p.path)),
    })),
  };
}

export const renderIndexJson = (m: IndexModel) => `${JSON.stringify(indexJson(m), null, 2)}\n`;

/** Reads index.json leniently: undefined when it is not a stand-alone index of this schema. */
export function parseStandaloneIndex(text: string): StandaloneIndex | undefined {
  try {
    const j = JSON.parse(text) as Partial<StandaloneIndex>;
    if (j.schema !== 1 || j.mediaType !== "standalone" || !Array.isArray(j.packages)) return undefined;
    return j as StandaloneIndex;
  } catch {
    return undefined;
  }
}
