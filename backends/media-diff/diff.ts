/**
 * `bootmedia diff <a> <b>`: what differs between two media, as a person deploying them
 * asks it — settings, certificate, password, variables, prestart, boot images — then the
 * remaining files. Files that only restate those facts (media.json, media.env, media.crt,
 * the verifier, the secret part, the manifest, stand-alone media's index and content) are compared through the facts, so one
 * change is reported once. Secret values are never read: a secret variable or password is
 * "changed" only when the media prove it (same salt, other verifier or secret part).
 */
import { createHash } from "node:crypto";
import { UDA_VARIABLE } from "../../plugins/media-config/media-config-plugin.ts";
import { CONFIG_ENV, CONFIG_JSON } from "../../core/media-config.ts";
import { CERT_PATH } from "../../plugins/certificates/certificate-plugin.ts";
import { VERIFIER_FILE } from "../../plugins/password/password-plugin.ts";
import { PRESTART_DIR } from "../../plugins/prestart/prestart-plugin.ts";
import { SECRETS_FILE } from "../../plugins/secrets/secret-box.ts";
import { SECRETS_PATH } from "../../plugins/secrets/secrets-plugin.ts";
import { VOLUME_ID_FILE, VOLUMES_MANIFEST } from "../../plugins/iso/split.ts";
import { MANIFEST_PATH } from "../../plugins/media-manifest/manifest.ts";
import type { OpenedMedia } from "../../core/plugin.ts";
import {
  isStandaloneFile,
  readStandalone,
  STANDALONE_PROGRAM,
  type StandaloneReport,
} from "../../plugins/standalone/index.ts";

const DIFF_AREAS = [
  "settings",
  "certificate",
  "password",
  "secrets",
  "variables",
  "prestart",
  "boot-images",
  "standalone",
  "files",
] as const;
type DiffArea = (typeof DIFF_AREAS)[number];

interface Difference {
  area: DiffArea;
  /** What differs: a setting, a variable or file name, "media certificate". */
  item: string;
  change: "added" | "removed" | "changed";
  /** Only the facts that differ; never a secret value. */
  a?: unknown;
  b?: unknown;
}

interface MediaDiff {
  a: { path: string; kind: string };
  b: { path: string; kind: string };
  equal: boolean;
  differences: Difference[];
}

/** Files compared through the facts they hold, never byte for byte. */
const FACT_FILES = new Set([
  CONFIG_JSON,
  CONFIG_ENV,
  CERT_PATH,
  VERIFIER_FILE,
  SECRETS_PATH,
  MANIFEST_PATH,
  VOLUME_ID_FILE,
  VOLUMES_MANIFEST,
]);
const SETTINGS = [
  "id",
  "taskSequence",
  "unattended",
  "unknownComputers",
  "userDeviceAffinity",
  "managementPoints",
] as const;
const CERT_FIELDS = ["mode", "subject", "issuer", "serial", "notBefore", "notAfter", "sha256", "chainLength"] as const;

type Config = Record<string, unknown>;
const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

export async function diffMedia(a: OpenedMedia, b: OpenedMedia): Promise<MediaDiff> {
  const ca = a.config ?? {};
  const cb = b.config ?? {};
  const out: Difference[] = [];
  for (const key of SETTINGS)
    if (!same(ca[key], cb[key])) out.push({ area: "settings", item: key, change: "changed", a: ca[key], b: cb[key] });
  const certChanged = diffCertificate(ca, cb, out);
  await diffPassword(a, b, ca, cb, out);
  await diffSecrets(a, b, certChanged, out);
  diffVariables(ca, cb, out);
  if (!same((ca.prestart as Config | undefined)?.command, (cb.prestart as Config | undefined)?.command)) {
    out.push({
      area: "prestart",
      item: "command",
      change: "changed",
      a: (ca.prestart as Config | undefined)?.command,
      b: (cb.prestart as Config | undefined)?.command,
    });
  }
  diffImages(ca, cb, out);
  await diffStandalone(a, b, out);
  await diffFiles(a, b, out);
  return {
    a: { path: a.path, kind: a.kind },
    b: { path: b.path, kind: b.kind },
    equal: out.length === 0,
    differences: out,
  };
}

function diffCertificate(ca: Config, cb: Config, out: Difference[]): boolean {
  const x = ca.certificate as Config | undefined;
  const y = cb.certificate as Config | undefined;
  if (!x && !y) return false;
  if (!x || !y) {
    out.push({
      area: "certificate",
      item: "media certificate",
      change: x ? "removed" : "added",
      ...(x ? { a: pick(x, CERT_FIELDS) } : { b: pick(y!, CERT_FIELDS) }),
    });
    return true;
  }
  const fields = CERT_FIELDS.filter((f) => !same(x[f], y[f]));
  if (fields.length === 0) return false;
  out.push({
    area: "certificate",
    item: "media certificate",
    change: "changed",
    a: pick(x, fields),
    b: pick(y, fields),
  });
  return true;
}

