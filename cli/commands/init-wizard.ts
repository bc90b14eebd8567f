/**
 * The pages of `bootmedia init`, in the order of the classic Create Task Sequence Media
 * wizard: media type (bootable or stand-alone) and unattended; media management (dynamic or site-based); USB or
 * CD/DVD; security; boot image, content library and management points; customization.
 * Each question fills one spec path; a flag that already set it skips the question, and
 * `--yes` (or a missing terminal, where it is an error) never waits for input.
 */
import * as p from "@clack/prompts";
import { BootmediaError } from "../../base/errors.ts";
import type { SpecModel } from "../../core/spec-model.ts";
import { CAPACITIES } from "../../plugins/iso/spec.ts";
import { MP_MODES, UDA_MODES } from "../../plugins/media-config/spec.ts";
import { checkAnswer } from "./init-checks.ts";

type Raw = Record<string, unknown>;
const DAY_MS = 86_400_000;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function getPath(o: Raw, path: string): unknown {
  return path.split(".").reduce<unknown>((x, k) => (x && typeof x === "object" ? (x as Raw)[k] : undefined), o);
}
function setPath(o: Raw, path: string, value: unknown): void {
  const keys = path.split(".");
  if (value === undefined) {
    // Unset: drop the key, then any parent it leaves empty (an optional section not chosen).
    const parent = getPath(o, keys.slice(0, -1).join("."));
    if (parent && typeof parent === "object") delete (parent as Raw)[keys.at(-1)!];
    if (keys.length > 1 && parent && typeof parent === "object" && Object.keys(parent).length === 0)
      setPath(o, keys.slice(0, -1).join("."), undefined);
    return;
  }
  let at = o;
  for (const k of keys.slice(0, -1)) at = (at[k] && typeof at[k] === "object" ? at[k] : (at[k] = {})) as Raw;
  at[keys.at(-1)!] = value;
}

interface Question {
  /** The spec path the answer fills (flags that set it skip the question). */
  path: string;
  when?: (raw: Raw) => boolean;
  default: (raw: Raw, now: number) => unknown;
  ask: (raw: Raw, dflt: unknown, validate: (v: unknown) => string | undefined) => Promise<unknown>;
}

const text =
  (
    message: string,
    toValue: (s: string) => unknown = (s) => s,
    show: (v: unknown) => string = (v) => (v === undefined ? "" : String(v)),
  ) =>
  (_: Raw, dflt: unknown, validate: (v: unknown) => string | undefined) =>
    p
      .text({ message, initialValue: show(dflt), validate: (s) => validate(toValue(String(s ?? "").trim())) })
      .then((s) => (p.isCancel(s) ? s : toValue(String(s).trim())));
const choose =
  <T extends string>(message: string, options: Array<{ value: T; label: string }>) =>
  (_: Raw, dflt: unknown) =>
    p.select({ message, options: options as never, initialValue: dflt as T });
const yesNo = (message: string) => (_: Raw, dflt: unknown) => p.confirm({ message, initialValue: dflt === true });

const csv = (s: string) =>
  s
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);
const ref = (kind: string) => (s: string) => (s === "" ? undefined : kind === "env" ? { env: s } : { file: s });
const refName = (v: unknown) => (v && typeof v === "object" ? String(Object.values(v)[0]) : "");

