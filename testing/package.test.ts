/**
 * bootmedia as users get it: `npm pack`, installed into an empty project with
 * `npm install --omit=dev`, then run with npx, scripted through its API, and extended with a
 * third-party plugin written in TypeScript against `bootmedia/plugin` and packed itself.
 * Oracles: isoinfo, sfdisk + mtools, GNU tar, tsc.
 */
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "./cli.ts";

const TSC = join(ROOT, "node_modules/typescript/bin/tsc");
const TYPE_ROOTS = join(ROOT, "node_modules/@types");
let work: string;
let project: string;

const npx = (args: string[], cwd = project) =>
  execa("npx", ["--no-install", "bootmedia", ...args], { cwd, reject: false, env: { NO_COLOR: "1" } });
const tsc = (args: string[], cwd: string) =>
  execa("node", [TSC, ...args, "--typeRoots", TYPE_ROOTS], { cwd, reject: false });

async function pack(dir: string, dest: string): Promise<string> {
  const r = await execa("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dest], { cwd: dir });
  return join(dest, (JSON.parse(r.stdout) as Array<{ filename: string }>)[0]!.filename);
}

const SPEC = `name: packaged
bootImage: BM100001
taskSequence: BM200010
contentLibrary: embedded
target: { type: directory, output: out/packaged }
`;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "bm-package-"));
  project = join(work, "project");
  await mkdir(project);
  await writeFile(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  const tarball = await pack(ROOT, work);
  await execa("npm", ["install", "--omit=dev", "--no-audit", "--no-fund", tarball], { cwd: project });
  await writeFile(join(project, "media.yaml"), SPEC);
}, 600_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("the packed bootmedia, installed into an empty project", () => {
  it("ships the build, the sample library, docs and license, and no tests or benches", async () => {
    const files = (await execa("tar", ["-tzf", join(work, "bootmedia-0.1.0.tgz")])).stdout.split("\n");
    expect(files).toEqual(
      expect.arrayContaining([
        "package/dist/cli/main.js",
        "package/dist/api/index.d.ts",
        "package/dist/core/plugin-api.d.ts",
        "package/fixtures/content/packages/BM100001/package.json",
        "package/docs/plugins.md",
        "package/LICENSE",
      ]),
    );
    expect(files.filter((f) => /\.test\.|\/testing\/|\/bench\/|\.ts$/.test(f) && !f.endsWith(".d.ts"))).toEqual([]);
  });

  it("runs without tsx: bin starts the compiled CLI", async () => {
    expect(existsSync(join(project, "node_modules/tsx"))).toBe(false);
    const r = await npx(["--version"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("0.1.0");
  });

  it("builds the embedded sample to a folder, an ISO and a USB image", async () => {
    const dir = await npx(["build", "media.yaml", "--quiet"]);
    expect(dir.exitCode, dir.stderr).toBe(0);
    expect(existsSync(join(project, "out/packaged/bootmedia/media.json"))).toBe(true);

    const iso = await npx(["build", "media.yaml", "--quiet", "--target", "iso", "--out", "out/packaged.iso"]);
    expect(iso.exitCode, iso.stderr).toBe(0);
    const listing = (await execa("isoinfo", ["-R", "-f", "-i", join(project, "out/packaged.iso")])).stdout;
    expect(listing).toContain("/bootmedia/media.json");

    const usb = await npx(["build", "media.yaml", "--quiet", "--target", "usb", "--out", "out/packaged.img"]);
    expect(usb.exitCode, usb.stderr).toBe(0);
    const img = join(project, "out/packaged.img");
    const table = JSON.parse((await execa("sfdisk", ["--json", img])).stdout) as {
      partitiontable: { sectorsize?: number; partitions: Array<{ start: number }> };
    };
    const offset = table.partitiontable.partitions[0]!.start * (table.partitiontable.sectorsize ?? 512);
    expect((await execa("mdir", ["-i", `${img}@@${offset}`, "::/bootmedia"])).stdout).toMatch(/ media\.json$/m);
  });

  it("type-checks a program that imports the API and the plugin types", async () => {
    await writeFile(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          noEmit: true,
          types: ["node"],
        },
        include: ["consumer.ts"],
      }),
    );
    await writeFile(
      join(project, "consumer.ts"),
      `import { build, plan, inspect, writeImage, runTestbed, type BuildResult } from "bootmedia";
import { definePlugin, LAYOUT_STAGE, type MediaLayout } from "bootmedia/plugin";

export const mine = definePlugin({
  name: "Mine",
  create: () => ({ name: "Mine", apply(b) { b.hooks.layout.tapPromise({ name: "Mine", stage: LAYOUT_STAGE.CONTENT }, async (layout: MediaLayout) => layout); } }),
});
const result: BuildResult = await build({ file: "media.yaml", force: true });
console.log(result.outputs.length, typeof plan, typeof inspect, typeof writeImage, typeof runTestbed);
`,
    );
    const r = await tsc(["-p", "tsconfig.json"], project);
    expect(r.exitCode, r.stdout).toBe(0);
  }, 120_000);
});