/** `$6$rounds=N$salt$hash`: the verifier's salt, public by design. */
const verifierSalt = (line: string) => line.trim().split("$").slice(0, -1).join("$");

async function diffPassword(a: OpenedMedia, b: OpenedMedia, ca: Config, cb: Config, out: Difference[]): Promise<void> {
  const pa = (ca.password as Config | undefined)?.present === true;
  const pb = (cb.password as Config | undefined)?.present === true;
  if (pa !== pb) {
    out.push({
      area: "password",
      item: "media password",
      change: pa ? "removed" : "added",
      a: { present: pa },
      b: { present: pb },
    });
    return;
  }
  if (!pa) return;
  const va = (await a.read(VERIFIER_FILE))?.toString("utf8") ?? "";
  const vb = (await b.read(VERIFIER_FILE))?.toString("utf8") ?? "";
  // Other salts (every other spec or epoch gets its own) hide whether the password changed.
  if (verifierSalt(va) === verifierSalt(vb) && va.trim() !== vb.trim())
    out.push({
      area: "password",
      item: "media password",
      change: "changed",
      a: { present: true },
      b: { present: true },
    });
}

/** The secret part under one salt: other bytes = other secrets. A new certificate brings a new key, reported there. */
async function diffSecrets(a: OpenedMedia, b: OpenedMedia, certChanged: boolean, out: Difference[]): Promise<void> {
  const x = await a.read(SECRETS_PATH);
  const y = await b.read(SECRETS_PATH);
  if (!x || !y || certChanged) return;
  const salt = (buf: Buffer) =>
    buf.subarray(SECRETS_FILE.salt.offset, SECRETS_FILE.salt.offset + SECRETS_FILE.salt.size);
  if (salt(x).equals(salt(y)) && !x.equals(y))
    out.push({
      area: "secrets",
      item: "secret part",
      change: "changed",
      a: { sha256: sha256(x) },
      b: { sha256: sha256(y) },
    });
}

function diffVariables(ca: Config, cb: Config, out: Difference[]): void {
  const va = { ...((ca.variables ?? {}) as Record<string, string>) };
  const vb = { ...((cb.variables ?? {}) as Record<string, string>) };
  // Restates userDeviceAffinity, reported with the settings.
  delete va[UDA_VARIABLE.name];
  delete vb[UDA_VARIABLE.name];
  for (const name of [...new Set([...Object.keys(va), ...Object.keys(vb)])].sort()) {
    if (!(name in va)) out.push({ area: "variables", item: name, change: "added", b: vb[name] });
    else if (!(name in vb)) out.push({ area: "variables", item: name, change: "removed", a: va[name] });
    else if (va[name] !== vb[name])
      out.push({ area: "variables", item: name, change: "changed", a: va[name], b: vb[name] });
  }
  const sa = new Set((ca.secretVariables ?? []) as string[]);
  const sb = new Set((cb.secretVariables ?? []) as string[]);
  for (const name of [...new Set([...sa, ...sb])].sort()) {
    if (!sa.has(name)) out.push({ area: "variables", item: name, change: "added", b: { secret: true } });
    else if (!sb.has(name)) out.push({ area: "variables", item: name, change: "removed", a: { secret: true } });
  }
}

function diffImages(ca: Config, cb: Config, out: Difference[]): void {
  type Image = { id: string; arch: string; kernel: string; initrd: string; drivers: string[] };
  const ia = new Map(((ca.images ?? []) as Image[]).map((i) => [i.id, i]));
  const ib = new Map(((cb.images ?? []) as Image[]).map((i) => [i.id, i]));
  for (const id of [...new Set([...ia.keys(), ...ib.keys()])].sort()) {
    const x = ia.get(id);
    const y = ib.get(id);
    if (!x) out.push({ area: "boot-images", item: id, change: "added", b: { arch: y!.arch, drivers: y!.drivers } });
    else if (!y)
      out.push({ area: "boot-images", item: id, change: "removed", a: { arch: x.arch, drivers: x.drivers } });
    else {
      const fields = (["arch", "kernel", "initrd", "drivers"] as const).filter((f) => !same(x[f], y[f]));
      if (fields.length > 0)
        out.push({ area: "boot-images", item: id, change: "changed", a: pick(x, fields), b: pick(y, fields) });
    }
  }
}

/**
 * Stand-alone media (docs/standalone-media.md): the media type, the task sequence's program,
 * whether the content is protected, and each package file by its plaintext size and sha256
 * (the stored bytes differ whenever the password or the salt does).
 */
