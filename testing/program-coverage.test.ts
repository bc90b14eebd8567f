/**
 * Every external program the product runs is in the doctor's table for every feature that
 * runs it, so `bootmedia doctor --install --for <feature>` gives a new machine all it needs.
 * Read from the source: product code starts programs only through core/program.ts (no execa
 * or child_process elsewhere), each call's program comes from the type checker, and the
 * feature is every command (or script) whose imports reach the call. The programs inside
 * QEMU's arguments are read from the command lines the testbed really builds.
 */
import { describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { COMMANDS } from "../cli/commands/index.ts";
import { importGraph, sourceFiles } from "../scripts/import-rules/graph.ts";
import { isTestSupport, layerOf } from "../scripts/import-rules/rules.ts";
import { MEDIA_KINDS, NIC_IDS, PROFILE_IDS, buildQemuArgs, type ProfileId } from "../testbed/profiles.ts";
import { planMpNetwork, withMpNetwork } from "../testbed/mp/network.ts";
import { hostNeedsOf } from "../testbed/host-check.ts";
import {
  FEATURES,
  REQUIREMENTS,
  requirementOf,
  type Feature,
  type HostTool,
  type Requirement,
} from "../core/doctor.ts";
import { programSites, reachableFrom, spawnImports, type ProgramSite } from "./program-sites.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** Product files that start processes themselves, and why they may. */
const RAW_SPAWN_ALLOWED: Record<string, string> = {
  "core/program.ts": "the one door",
  "core/doctor.ts": "the table's own checks: asks dpkg for its architectures once `which` found it",
  "core/doctor-install.ts":
    "the installer: runs apt-get, dpkg and sudo only after finding them, and names them when absent (BM5010)",
};

/** The feature each command serves (`doctor` serves none: it installs). A new command must be placed here. */
const COMMAND_FEATURE: Record<string, Exclude<Feature, "demo" | "tests"> | null> = {
  build: "media",
  plan: "media",
  inspect: "media",
  init: "media",
  diff: "media",
  verify: "media",
  image: "media",
  dp: "media",
  mp: "media",
  library: "media",
  cache: "media",
  testbed: "testbed",
  "boot-image": "fixtures",
  "os-image": "fixtures",
  doctor: null,
};
/** Entry points besides the commands: `npm run fixtures` builds the reference boot images. */
const SCRIPT_FEATURE: Record<string, Exclude<Feature, "demo" | "tests">> = {
  "scripts/reference-images.ts": "fixtures",
};

const product = sourceFiles(ROOT).filter((f) => layerOf(f) !== undefined && !isTestSupport(f));
const edges = importGraph(ROOT);
/** A file calls core/program.ts only by importing it; the type checker reads those files once. */
const callers = [
  ...new Set(edges.filter((e) => e.to === "core/program.ts" && product.includes(e.from)).map((e) => e.from)),
];
let sitesMemo: ProgramSite[] | undefined;
const allSites = () => (sitesMemo ??= programSites(ROOT, callers));

/** Entry files per feature: demo runs media, fixtures and testbed; tests run everything. */
function entriesOf(feature: Feature): string[] {
  if (feature === "tests") return product;
  const own = (f: Feature) => [
    ...Object.entries(COMMAND_FEATURE)
      .filter(([, x]) => x === f)
      .map(([name]) => `cli/commands/${name}.ts`),
    ...Object.entries(SCRIPT_FEATURE)
      .filter(([, x]) => x === f)
      .map(([file]) => file),
  ];
  return feature === "demo" ? (["media", "fixtures", "testbed"] as const).flatMap(own) : own(feature);
}

/** `[program, feature, where]` for every program some feature runs that the table does not list for it. */
function unlisted(table: readonly Requirement[]): string[] {
  const sites = allSites();
  const out: string[] = [];
  for (const feature of FEATURES) {
    const reach = reachableFrom(edges, entriesOf(feature));
    for (const site of sites.filter((s) => reach.has(s.file))) {
      for (const program of site.programs) {
        const row = table.find((r) => r.check === program || r.alsoFiles?.includes(program));
        if (!row?.features.includes(feature))
          out.push(`${program} (${site.file}:${site.line}) is not in the doctor's table for ${feature}`);
      }
    }
  }
  return [...new Set(out)];
}

describe("the doctor's table covers every program the product runs", () => {
  it("product code starts processes only through core/program.ts", () => {
    const raw = spawnImports(ROOT, product).filter((s) => !RAW_SPAWN_ALLOWED[s.file]);
    expect(raw.map((s) => `${s.file}:${s.line} imports ${s.module}`)).toEqual([]);
    // An exception that no longer spawns is dropped, not kept "just in case".
    const spawning = new Set(spawnImports(ROOT, product).map((s) => s.file));
    expect(Object.keys(RAW_SPAWN_ALLOWED).filter((f) => !spawning.has(f))).toEqual([]);
  });

  it("every command and entry script is placed in a feature", () => {
    expect(Object.keys(COMMAND_FEATURE).sort()).toEqual(Object.keys(COMMANDS).sort());
    for (const f of FEATURES) for (const entry of entriesOf(f)) expect(existsSync(`${ROOT}${entry}`), entry).toBe(true);
  });

  it("each call names its programs, and the table lists each for every feature whose code reaches the call", () => {
    const sites = allSites();
    // The search works: the programs we know are run are found (QEMU, grub-mkimage, busybox in guestfwd).
    const found = new Set(sites.flatMap((s) => s.programs));
    for (const p of [
      "qemu-system-x86_64",
      "qemu-system-i386",
      "grub-mkimage",
      "/bin/busybox",
      "sbsign",
      "lsblk",
      "apt-get",
    ])
      expect(found, p).toContain(p);
    expect(sites.filter((s) => s.programs.length === 0).map((s) => `${s.file}:${s.line} ${s.fn}(${s.type})`)).toEqual(
      [],
    );
    expect(unlisted(REQUIREMENTS)).toEqual([]);
  }, 60_000);

  it("fails when a row loses a feature: the demo without busybox", () => {
    const table = REQUIREMENTS.map((r) => (r.check === "/bin/busybox" ? { ...r, features: ["tests"] as const } : r));
    expect(unlisted(table)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^\/bin\/busybox \(testbed\/mp\/network\.ts:\d+\) is not in the doctor's table for demo$/,
        ),
      ]),
    );
  }, 60_000);
});

