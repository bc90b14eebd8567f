/** Task sequences' steps from the site's content library, resolved when the site is loaded. */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { decidePolicyAnswer } from "./decide.ts";
import type { PolicyAnswer } from "./protocol.ts";
import { loadSiteFile, resolveSite } from "./site-content.ts";
import { makeMediaCert, makeTempDir } from "./testing/fixtures.ts";

let dir = "";
const sha = (b: string | Buffer) => createHash("sha256").update(b).digest("hex");

/** A library package: its files and a manifest listing them (what `library add` writes). */
function addPackage(id: string, type: string, files: Record<string, string>, manifestSha?: string): void {
  const root = join(dir, "lib", "packages", id);
  mkdirSync(join(root, "files"), { recursive: true });
  for (const [path, text] of Object.entries(files)) writeFileSync(join(root, "files", path), text);
  const listed = Object.entries(files).map(([path, text]) => ({
    path,
    size: Buffer.byteLength(text),
    sha256: manifestSha ?? sha(text),
  }));
  writeFileSync(join(root, "package.json"), JSON.stringify({ id, type, name: id, version: "1", files: listed }));
}

function writeSite(taskSequences: unknown[]): string {
  const file = join(dir, "site.yaml");
  writeFileSync(
    file,
    stringify({
      siteCode: "BM1",
      managementPoints: ["MP1"],
      library: "./lib",
      distributionPoints: [
        { name: "DP1", url: "http://10.0.2.110" },
        { name: "DP2", url: "https://dp2.contoso.test/" },
      ],
      taskSequences,
      deployments: [{ id: "DEP-1", taskSequence: (taskSequences[0] as { id: string }).id, target: "unknown" }],
    }),
  );
  return file;
}

