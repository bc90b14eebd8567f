import { describe, expect, it } from "vitest";
import { isBootmediaError } from "../base/errors.ts";
import { FEATURES, REQUIREMENTS, requirementsFor, type DoctorRow } from "./doctor.ts";
import { installCommandLine, installMissing, planInstall, type InstallHost, type Privilege } from "./doctor-install.ts";

const row = (name: string, debianPackage: string, present: boolean): DoctorRow => ({
  name,
  check: name,
  debianPackage,
  neededFor: "x",
  features: ["tests"],
  present,
});

/** A machine where `missing` packages are absent until apt-get installs them; records every command. */
function fakeHost(opts: {
  missing: string[];
  arch?: string[];
  privilege?: Privilege;
  hasApt?: boolean;
  updateExit?: number;
  broken?: string[];
}): InstallHost & { commands: string[] } {
  const absent = new Set(opts.missing);
  let arches = [...(opts.arch ?? [])];
  const commands: string[] = [];
  return {
    commands,
    privilege: opts.privilege ?? "root",
    hasApt: opts.hasApt ?? true,
    check: () => ({
      rows: [
        row("qemu", "qemu-system-x86", !absent.has("qemu-system-x86")),
        row("ovmf", "ovmf", !absent.has("ovmf")),
        row("xorriso", "xorriso", !absent.has("xorriso")),
      ],
      architectures: arches,
    }),
    async run(argv) {
      commands.push(argv.join(" "));
      if (argv[0] === "dpkg") arches = arches.filter((a) => a !== argv[2]);
      if (argv[1] === "update") return { exitCode: opts.updateExit ?? 0, output: "" };
      if (argv[1] === "install") for (const p of argv.slice(4)) if (!opts.broken?.includes(p)) absent.delete(p);
      return { exitCode: opts.broken?.length ? 100 : 0, output: "E: Unable to locate package" };
    },
    installed: async (packages) => packages.filter((p) => !absent.has(p)),
  };
}

const catchError = async (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe("doctor --install", () => {
  it("installs exactly the missing packages and says which", async () => {
    const host = fakeHost({ missing: ["ovmf", "xorriso"] });
    const lines: string[] = [];
    const outcome = await installMissing(host, (l) => lines.push(l));
    expect(outcome).toEqual({ installed: ["ovmf", "xorriso"], updateFailed: false });
    expect(host.commands).toEqual(["apt-get update", "apt-get install -y --no-install-recommends ovmf xorriso"]);
    expect(lines.join("\n")).toContain("apt-get install -y --no-install-recommends ovmf xorriso");
  });

  it("adds a missing dpkg architecture first", async () => {
    const host = fakeHost({ missing: ["ovmf"], arch: ["i386"] });
    await installMissing(host, () => {});
    expect(host.commands[0]).toBe("dpkg --add-architecture i386");
  });

  it("does nothing when nothing is missing", async () => {
    const host = fakeHost({ missing: [] });
    expect(await installMissing(host, () => {})).toEqual({ installed: [], updateFailed: false });
    expect(host.commands).toEqual([]);
  });

  it("goes on after an apt-get update that fails over one index, and checks what got installed", async () => {
    const host = fakeHost({ missing: ["ovmf"], updateExit: 100 });
    expect(await installMissing(host, () => {})).toEqual({ installed: ["ovmf"], updateFailed: true });
  });

  it("is BM5011 naming the tool and package when apt-get could not install it", async () => {
    const e = await catchError(installMissing(fakeHost({ missing: ["ovmf", "xorriso"], broken: ["ovmf"] }), () => {}));
    expect(isBootmediaError(e) && e.code).toBe("BM5011");
    expect((e as Error).message).toBe("still missing after apt-get install: ovmf (ovmf)");
  });

  it("without root or sudo runs nothing and is BM5010 naming each missing tool, its package and the one command", async () => {
    const host = fakeHost({ missing: ["qemu-system-x86", "ovmf"], privilege: "none" });
    const e = await catchError(installMissing(host, () => {}));
    expect(host.commands).toEqual([]);
    expect(isBootmediaError(e) && e.code).toBe("BM5010");
    expect((e as Error).message).toBe("missing, and installing needs root: qemu (qemu-system-x86), ovmf (ovmf)");
    expect(isBootmediaError(e) && e.hint).toMatch(
      /^Run: (sudo sh|su) -c 'apt-get update; apt-get install -y --no-install-recommends qemu-system-x86 ovmf'$/,
    );
  });

  it("without apt-get is BM5010 listing the packages", async () => {
    const e = await catchError(installMissing(fakeHost({ missing: ["ovmf"], hasApt: false }), () => {}));
    expect(isBootmediaError(e) && e.code).toBe("BM5010");
  });

  it("plans each package once and writes one command line", () => {
    const plan = planInstall(
      [
        row("qemu-system-x86_64", "qemu-system-x86", false),
        row("qemu-system-i386", "qemu-system-x86", false),
        row("cpio", "cpio", true),
      ],
      ["i386"],
    );
    expect(plan.packages).toEqual(["qemu-system-x86"]);
    expect(installCommandLine(plan, "sudo")).toBe(
      "sudo sh -c 'dpkg --add-architecture i386; apt-get update; apt-get install -y --no-install-recommends qemu-system-x86'",
    );
  });

  it("covers every feature from the one table, and tests need everything", () => {
    for (const f of FEATURES) expect(requirementsFor([f]).length, f).toBeGreaterThan(0);
    expect(requirementsFor(["tests"])).toEqual([...REQUIREMENTS]);
    expect(requirementsFor(["demo"]).map((r) => r.debianPackage)).toEqual(
      expect.arrayContaining(["qemu-system-x86", "ovmf", "grub-efi-amd64-bin"]),
    );
  });
});
