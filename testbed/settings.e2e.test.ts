/**
 * Deployment settings proven at boot: media built by our CLI from specs with a password,
 * secret variables, a self-signed certificate, dynamic management points, prestart files
 * and unattended on/off, booted in QEMU; the testbed types at the agent's prompts and every
 * setting must come back in the agent's markers exactly as the spec has it.
 * Oracles besides the spec: osirrox (media.crt off the ISO) + openssl x509 for the
 * certificate's subject and expiry. Needs `npm run fixtures` (built on demand).
 */
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { bootmedia } from "../testing/cli.ts";
import { REFERENCE_LIBRARY_DIR } from "../fixtures/boot-images/build.ts";
import { referenceImages } from "../testing/reference-fixtures.ts";
import { describeMedia } from "./media-from-inputs.ts";
import { runTestbed } from "./testbed.ts";
import type { CaseResult } from "./runner.ts";
import type { Marker } from "./markers.ts";
import type { MediaUnderTest } from "./matrix.ts";

const PASSWORD = "Correct-Horse-Battery-9";
const JOIN_SECRET = "join-S3cret-value!";
const API_TOKEN = "tok-5f2e9a";
/** Secret variable names in spec order, as media.json and secrets.env keep them. */
const SECRET_NAMES = ["DomainJoinPassword", "ApiToken"];
const NETWORK_ANSWER = "static ip=10.0.2.15/24 gw=10.0.2.2 dns=10.0.2.3";
/**
 * Three machines share the cores (with whatever else the suite runs): a generous per-case
 * guard, so a slow shared machine is no failure; every verdict still comes from markers.
 */
const BOOT_TIMEOUT_SEC = 400;
const env = { SOURCE_DATE_EPOCH: "1764000000", MEDIA_PW: PASSWORD, JOIN_PW: JOIN_SECRET, API_PW: API_TOKEN };

/** One spec text per media; `unattended` and the prestart script vary. */
function specText(name: string, unattended: boolean, prestart: string): string {
  return `name: ${name}
bootImage: [BM100086, BM100064]
taskSequence: BM200010
contentLibrary: ${REFERENCE_LIBRARY_DIR}
target: { type: iso, output: out/${name}.iso }
unattended: ${unattended}
managementPoints:
  mode: dynamic
  list:
    - { url: "http://mp2.contoso.test", priority: 2 }
    - { url: "http://mp1.contoso.test", priority: 1 }
    - { url: "http://mp3.contoso.test", priority: 3 }
security:
  unknownComputers: true
  userDeviceAffinity: pending
  password: { env: MEDIA_PW }
  certificate: { selfSigned: { start: 2025-11-01, expire: 2026-11-01 } }
customization:
  variables:
    OSDTimeZone: "W. Europe Standard Time"
    OSDComputerNamePrefix: "CTS-"
    DomainJoinPassword: { value: { env: JOIN_PW }, secret: true }
    ApiToken: { value: { env: API_PW }, secret: true }
  prestart: { command: "sh bootmedia/prestart/${prestart}", files: prestart/ }
`;
}

const PRESTART_OK = `#!/bin/sh
echo "prestart: media $BM_MEDIA_ID, task sequence $BM_TASK_SEQUENCE"
`;
const PRESTART_FAIL = `#!/bin/sh
echo "prestart: disk check failed"
exit 1
`;

let work: string;
let interactiveIso: MediaUnderTest;
let unattendedUsb: MediaUnderTest;
let failingIso: MediaUnderTest;
let cases: Map<string, CaseResult>;

async function buildMedia(
  name: string,
  unattended: boolean,
  prestart: string,
  kind: "iso" | "usb",
): Promise<MediaUnderTest> {
  const dir = join(work, name);
  await mkdir(join(dir, "prestart"), { recursive: true });
  await writeFile(join(dir, "prestart/check.sh"), PRESTART_OK);
  await writeFile(join(dir, "prestart/fail.sh"), PRESTART_FAIL);
  await writeFile(join(dir, "spec.yaml"), specText(name, unattended, prestart));
  const out = join(dir, `${name}.${kind === "iso" ? "iso" : "img"}`);
  const r = await bootmedia(["build", join(dir, "spec.yaml"), "--target", kind, "--out", out, "--quiet"], { env });
  if (r.exitCode !== 0) throw new Error(`building ${name} failed: ${r.stderr}`);
  return describeMedia(out, name);
}

const find = (c: CaseResult, event: string): Marker[] => c.markers.filter((m) => m.event === event);
const one = (c: CaseResult, event: string): Marker => {
  const found = find(c, event);
  expect(found, `${c.id}: one ${event} marker in ${JSON.stringify(c.markers)}`).toHaveLength(1);
  return found[0]!;
};