const PAGES: Array<{ title: string; questions: Question[] }> = [
  {
    title: "Select media type",
    questions: [
      // No default: `--yes` and runs without a terminal keep bootable media (the spec's default) unwritten.
      { path: "mediaType", default: () => undefined, ask: askMediaType },
      { path: "name", default: () => "my-media", ask: text("Media name (its id on the media and in logs)") },
      { path: "unattended", default: () => false, ask: yesNo("Allow unattended operating system deployment?") },
    ],
  },
  {
    title: "Media management",
    questions: [
      {
        path: "managementPoints.mode",
        when: (r) => !standalone(r),
        default: () => "dynamic",
        ask: choose(
          "Media management",
          MP_MODES.map((m) => ({
            value: m,
            label:
              m === "dynamic"
                ? "Dynamic media (a management point may redirect by boundary)"
                : "Site-based media (contact only the given management point)",
          })),
        ),
      },
    ],
  },
  {
    title: "Media type: USB flash drive or CD/DVD set",
    questions: [
      {
        path: "target.type",
        default: () => "iso",
        ask: choose("Media type", [
          { value: "iso", label: "CD/DVD set (.iso files)" },
          { value: "usb", label: "USB flash drive (or a disk image file)" },
        ]),
      },
      {
        path: "target.capacity",
        when: (r) => getPath(r, "target.type") === "iso",
        default: () => "dvd",
        ask: choose(
          "Media capacity",
          CAPACITIES.map((c) => ({ value: c, label: c })),
        ),
      },
      {
        path: "target.output",
        default: (r) => `${String(getPath(r, "name"))}.${getPath(r, "target.type") === "usb" ? "img" : "iso"}`,
        ask: text("Output file (.iso, a USB image file, or /dev/sdX)"),
      },
    ],
  },
  {
    title: "Security",
    questions: [
      { path: "security.unknownComputers", default: () => false, ask: yesNo("Enable unknown computer support?") },
      { path: "security.password", default: () => undefined, ask: askPassword },
      {
        path: "security.allowUnprotected",
        when: (r) => standalone(r) && getPath(r, "security.password") === undefined,
        default: () => undefined,
        ask: (_, dflt) =>
          p
            .confirm({
              message:
                "Stand-alone media without a password carry the OS image and packages in clear: build them anyway?",
              initialValue: dflt === true,
            })
            .then((v) => (p.isCancel(v) ? v : v || undefined)),
      },
      { path: "security.certificate", default: () => undefined, ask: askCertificateMode },
      {
        path: "security.certificate.selfSigned.start",
        when: (r) => getPath(r, "security.certificate.selfSigned") !== undefined,
        default: (_, now) => isoDay(now),
        ask: text("Self-signed certificate: start date (YYYY-MM-DD)"),
      },
      {
        path: "security.certificate.selfSigned.expire",
        when: (r) => getPath(r, "security.certificate.selfSigned") !== undefined,
        default: (_, now) => isoDay(now + 365 * DAY_MS),
        ask: text("Self-signed certificate: expiration date (YYYY-MM-DD)"),
      },
      {
        path: "security.certificate.pki.file",
        when: (r) => getPath(r, "security.certificate.pki") !== undefined,
        default: () => "client.pfx",
        ask: text("PKI certificate to import (.pfx)"),
      },
      {
        path: "security.certificate.pki.password",
        when: (r) => getPath(r, "security.certificate.pki") !== undefined,
        default: () => ({ env: "PFX_PASSWORD" }),
        ask: text("Environment variable holding the .pfx password", ref("env"), refName),
      },
      {
        path: "security.userDeviceAffinity",
        default: () => "none",
        ask: choose(
          "User device affinity",
          UDA_MODES.map((u) => ({
            value: u,
            label: {
              auto: "Allow user device affinity with auto-approval",
              pending: "Allow user device affinity pending administrator approval",
              none: "Do not allow user device affinity",
            }[u],
          })),
        ),
      },
    ],
  },
  {
    title: "Boot image",
    questions: [
      {
        path: "bootImage",
        default: () => "BM100001",
        ask: text(
          "Boot image package id(s), comma-separated",
          (s) => (csv(s).length === 1 ? csv(s)[0] : csv(s)),
          (v) => [v ?? []].flat().join(", "),
        ),
      },
      {
        path: "contentLibrary",
        default: () => "embedded",
        ask: text("Content library: a folder, `embedded`, or a distribution point URL"),
      },
      { path: "taskSequence", default: () => "BM200010", ask: text("Task sequence package id") },
      {
        path: "managementPoints.list",
        when: (r) => !standalone(r),
        default: () => [{ url: "http://mp1.contoso.test", priority: 1 }],
        ask: text(
          "Management points, comma-separated in priority order",
          (s) => csv(s).map((url, i) => ({ url, priority: i + 1 })),
          (v) => ((v ?? []) as Array<{ url: string }>).map((m) => m.url).join(", "),
        ),
      },
    ],
  },
  {
    title: "Customization",
    questions: [
      {
        path: "customization.variables",
        default: () => ({}),
        ask: text(
          "Task-sequence variables, NAME=value, comma-separated (empty: none)",
          (s) =>
            Object.fromEntries(csv(s).map((kv) => [kv.split("=")[0]!.trim(), kv.slice(kv.indexOf("=") + 1).trim()])),
          (v) =>
            Object.entries((v ?? {}) as Raw)
              .map(([k, x]) => `${k}=${String(x)}`)
              .join(", "),
        ),
      },
      {
        path: "customization.prestart.command",
        default: () => undefined,
        ask: text("Prestart command (empty: none)", (s) => (s === "" ? undefined : s)),
      },
      {
        path: "customization.prestart.files",
        when: (r) => getPath(r, "customization.prestart.command") !== undefined,
        default: () => undefined,
        ask: text("Folder of files for the prestart command (empty: none)", (s) => (s === "" ? undefined : s)),
      },
    ],
  },
];

