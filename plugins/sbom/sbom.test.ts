/**
 * The SBOM and provenance of the reference media (Debian's signed Secure Boot chain, so shim
 * and Debian's GRUB are on it): the SBOM validated by the CycloneDX library's own JSON
 * validator (ajv with the official 1.6 schema the library ships), its Debian packages'
 * .deb hashes against apt's index (apt-cache), the medium's and files' hashes against
 * sha256sum; two builds with the same SOURCE_DATE_EPOCH give byte-identical SBOMs and
 * provenance.
 */
import { Spec, Validation } from "@cyclonedx/cyclonedx-library";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootmedia, ROOT } from "../../testing/cli.ts";
import { referenceImages } from "../../testing/reference-fixtures.ts";

const SPEC = join(ROOT, "fixtures/specs/reference.yaml");
const EPOCH = "1700000000";

interface CdxComponent {
  type: string;
  name: string;
  version?: string;
  purl?: string;
  hashes?: Array<{ alg: string; content: string }>;
  properties?: Array<{ name: string; value: string }>;
  components?: CdxComponent[];
}

let work: string;
const out = (dir: string) => join(work, dir, "contoso-ref.iso");

async function build(dir: string): Promise<void> {
  const r = await bootmedia(
    ["build", SPEC, "--secure-boot-chain", "signed", "--out", out(dir), "--cache-dir", join(work, "cache")],
    { env: { SOURCE_DATE_EPOCH: EPOCH } },
  );
  expect(r.exitCode, r.stderr).toBe(0);
}