async function diffStandalone(a: OpenedMedia, b: OpenedMedia, out: Difference[]): Promise<void> {
  const [sa, sb] = [await readStandalone(a), await readStandalone(b)];
  if (!sa && !sb) return;
  const type = (s: unknown) => (s ? "standalone" : "bootable");
  if (!sa || !sb) {
    out.push({ area: "standalone", item: "mediaType", change: "changed", a: type(sa), b: type(sb) });
    return;
  }
  const program = async (m: OpenedMedia) => {
    const bytes = await m.read(STANDALONE_PROGRAM);
    return bytes ? sha256(bytes) : undefined;
  };
  const [pa, pb] = [await program(a), await program(b)];
  if (pa !== pb)
    out.push({
      area: "standalone",
      item: "task sequence program",
      change: "changed",
      a: { sha256: pa },
      b: { sha256: pb },
    });
  if (sa.protected !== sb.protected)
    out.push({
      area: "standalone",
      item: "protection",
      change: "changed",
      a: sa.protection.cipher,
      b: sb.protection.cipher,
    });
  const files = (r: StandaloneReport) =>
    new Map(
      r.packages.flatMap((p) =>
        p.files.map((f) => [`${p.id}/${f.path}`, { size: f.size, sha256: f.sha256, pieces: f.pieces }]),
      ),
    );
  const [fa, fb] = [files(sa), files(sb)];
  for (const item of [...new Set([...fa.keys(), ...fb.keys()])].sort()) {
    const x = fa.get(item);
    const y = fb.get(item);
    if (!x) out.push({ area: "standalone", item, change: "added", b: y });
    else if (!y) out.push({ area: "standalone", item, change: "removed", a: x });
    else if (!same(x, y)) out.push({ area: "standalone", item, change: "changed", a: x, b: y });
  }
}

/** sha256 of a file of any size, streamed. */
async function hashFile(m: OpenedMedia, path: string): Promise<string> {
  const h = createHash("sha256");
  await m.stream(path, (chunk) => h.update(chunk));
  return h.digest("hex");
}

/** Every other file by size, then hash; prestart files are reported as prestart. */
async function diffFiles(a: OpenedMedia, b: OpenedMedia, out: Difference[]): Promise<void> {
  // Stand-alone media's own files are compared through their facts (diffStandalone).
  const compared = (f: { path: string }) => !FACT_FILES.has(f.path) && !isStandaloneFile(f.path);
  const fa = new Map(a.files.filter(compared).map((f) => [f.path, f.size]));
  const fb = new Map(b.files.filter(compared).map((f) => [f.path, f.size]));
  for (const path of [...new Set([...fa.keys(), ...fb.keys()])].sort()) {
    const area: DiffArea = path.startsWith(`${PRESTART_DIR}/`) ? "prestart" : "files";
    const sa = fa.get(path);
    const sb = fb.get(path);
    if (sa === undefined) {
      out.push({ area, item: path, change: "added", b: { size: sb, sha256: await hashFile(b, path) } });
      continue;
    }
    if (sb === undefined) {
      out.push({ area, item: path, change: "removed", a: { size: sa, sha256: await hashFile(a, path) } });
      continue;
    }
    const ha = await hashFile(a, path);
    const hb = await hashFile(b, path);
    if (sa !== sb || ha !== hb)
      out.push({ area, item: path, change: "changed", a: { size: sa, sha256: ha }, b: { size: sb, sha256: hb } });
  }
}

function pick<T extends object>(o: T, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => k in o).map((k) => [k, (o as Record<string, unknown>)[k]]));
}

/** Text for people: one line per difference, grouped in DIFF_AREAS order. */
export function formatDiff(d: MediaDiff): string {
  if (d.equal) return `${d.a.path} and ${d.b.path}: no differences\n`;
  const lines = [`--- ${d.a.path} (${d.a.kind})`, `+++ ${d.b.path} (${d.b.kind})`];
  const show = (v: unknown) => JSON.stringify(v);
  for (const area of DIFF_AREAS) {
    const items = d.differences.filter((x) => x.area === area);
    if (items.length === 0) continue;
    lines.push(`${area}:`);
    for (const x of items) {
      const sign = x.change === "added" ? "+" : x.change === "removed" ? "-" : "~";
      lines.push(
        `  ${sign} ${x.item}${x.a !== undefined ? `: ${show(x.a)}` : ""}${x.change === "changed" ? " ->" : ""}${x.b !== undefined ? ` ${show(x.b)}` : ""}`,
      );
    }
  }
  lines.push(`${d.differences.length} difference${d.differences.length === 1 ? "" : "s"}`);
  return lines.join("\n") + "\n";
}