const standalone = (r: Raw) => getPath(r, "mediaType") === "standalone";

async function askMediaType(_: Raw, dflt: unknown): Promise<unknown> {
  return p.select({
    message: "Bootable or stand-alone media",
    options: [
      { value: "bootable", label: "Bootable media: the machine asks a management point what to deploy" },
      {
        value: "standalone",
        label: "Stand-alone media: the task sequence, its OS image and packages on the media; no network needed",
      },
    ],
    initialValue: (dflt as string | undefined) ?? "bootable",
  });
}

async function askPassword(raw: Raw, _dflt: unknown, validate: (v: unknown) => string | undefined): Promise<unknown> {
  const how = await p.select({
    message: "Protect the media with a password? (given by reference: never typed here)",
    options: [
      { value: "env", label: "Yes: from an environment variable" },
      { value: "file", label: "Yes: from a file" },
      { value: "none", label: "No" },
    ],
    initialValue: "env",
  });
  if (p.isCancel(how) || how === "none") return p.isCancel(how) ? how : undefined;
  return text(
    how === "env" ? "Environment variable holding the media password" : "File holding the media password",
    ref(how),
    refName,
  )(raw, how === "env" ? { env: "MEDIA_PASSWORD" } : undefined, validate);
}

async function askCertificateMode(): Promise<unknown> {
  const mode = await p.select({
    message: "Media certificate",
    options: [
      { value: "selfSigned", label: "Create self-signed media certificate (HTTP)" },
      { value: "pki", label: "Import PKI certificate (HTTPS)" },
      { value: "none", label: "None" },
    ],
    initialValue: "selfSigned",
  });
  if (p.isCancel(mode) || mode === "none") return p.isCancel(mode) ? mode : undefined;
  return { [mode]: {} };
}

interface WizardOptions {
  /** What the flags set (raw, unvalidated). */
  given: Raw;
  yes: boolean;
  interactive: boolean;
  now: number;
  baseDir: string;
  model: SpecModel;
}

/** Runs the pages; returns the raw spec, or undefined when the user cancelled. */
export async function runWizard(opts: WizardOptions): Promise<Raw | undefined> {
  const raw: Raw = structuredClone(opts.given);
  const missing: string[] = [];
  if (opts.interactive && !opts.yes) p.intro("bootmedia init: create bootable media");
  for (const page of PAGES) {
    let titled = false;
    for (const q of page.questions) {
      if (q.when && !q.when(raw)) continue;
      if (getPath(opts.given, q.path) !== undefined) continue;
      const dflt = q.default(raw, opts.now);
      if (opts.yes) {
        if (dflt !== undefined) setPath(raw, q.path, dflt);
        continue;
      }
      if (!opts.interactive) {
        // Optional answers (no default) stay unset; a default that would be chosen silently is an error.
        if (dflt !== undefined) missing.push(q.path);
        continue;
      }
      if (!titled) p.log.step(page.title);
      titled = true;
      const validate = (v: unknown) => {
        const candidate = structuredClone(raw);
        setPath(candidate, q.path, v);
        return checkAnswer(opts.model, candidate, q.path, new Date(opts.now), opts.baseDir);
      };
      const answer = await q.ask(raw, dflt, validate);
      if (p.isCancel(answer)) {
        p.cancel("cancelled: nothing written");
        return undefined;
      }
      setPath(raw, q.path, answer);
      // Choices without a text box (a reference picked from a menu) are checked after the fact.
      const problem = validate(answer);
      if (problem) throw new BootmediaError(problem.slice(0, 6) as "BM1003", problem.slice(7), { where: q.path });
    }
  }
  if (missing.length > 0) {
    throw new BootmediaError("BM1011", `no terminal to ask on, and no flag answers ${missing.join(", ")}`);
  }
  return raw;
}
