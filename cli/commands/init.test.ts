/**
 * `bootmedia init`: driven through a real pseudo-terminal (util-linux `script`) page by page,
 * with wrong answers refused live by their build codes; the spec it writes must load, carry
 * what was typed, and build into an ISO that xorriso reads. `--yes` in a non-TTY never waits.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { bootmedia, BIN } from "../../testing/cli.ts";
import { KEY, PtySession } from "../testing/pty.ts";

const PASSWORD = "Correct-Horse-Battery-9";
const CLEAR = "\x7f".repeat(40);

describe("bootmedia init", () => {
  it("walks the pages in a terminal, refuses bad answers with build codes, and writes a spec that builds", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bm-init-"));
    const s = new PtySession(`node ${BIN} init media.yaml`, {
      cwd: dir,
      env: { MEDIA_PW: PASSWORD, WEAK_PW: "short", NO_COLOR: "1" },
    });
    try {
      await s.answer("Bootable or stand-alone media", KEY.ENTER); // bootable
      await s.answer("Media name", CLEAR + "bad name!" + KEY.ENTER);
      await s.waitFor("BM1003");
      await s.send(CLEAR + "pty-media" + KEY.ENTER);
      await s.answer("Allow unattended", KEY.ENTER);
      await s.answer("Media management", KEY.ENTER); // dynamic
      await s.answer("Media type", KEY.ENTER); // CD/DVD set
      await s.answer("Media capacity", KEY.ENTER); // dvd
      await s.answer("Output file", KEY.ENTER); // pty-media.iso
      await s.answer("Enable unknown computer support", "y");
      await s.answer("Protect the media with a password", KEY.ENTER); // from an environment variable
      await s.answer("Environment variable holding the media password", CLEAR + "WEAK_PW" + KEY.ENTER);
      await s.waitFor("BM3401");
      await s.send(CLEAR + "MEDIA_PW" + KEY.ENTER);
      await s.answer("Media certificate", KEY.ENTER); // self-signed
      await s.answer("start date", KEY.ENTER); // today
      await s.answer("expiration date", CLEAR + "2020-01-01" + KEY.ENTER);
      await s.waitFor("BM3404");
      await s.send(CLEAR + new Date(Date.now() + 400 * 86_400_000).toISOString().slice(0, 10) + KEY.ENTER);
      await s.answer("User device affinity", KEY.UP + KEY.ENTER); // none -> pending
      await s.answer("Boot image package", KEY.ENTER);
      await s.answer("Content library", KEY.ENTER);
      await s.answer("Task sequence package id", KEY.ENTER);
      await s.answer("Management points", CLEAR + "http://mp1.contoso.test, http://mp2.contoso.test" + KEY.ENTER);
      await s.answer("Task-sequence variables", "OSDTimeZone=UTC" + KEY.ENTER);
      await s.answer("Prestart command", KEY.ENTER);
      await s.waitFor("it validates");
      expect(await s.exited).toBe(0);
    } finally {
      s.kill();
    }
    const text = await readFile(join(dir, "media.yaml"), "utf8");
    expect(text).toContain("# Media password, by reference");
    expect(parse(text)).toMatchObject({
      name: "pty-media",
      unattended: false,
      managementPoints: {
        mode: "dynamic",
        list: [
          { url: "http://mp1.contoso.test", priority: 1 },
          { url: "http://mp2.contoso.test", priority: 2 },
        ],
      },
      target: { type: "iso", capacity: "dvd", output: "pty-media.iso" },
      security: {
        unknownComputers: true,
        password: { env: "MEDIA_PW" },
        certificate: { selfSigned: {} },
        userDeviceAffinity: "pending",
      },
      customization: { variables: { OSDTimeZone: "UTC" } },
    });
    expect(text).not.toContain(PASSWORD);
    const built = await bootmedia(["build", join(dir, "media.yaml")], { env: { MEDIA_PW: PASSWORD }, cwd: dir });
    expect(built.exitCode, built.stderr).toBe(0);
    // The independent reader agrees: the ISO holds the configuration the wizard chose.
    const json = execFileSync(
      "osirrox",
      ["-indev", join(dir, "pty-media.iso"), "-extract", "/bootmedia/media.json", join(dir, "media.json")],
      { stdio: "pipe" },
    );
    expect(json).toBeDefined();
    const config = JSON.parse(await readFile(join(dir, "media.json"), "utf8"));
    expect(config).toMatchObject({
      unknownComputers: true,
      userDeviceAffinity: "pending",
      password: { present: true },
      certificate: { mode: "self-signed" },
      managementPoints: { mode: "dynamic" },
    });
  }, 120_000);

  it("--yes in a non-TTY takes the defaults and writes a spec that validates; without it, BM1011 instead of waiting", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bm-init-"));
    const yes = await bootmedia(["init", join(dir, "a.yaml"), "--yes", "--name", "flagged", "--uda", "auto"]);
    expect(yes.exitCode, yes.stderr).toBe(0);
    expect(yes.stdout).toContain("it validates");
    expect(parse(await readFile(join(dir, "a.yaml"), "utf8"))).toMatchObject({
      name: "flagged",
      target: { type: "iso", output: "flagged.iso" },
      security: { userDeviceAffinity: "auto" },
    });
    const plan = await bootmedia(["plan", join(dir, "a.yaml")]);
    expect(plan.exitCode, plan.stderr).toBe(0);
    const noTty = await bootmedia(["init", join(dir, "b.yaml")]);
    expect(noTty.exitCode).toBe(1);
    expect(noTty.stderr).toContain("BM1011");
  }, 60_000);

  it("stand-alone media: no management-point questions; without a password only with --allow-unprotected", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bm-init-"));
    const refused = await bootmedia(["init", join(dir, "a.yaml"), "--yes", "--media-type", "standalone"]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain("BM6102");
    const args = ["init", join(dir, "b.yaml"), "--yes", "--media-type", "standalone", "--allow-unprotected"];
    const ok = await bootmedia([...args, "--target", "usb", "--name", "alone"]);
    expect(ok.exitCode, ok.stderr).toBe(0);
    const spec = parse(await readFile(join(dir, "b.yaml"), "utf8"));
    expect(spec).toMatchObject({
      mediaType: "standalone",
      security: { allowUnprotected: true },
      target: { type: "usb" },
    });
    expect(spec.managementPoints).toBeUndefined();
    const plan = await bootmedia(["plan", join(dir, "b.yaml"), "--json"]);
    expect(plan.exitCode, plan.stderr).toBe(0);
    const files = JSON.parse(plan.stdout).volumes[0].files.map((f: { path: string }) => f.path);
    expect(files).toEqual(
      expect.arrayContaining(["bootmedia/standalone/task-sequence.txt", "bootmedia/standalone/content.txt"]),
    );
  }, 60_000);
});