beforeAll(async () => {
  await referenceImages();
  work = await mkdtemp(join(tmpdir(), "bm-sbom-"));
  await build("a");
  await build("b");
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const sha256sum = (file: string) => execFileSync("sha256sum", [file], { encoding: "utf8" }).split(" ")[0];

describe("the reference ISO's SBOM", () => {
  it("is valid CycloneDX 1.6 (the library's strict JSON validator: ajv and the official schema)", async () => {
    const text = await readFile(`${out("a")}.cdx.json`, "utf8");
    const errors = await new Validation.JsonStrictValidator(Spec.Version.v1dot6).validate(text);
    expect(errors).toBeNull();
    expect(JSON.parse(text)).toMatchObject({ bomFormat: "CycloneDX", specVersion: "1.6" });
  });

  it("has the medium as its root (sha256sum of the ISO) and bootmedia as the tool that made it", async () => {
    const bom = JSON.parse(await readFile(`${out("a")}.cdx.json`, "utf8"));
    expect(bom.metadata.component.name).toBe("contoso-ref.iso");
    expect(bom.metadata.component.hashes).toEqual([{ alg: "SHA-256", content: sha256sum(out("a")) }]);
    const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { version: string };
    expect(bom.metadata.tools.components).toContainEqual(
      expect.objectContaining({ name: "bootmedia", purl: `pkg:npm/bootmedia@${pkg.version}` }),
    );
    expect(bom.metadata.timestamp).toBe(new Date(Number(EPOCH) * 1000).toISOString());
  });

  it("lists Debian's linux-image, busybox, openssl, GRUB and shim with versions, purls and .deb hashes apt's index gives", async () => {
    const bom = JSON.parse(await readFile(`${out("a")}.cdx.json`, "utf8")) as { components: CdxComponent[] };
    const debs = bom.components.filter((c) => c.purl?.startsWith("pkg:deb/debian/"));
    const arch = (c: CdxComponent) => c.properties?.find((p) => p.name === "bootmedia:deb:arch")?.value;
    const find = (re: RegExp, a: string) => debs.filter((c) => re.test(c.name) && arch(c) === a);
    for (const [re, a] of [
      [/^linux-image-\d/, "amd64"],
      [/^linux-image-\d/, "i386"],
      [/^busybox-static$/, "amd64"],
      [/^openssl$/, "i386"],
      [/^openssl$/, "amd64"],
      [/^grub-common$/, "amd64"],
      [/^grub-efi-amd64-signed$/, "amd64"],
      [/^shim-signed$/, "amd64"],
    ] as const)
      expect(find(re, a), `${re} ${a}`).toHaveLength(1);
    // Oracle: apt's index, one query for every package and version the SBOM names.
    const apt = execFileSync("apt-cache", ["show", ...debs.map((c) => `${c.name}:${arch(c)}=${c.version}`)], {
      encoding: "utf8",
    }).split(/\n\s*\n/);
    for (const c of debs) {
      expect(c.purl).toMatch(new RegExp(`^pkg:deb/debian/${c.name}@.+\\?arch=${arch(c)}$`));
      const stanza = apt.find(
        (t) =>
          t.includes(`Package: ${c.name}\n`) &&
          t.includes(`Version: ${c.version}\n`) &&
          t.includes(`Architecture: ${arch(c)}\n`),
      );
      expect(stanza, `${c.name} ${c.version}`).toBeDefined();
      expect(c.hashes, c.name).toEqual([{ alg: "SHA-256", content: /^SHA256: (\w+)$/m.exec(stanza!)![1] }]);
    }
    // shim's file on the medium is the one dpkg installed (oracle: sha256sum of the package's file).
    const shim = find(/^shim-signed$/, "amd64")[0]!;
    expect(shim.components).toEqual([
      expect.objectContaining({
        name: "EFI/BOOT/BOOTX64.EFI",
        hashes: [{ alg: "SHA-256", content: sha256sum("/usr/lib/shim/shimx64.efi.signed") }],
      }),
    ]);
  });

  it("lists each content package with its version and every file's sha256 (oracle: sha256sum of the library's files)", async () => {
    const bom = JSON.parse(await readFile(`${out("a")}.cdx.json`, "utf8")) as { components: CdxComponent[] };
    const img = bom.components.find((c) =>
      c.properties?.some((p) => p.name === "bootmedia:package:id" && p.value === "BM100064"),
    )!;
    const manifest = JSON.parse(
      await readFile(join(ROOT, "fixtures/reference/content/packages/BM100064/package.json"), "utf8"),
    ) as { version: string };
    expect(img.version).toBe(manifest.version);
    for (const f of ["boot/x64/vmlinuz", "boot/x64/initrd.img"])
      expect(img.components).toContainEqual(
        expect.objectContaining({
          type: "file",
          name: f,
          hashes: [
            { alg: "SHA-256", content: sha256sum(join(ROOT, "fixtures/reference/content/packages/BM100064/files", f)) },
          ],
        }),
      );
  });

  it("names the Secure Boot chain's signing certificates (Microsoft's for shim, Debian's for GRUB and the kernel, shim's vendor CA)", async () => {
    const bom = JSON.parse(await readFile(`${out("a")}.cdx.json`, "utf8")) as { components: CdxComponent[] };
    const certs = bom.components.filter((c) => c.type === "cryptographic-asset").map((c) => c.name);
    expect(certs).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/Microsoft/),
        expect.stringMatching(/Debian Secure Boot Signer .*grub/),
        expect.stringMatching(/Debian Secure Boot Signer .*linux/),
        "/CN=Debian Secure Boot CA",
      ]),
    );
  });
});

describe("reproducible with SOURCE_DATE_EPOCH", () => {
  it("two builds give byte-identical SBOMs and provenance with the same subject", async () => {
    expect(sha256sum(out("a"))).toBe(sha256sum(out("b")));
    expect(await readFile(`${out("a")}.cdx.json`, "utf8")).toBe(await readFile(`${out("b")}.cdx.json`, "utf8"));
    const [pa, pb] = await Promise.all([
      readFile(`${out("a")}.intoto.json`, "utf8"),
      readFile(`${out("b")}.intoto.json`, "utf8"),
    ]);
    expect(pa).toBe(pb);
    const st = JSON.parse(pa);
    expect(st).toMatchObject({
      _type: "https://in-toto.io/Statement/v1",
      predicateType: "https://slsa.dev/provenance/v1",
      subject: [{ name: "contoso-ref.iso", digest: { sha256: sha256sum(out("a")) } }],
    });
    expect(st.predicate.buildDefinition.externalParameters.spec.digest.sha256).toBe(sha256sum(SPEC));
    expect(st.predicate.runDetails.builder.id).toMatch(/^pkg:npm\/bootmedia@/);
    expect(st.predicate.buildDefinition.resolvedDependencies).toContainEqual(
      expect.objectContaining({
        uri: expect.stringMatching(/^pkg:deb\/debian\/shim-signed@/),
        digest: { sha256: expect.any(String) },
      }),
    );
  });
});