/** What the settings marker must say for these specs (SMSTSAssignUsersMode from uda: pending). */
function expectedSettings(unattended: boolean, prestart: string): Record<string, unknown> {
  return {
    event: "settings",
    taskSequence: "BM200010",
    managementPoints: {
      mode: "dynamic",
      list: [1, 2, 3].map((p) => ({ url: `http://mp${p}.contoso.test`, priority: p })),
    },
    unattended,
    unknownComputers: true,
    userDeviceAffinity: "pending",
    variables: {
      OSDComputerNamePrefix: "CTS-",
      OSDTimeZone: "W. Europe Standard Time",
      SMSTSAssignUsersMode: "Pending",
    },
    secretVariables: SECRET_NAMES,
    prestart: { command: `sh bootmedia/prestart/${prestart}`, dir: "bootmedia/prestart" },
    passwordRequired: true,
  };
}

beforeAll(async () => {
  await referenceImages();
  work = await mkdtemp(join(tmpdir(), "bm-settings-"));
  // Independent builds and boots run side by side: while one boot waits out a prompt's or
  // the MPs' timeouts (right-password idles ~45 s), the others have the CPU.
  [interactiveIso, unattendedUsb, failingIso] = await Promise.all([
    buildMedia("contoso-interactive", false, "check.sh", "iso"),
    buildMedia("contoso-unattended", true, "check.sh", "usb"),
    buildMedia("contoso-prestart-fail", true, "fail.sh", "iso"),
  ]);
  const x64Run = runTestbed({
    media: [
      {
        ...interactiveIso,
        label: "right-password",
        answers: { password: [PASSWORD], network: [NETWORK_ANSWER] },
        expectFailure: "no-mp-reachable",
      },
      {
        ...interactiveIso,
        label: "wrong-password",
        answers: { password: ["Wrong-Guess-1", "Wrong-Guess-2", "Wrong-Guess-3"] },
        expectFailure: "wrong-password",
      },
      {
        ...unattendedUsb,
        label: "unattended-usb",
        answers: { password: ["Wrong-Guess-1", PASSWORD] },
        expectFailure: "no-mp-reachable",
      },
    ],
    profiles: ["x64-bios"],
    nics: ["e1000"],
    concurrency: 2,
    reportDir: join(work, "report-x64"),
    timeoutSec: BOOT_TIMEOUT_SEC,
  });
  // The 32-bit profile runs the i386 openssl (secrets) and the failing prestart command.
  const x86Run = runTestbed({
    media: [
      { ...failingIso, label: "prestart-fail", answers: { password: [PASSWORD] }, expectFailure: "prestart-failed" },
    ],
    profiles: ["x86-bios"],
    nics: ["e1000"],
    concurrency: 1,
    reportDir: join(work, "report-x86"),
    timeoutSec: BOOT_TIMEOUT_SEC,
  });
  const [x64, x86] = await Promise.all([x64Run, x86Run]);
  cases = new Map([...x64.cases, ...x86.cases].map((c) => [c.media.label, c]));
}, 900_000);