describe("a third-party plugin in TypeScript, packed and installed (fixtures/plugins/tar-target)", () => {
  let plugin: string;

  beforeAll(async () => {
    plugin = join(work, "plugin");
    await cp(join(ROOT, "fixtures/plugins/tar-target"), plugin, {
      recursive: true,
      filter: (s) => !s.includes("/dist"),
    });
    await symlink(join(project, "node_modules"), join(plugin, "node_modules"));
    const built = await tsc(["-p", "tsconfig.json"], plugin);
    expect(built.exitCode, built.stdout).toBe(0);
    await execa("npm", ["install", "--omit=dev", "--no-audit", "--no-fund", await pack(plugin, work)], {
      cwd: project,
    });
    await writeFile(
      join(project, "tar.yaml"),
      `${SPEC.replace("{ type: directory, output: out/packaged }", "{ type: tar, output: out/media.tar }")}plugins: [ { use: bootmedia-plugin-tar, options: { owner: deploy } } ]\n`,
    );
  }, 600_000);

  it("fails its own tsc check when it uses the API wrongly (a wrong hook argument)", async () => {
    const src = join(plugin, "src/index.ts");
    const good = await readFile(src, "utf8");
    await writeFile(
      src,
      good.replace("build.hooks.writer.tap(NAME, (target) =>", "build.hooks.writer.tap(NAME, (target: number) =>"),
    );
    const r = await tsc(["-p", "tsconfig.json", "--noEmit"], plugin);
    await writeFile(src, good);
    expect(r.exitCode).not.toBe(0);
    expect(r.stdout).toMatch(/src\/index\.ts.*error TS2345/);
  }, 120_000);

  it("writes the new target type; GNU tar reads the archive back with the plugin's option applied", async () => {
    const r = await npx(["build", "tar.yaml", "--quiet"]);
    expect(r.exitCode, r.stderr).toBe(0);
    const listing = (await execa("tar", ["-tvf", join(project, "out/media.tar")])).stdout;
    expect(listing).toMatch(/deploy\/deploy\s+\d+ .* bootmedia\/media\.json/);
    const gz = await npx(["build", "tar.yaml", "--quiet", "--tar-gzip", "--out", "out/media.tar.gz"]);
    expect(gz.exitCode, gz.stderr).toBe(0);
    expect((await execa("tar", ["-tzf", join(project, "out/media.tar.gz")])).stdout).toContain("bootmedia/media.json");
  });

  it("rebuilds over its own archive with --force: core asks the target type's declaration what it writes", async () => {
    const again = await npx(["build", "tar.yaml", "--quiet"]);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain("BM1010");
    const forced = await npx(["build", "tar.yaml", "--quiet", "--force"]);
    expect(forced.exitCode, forced.stderr).toBe(0);
    expect((await execa("tar", ["-tf", join(project, "out/media.tar")])).stdout).toContain("bootmedia/media.json");
  });

  it("reads its output back through its inspector", async () => {
    const r = await npx(["inspect", "out/media.tar", "--plugin", "bootmedia-plugin-tar", "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { kind: string; files: Array<{ path: string; owner: string }> };
    expect(report.kind).toBe("tar");
    expect(report.files).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: "bootmedia/media.json", owner: "deploy" })]),
    );
  });

  it("reports its own code with its hint, and shows its options in build --help", async () => {
    const r = await npx(["build", "tar.yaml", "--tar-max-files", "1", "--out", "out/too-many.tar"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("TAR001");
    expect(r.stderr).toContain("Raise target.maxFiles");
    expect(existsSync(join(project, "out/too-many.tar"))).toBe(false);
    const help = (await npx(["build", "tar.yaml", "--help"])).stdout;
    for (const flag of ["--tar-gzip", "--tar-max-files", "--tar-owner"]) expect(help).toContain(flag);
    expect((await npx(["build", "--help"])).stdout).not.toContain("--tar-gzip");
  });
});