beforeAll(() => {
  dir = makeTempDir("bm-mp-lib-");
  addPackage("TOOLS", "prestart", { "run.sh": "echo hi\n", "data.bin": "xyz" });
  addPackage("BM200010", "task-sequence", {
    "steps.yaml": "steps:\n  - { name: Tools, type: run-command, command: sh run.sh, package: TOOLS }\n",
  });
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("site task sequences from the library", () => {
  it("reads steps.yaml of the task-sequence package and names its packages' content locations", async () => {
    const loaded = await loadSiteFile(writeSite([{ id: "BM200010", name: "Contoso" }]));
    const answer = decidePolicyAnswer(
      loaded.site,
      { name: "MP1", peerUrl: () => undefined },
      {
        v: 1,
        mediaId: "M",
        taskSequence: "BM200010",
        mode: "site-based",
        mac: "52:54:00:12:34:56",
        unknownComputers: true,
        uda: "none",
        timestamp: 0,
        nonce: "a".repeat(32),
      },
      loaded.content,
    ) as PolicyAnswer;
    expect(answer.stepCount).toBe(1);
    expect(answer.contentLocations).toEqual({
      TOOLS: ["http://10.0.2.110/packages/TOOLS/files/", "https://dp2.contoso.test/packages/TOOLS/files/"],
    });
    const wire = Buffer.from(answer.steps!, "base64").toString();
    expect(wire).toContain("L\tTOOLS\thttp://10.0.2.110/packages/TOOLS/files/\n");
    expect(wire).toContain(`P\tTOOLS\t${sha("echo hi\n")}\t8\t${Buffer.from("run.sh").toString("base64")}\n`);
  });

  it("an apply-image step's os-image package gets content locations and an I line; write-files' package its files", async () => {
    const root = join(dir, "lib", "packages", "OSI00001");
    mkdirSync(join(root, "files"), { recursive: true });
    writeFileSync(join(root, "files", "disk.raw.zst"), "zstd bytes");
    const osImage = {
      arch: "x64",
      firmware: ["bios", "uefi"],
      secureBoot: false,
      image: "disk.raw.zst",
      compression: "zstd",
      size: 67108864,
      sha256: "b".repeat(64),
      partitionTable: "gpt",
      partitions: [
        { index: 1, start: 1048576, size: 1048576, type: "21686148-6449-6e6f-744e-656564454649" },
        { index: 2, start: 2097152, size: 16777216, type: "c12a7328-f81f-11d2-ba4b-00a0c93ec93b" },
        { index: 3, start: 18874368, size: 41943040, type: "4f68bce3-e8cd-4db1-96e7-fbcaf984b709" },
      ],
      rootPartition: 3,
    };
    writeFileSync(
      join(root, "package.json"),
      JSON.stringify({
        id: "OSI00001",
        type: "os-image",
        name: "Debian",
        version: "12",
        osImage,
        files: [{ path: "disk.raw.zst", size: 10, sha256: sha("zstd bytes") }],
      }),
    );
    addPackage("BM200020", "task-sequence", {
      "steps.yaml":
        "steps:\n  - { name: Disk, type: select-disk }\n  - { name: Image, type: apply-image, package: OSI00001 }\n  - { name: Files, type: write-files, package: TOOLS }\n  - { name: Go, type: restart }\n",
    });
    const loaded = await loadSiteFile(writeSite([{ id: "BM200020", name: "Deploy" }]));
    const content = loaded.content.get("BM200020")!;
    expect(content.packages.map((p) => p.id)).toEqual(["OSI00001", "TOOLS"]);
    expect(content.packages[0]!.locations).toEqual([
      "http://10.0.2.110/packages/OSI00001/files/",
      "https://dp2.contoso.test/packages/OSI00001/files/",
    ]);
    expect(content.images).toEqual([
      {
        id: "OSI00001",
        image: "disk.raw.zst",
        compression: "zstd",
        size: 67108864,
        sha256: "b".repeat(64),
        partitionTable: "gpt",
        rootPartition: 3,
        firmware: ["bios", "uefi"],
      },
    ]);
  });

  it.each([
    [
      "a package of another type",
      "prestart",
      undefined,
      "BM5313",
      /apply-image package IMG1 is a prestart package, not an os-image/,
    ],
    [
      "an osImage without rootPartition",
      "os-image",
      {
        arch: "x64",
        firmware: ["bios"],
        secureBoot: false,
        image: "x.raw",
        compression: "none",
        size: 1,
        sha256: "c".repeat(64),
        partitionTable: "gpt",
        partitions: [],
      },
      "BM5302",
      /package IMG1: .*osImage/,
    ],
    [
      "an image that is not among its files",
      "os-image",
      {
        arch: "x64",
        firmware: ["bios"],
        secureBoot: false,
        image: "y.raw",
        compression: "none",
        size: 1,
        sha256: "c".repeat(64),
        partitionTable: "gpt",
        partitions: [],
        rootPartition: 1,
      },
      "BM5302",
      /package IMG1: .*osImage/,
    ],
  ])("refuses an apply-image naming %s (%s)", async (_what, type, osImage, code, message) => {
    const root = join(dir, "lib", "packages", "IMG1");
    rmSync(root, { recursive: true, force: true });
    mkdirSync(join(root, "files"), { recursive: true });
    writeFileSync(join(root, "files", "x.raw"), "x");
    writeFileSync(
      join(root, "package.json"),
      JSON.stringify({
        id: "IMG1",
        type,
        name: "i",
        version: "1",
        ...(osImage ? { osImage } : {}),
        files: [{ path: "x.raw", size: 1, sha256: sha("x") }],
      }),
    );
    addPackage("BM200021", "task-sequence", {
      "steps.yaml": "steps:\n  - { name: Image, type: apply-image, package: IMG1 }\n",
    });
    const file = writeSite([{ id: "BM200021", name: "x" }]);
    const err = await loadSiteFile(file).catch((e: unknown) => e);
    // A bad osImage section is a bad manifest (BM5302, from core/content/manifest.ts); another type, BM5313.
    expect(err).toMatchObject({ code });
    expect((err as Error).message).toMatch(message);
  });

  it("a task sequence without steps anywhere answers as before", async () => {
    const loaded = await loadSiteFile(
      writeSite([
        { id: "BM200010", name: "Contoso" },
        { id: "TS-NONE", name: "n" },
      ]),
    );
    expect([...loaded.content.keys()]).toEqual(["BM200010"]);
  });

  it.each([
    [
      "a steps file changed after library add (sha256)",
      "BM2402",
      () => addPackage("BAD1", "task-sequence", { "steps.yaml": "steps: []\n" }, "0".repeat(64)),
      "BAD1",
      /task sequence BAD1: .*steps\.yaml: sha256 [0-9a-f]{64} differs from the manifest's 0{64}/,
    ],
    [
      "an unknown step type",
      "BM2401",
      () => addPackage("BAD2", "task-sequence", { "steps.yaml": "steps:\n  - { name: A, type: reboot-now }\n" }),
      "BAD2",
      /task sequence BAD2: .*steps\.yaml: steps\[0\] \("A"\): type: unknown step type "reboot-now"/,
    ],
    [
      "a package the library does not hold",
      "BM5312",
      () =>
        addPackage("BAD3", "task-sequence", {
          "steps.yaml": "steps:\n  - { name: A, type: run-command, command: x, package: NOPE }\n",
        }),
      "BAD3",
      /task sequence BAD3 uses package NOPE, which the library .* does not hold/,
    ],
  ])("refuses %s with %s naming the site file", async (_what, code, make, id, message) => {
    make();
    const file = writeSite([{ id, name: "x" }]);
    const err = await loadSiteFile(file).catch((e: unknown) => e);
    expect(err).toMatchObject({ code, where: file });
    expect((err as Error).message).toMatch(message);
  });
});

describe("registered certificates by file", () => {
  it("reads a build's .cer relative to the site file; a file that is no certificate is BM5302", async () => {
    const dir = makeTempDir("bm-site-cer-");
    // The registration .cer a build writes: the certificate's DER.
    writeFileSync(join(dir, "media.cer"), makeMediaCert(dir).der);
    const base = { siteCode: "BM1", managementPoints: ["MP1"] };
    const loaded = await resolveSite(
      { ...base, certificates: [{ file: "media.cer", blocked: true }] },
      { baseDir: dir },
    );
    expect(loaded.site.certificates).toEqual([
      { der: readFileSync(join(dir, "media.cer")).toString("base64"), blocked: true },
    ]);
    writeFileSync(join(dir, "junk.cer"), "not a certificate");
    await expect(
      resolveSite({ ...base, certificates: [{ file: "junk.cer" }] }, { baseDir: dir }),
    ).rejects.toMatchObject({
      code: "BM5302",
      message: expect.stringContaining("certificates.0: not an X.509 certificate"),
    });
    await expect(
      resolveSite({ ...base, certificates: [{ file: "missing.cer" }] }, { baseDir: dir }),
    ).rejects.toMatchObject({
      code: "BM5302",
    });
  });
});