describe("deployment settings at boot (x64-bios and x86-bios, ISO and USB)", () => {
  // The specs' MPs (mp*.contoso.test) exist nowhere: after every setting is read back the
  // agent's MP step finds none of them (site.e2e.test.ts boots against running MPs).
  it("every case ends as expected: no-mp-reachable after all settings, wrong-password, prestart-failed", () => {
    const summary = [...cases.values()].map(
      (c) => `${c.id}: expected ${JSON.stringify(c.expected)} got ${JSON.stringify(c.actual)}`,
    );
    for (const c of cases.values()) expect(c.ok, summary.join("\n")).toBe(true);
    for (const label of ["right-password", "unattended-usb"]) {
      expect(cases.get(label)!.markers.at(-1)).toEqual({
        event: "error",
        reason: "no-mp-reachable",
        mp: "",
        contacts: [1, 2, 3].map((p) => `http://mp${p}.contoso.test`),
      });
    }
  });

  it("interactive ISO, right password: every setting round-trips spec → media → boot environment", async () => {
    const c = cases.get("right-password")!;
    expect(find(c, "prompt").map((m) => m.for)).toEqual(["password", "network", "task-sequence"]);
    expect(one(c, "password")).toEqual({ event: "password", result: "ok" });
    expect(one(c, "media")).toMatchObject({
      mode: "dynamic",
      managementPoints: ["http://mp1.contoso.test", "http://mp2.contoso.test", "http://mp3.contoso.test"],
      unattended: false,
      unknownComputers: true,
      uda: "pending",
      fs: "iso9660",
    });
    expect(one(c, "settings")).toEqual(expectedSettings(false, "check.sh"));
    expect(one(c, "secrets")).toEqual({
      event: "secrets",
      result: "ok",
      variables: SECRET_NAMES,
      decrypted: SECRET_NAMES,
      mediaKey: true,
    });
    // Oracle: the certificate taken off the ISO by osirrox, read by the host's openssl.
    const crt = join(work, "media.crt");
    execFileSync("osirrox", ["-indev", interactiveIso.path, "-extract", "/bootmedia/media.crt", crt], {
      stdio: "pipe",
    });
    const subject = execFileSync(
      "openssl",
      ["x509", "-in", crt, "-noout", "-subject", "-nameopt", "sep_comma_plus_space,esc_2253,utf8"],
      { encoding: "utf8" },
    )
      .trim()
      .replace(/^subject=/, "");
    expect(subject).toBe("CN=bootmedia media contoso-interactive, O=bootmedia");
    expect(one(c, "certificate")).toEqual({
      event: "certificate",
      present: true,
      subject,
      notAfter: "2026-11-01 00:00:00Z",
      keyMatches: true,
    });
    expect(one(c, "network")).toEqual({
      event: "network",
      source: "answer",
      mode: "static",
      interface: "eth0",
      address: "10.0.2.15/24",
      gateway: "10.0.2.2",
      dns: "10.0.2.3",
      applied: true,
    });
    // No answer for the task sequence: the prompt times out to the media's own.
    expect(one(c, "task-sequence")).toEqual({ event: "task-sequence", source: "default", id: "BM200010" });
    expect(c.prompts).toEqual([
      { for: "password", answered: true },
      { for: "network", answered: true },
      { for: "task-sequence", answered: false },
    ]);
    expect(one(c, "prestart")).toEqual({
      event: "prestart",
      command: "sh bootmedia/prestart/check.sh",
      exit: 0,
      output: "prestart: media contoso-interactive, task sequence BM200010",
    });
    expect(find(c, "done")).toEqual([]);
    // The password was typed with echo off; no secret value reaches the console.
    const serial = await readFile(join(work, "report-x64", c.serialLog), "utf8");
    expect(serial).toContain(NETWORK_ANSWER); // echoed: the answered prompt is visible
    for (const secret of [PASSWORD, JOIN_SECRET, API_TOKEN]) expect(serial).not.toContain(secret);
  });

  it("wrong password three times: stops with wrong-password before any secret or setting is reached", () => {
    const c = cases.get("wrong-password")!;
    expect(find(c, "prompt")).toEqual(
      [1, 2, 3].map((attempt) => ({ event: "prompt", for: "password", attempt, timeout: 300 })),
    );
    expect(find(c, "password")).toEqual([1, 2, 3].map((attempt) => ({ event: "password", result: "wrong", attempt })));
    expect(c.actual).toMatchObject({ status: "fail", reason: "wrong-password" });
    for (const event of ["secrets", "settings", "certificate", "network", "prestart", "done"])
      expect(find(c, event), event).toEqual([]);
  });

  it("unattended USB: still asks for the password (one wrong, then right), asks nothing else", () => {
    const c = cases.get("unattended-usb")!;
    expect(find(c, "prompt").map((m) => [m.for, m.attempt])).toEqual([
      ["password", 1],
      ["password", 2],
    ]);
    expect(find(c, "password")).toEqual([
      { event: "password", result: "wrong", attempt: 1 },
      { event: "password", result: "ok" },
    ]);
    expect(one(c, "media")).toMatchObject({ fs: "vfat", unattended: true });
    expect(one(c, "settings")).toEqual(expectedSettings(true, "check.sh"));
    expect(one(c, "secrets")).toMatchObject({ result: "ok", decrypted: SECRET_NAMES });
    expect(one(c, "certificate")).toMatchObject({
      present: true,
      subject: "CN=bootmedia media contoso-unattended, O=bootmedia",
      keyMatches: true,
    });
    expect(one(c, "network")).toEqual({ event: "network", source: "unattended", mode: "dhcp" });
    expect(one(c, "task-sequence")).toEqual({ event: "task-sequence", source: "media", id: "BM200010" });
    expect(one(c, "prestart")).toMatchObject({ exit: 0 });
  });

  it("x86 machine, prestart exits 1: its output is shown, then prestart-failed stops the boot", () => {
    const c = cases.get("prestart-fail")!;
    expect(one(c, "booted")).toMatchObject({ arch: "x86", firmware: "bios", cpu64: false });
    expect(one(c, "secrets")).toMatchObject({ result: "ok", decrypted: SECRET_NAMES, mediaKey: true });
    expect(one(c, "settings")).toEqual(expectedSettings(true, "fail.sh"));
    expect(one(c, "prestart")).toEqual({
      event: "prestart",
      command: "sh bootmedia/prestart/fail.sh",
      exit: 1,
      output: "prestart: disk check failed",
    });
    expect(c.actual).toMatchObject({ status: "fail", reason: "prestart-failed" });
    expect(find(c, "done")).toEqual([]);
  });
});