describe("what QEMU runs and opens on the host", () => {
  const cases = PROFILE_IDS.flatMap((profile) =>
    MEDIA_KINDS.flatMap((kind) => NIC_IDS.map((nic) => ({ profile, kind, nic }))),
  );
  const mps = planMpNetwork([
    { name: "MP1", url: "http://127.0.0.1:40001" },
    { name: "MP2", url: "https://127.0.0.1:40002" },
  ]);

  /** Host programs (`-cmd:`) and host files in a command line, leaving out the case's own files. */
  function hostPartsOf(args: readonly string[], own: readonly string[]): { programs: string[]; files: string[] } {
    const programs = args.flatMap((a) => [...a.matchAll(/-cmd:(\S+)/g)].map((m) => m[1]!));
    const values = args.flatMap((a) => a.split(",")).map((v) => v.replace(/^[a-z]+=/, ""));
    const files = values.filter((v) => v.startsWith("/") && !own.some((o) => v.startsWith(o)));
    return { programs, files };
  }

  it.each(cases)(
    "$profile $kind $nic: the testbed's host check covers every program and file in QEMU's command line",
    ({ profile, kind, nic }) => {
      const own = ["/case/"];
      const plain = buildQemuArgs({
        profile,
        media: { kind, path: "/case/media" },
        nic,
        qmpSocket: "/case/qmp.sock",
        varsPath: "/case/vars.fd",
        accel: "tcg",
      });
      const needs = hostNeedsOf([profile], true);
      // A machine with no NIC (stand-alone media) has no network for MPs to be routed into.
      if (nic === "none") expect(() => withMpNetwork(plain, mps)).toThrow(/no -netdev/);
      for (const args of nic === "none" ? [plain] : [plain, withMpNetwork(plain, mps)]) {
        const parts = hostPartsOf(args, own);
        expect(needs.programs).toEqual(expect.arrayContaining(parts.programs));
        expect(needs.firmware).toEqual(expect.arrayContaining(parts.files.filter((f) => !parts.programs.includes(f))));
      }
      expect(needs.programs).toContain("/bin/busybox");
    },
  );

  it("everything the host check asks for is in the doctor's table for the testbed and the demo", () => {
    const needs = hostNeedsOf(PROFILE_IDS as readonly ProfileId[], true);
    for (const tool of [...needs.programs, ...needs.firmware] as HostTool[]) {
      expect(requirementOf(tool)?.features, tool).toEqual(expect.arrayContaining(["testbed", "demo", "tests"]));
    }
  });
});
