/** End to end through the CLI: `dp serve` as the DP, `build` from it, `cache` housekeeping. */
import { readdir, readFile, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootmedia, BIN, scratchFixtures } from "../../testing/cli.ts";
import { hashTree } from "../../testing/tree-hash.ts";

let fx: Awaited<ReturnType<typeof scratchFixtures>>;
let server: ResultPromise;
let url: string;
const env = () => ({ BOOTMEDIA_CACHE: fx.cache, SOURCE_DATE_EPOCH: "1764000000" });
const build = (out: string, ...more: string[]) =>
  bootmedia(["build", fx.spec("sample-dir.yaml"), "--out", out, "--quiet", ...more], { env: env() });

beforeAll(async () => {
  fx = await scratchFixtures();
  server = execa("node", [BIN, "dp", "serve", join(fx.dir, "fixtures/content"), "--port", "0", "--json", "--quiet"], {
    reject: false,
  });
  url = await new Promise<string>((resolve, reject) => {
    let text = "";
    server.stdout!.on("data", (d: Buffer) => {
      text += d.toString();
      const m = /"url": "([^"]+)"/.exec(text);
      if (m) resolve(m[1]!);
    });
    void server.then((r) => reject(new Error(`dp serve exited: ${String(r.stderr)}`)));
  });
}, 30_000);

afterAll(() => {
  server?.kill("SIGTERM");
});

describe("bootmedia with a distribution point served by `bootmedia dp serve`", () => {
  it("serves on loopback and builds a directory tree identical to the local-folder build", async () => {
    expect(new URL(url).hostname).toBe("127.0.0.1");
    const local = await build(fx.out("local"));
    expect(local.exitCode, local.stderr).toBe(0);
    await bootmedia(["cache", "prune", "--older-than", "0m", "--cache-dir", fx.cache]); // the DP build must download
    const remote = await build(fx.out("remote"), "--content-library", url, "--json");
    expect(remote.exitCode, remote.stderr).toBe(0);
    expect(JSON.parse(remote.stdout).fetch.bytesFetched).toBeGreaterThan(0);
    expect(await hashTree(fx.out("remote"))).toEqual(await hashTree(fx.out("local")));
    expect(await readFile(`${fx.out("remote")}.bootmedia.log`, "utf8")).toContain(
      `distribution points, in order: ${url}`,
    );
  });

  it("writes a byte-identical USB image from the DP and from the folder", async () => {
    const a = await build(fx.out("local.img"), "--target", "usb");
    await bootmedia(["cache", "prune", "--older-than", "0m", "--cache-dir", fx.cache]);
    const b = await build(fx.out("remote.img"), "--target", "usb", "--content-library", url);
    expect(a.exitCode, a.stderr).toBe(0);
    expect(b.exitCode, b.stderr).toBe(0);
    expect(Buffer.compare(await readFile(fx.out("local.img")), await readFile(fx.out("remote.img")))).toBe(0);
  });

  it("takes --ca-file next to --content-library (the flag reaches the object form)", async () => {
    const r = await build(fx.out("ca"), "--content-library", url, "--ca-file", "missing-ca.pem");
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("BM2106");
    expect(r.stderr).toContain("missing-ca.pem");
  });
});

describe("stopping `bootmedia dp serve`", () => {
  it.each(["SIGTERM", "SIGINT"] as const)("%s closes it and exits 0, without an error line", async (signal) => {
    const dp = execa("node", [BIN, "dp", "serve", join(fx.dir, "fixtures/content"), "--port", "0"], {
      reject: false,
    });
    let out = "";
    dp.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    for (let waited = 0; !/ at (http\S+)/.test(out) && waited < 20_000; waited += 50)
      await new Promise((r) => setTimeout(r, 50));
    const served = / at (http\S+)/.exec(out)![1]!;
    // curl is the client: the server answers before the signal, and nothing listens after it.
    expect((await execa("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", `${served}packages/`])).stdout).toBe(
      "404",
    );
    dp.kill(signal);
    const r = await dp;
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(String(r.stderr)).toContain(`dp stopped (${signal})`);
    expect(String(r.stderr)).not.toMatch(/error|BM\d{4}/);
    expect((await execa("curl", ["-s", served], { reject: false })).exitCode).toBe(7); // connection refused
  });
});

describe("bootmedia cache", () => {
  it("lists entries, verifies and removes a corrupt one, prunes by age", async () => {
    expect((await build(fx.out("fill"), "--force")).exitCode).toBe(0);
    const ls = JSON.parse((await bootmedia(["cache", "ls", "--cache-dir", fx.cache, "--json"])).stdout);
    expect(ls.entries.length).toBeGreaterThanOrEqual(3); // one to corrupt, one to age, one kept
    const [victim, old] = ls.entries as Array<{ sha256: string }>;
    const pathOf = (sha: string) => join(fx.cache, "sha256", sha.slice(0, 2), sha);
    await writeFile(pathOf(victim!.sha256), "tampered\n");
    const verify = await bootmedia(["cache", "verify", "--cache-dir", fx.cache]);
    expect(verify.exitCode).toBe(1);
    expect(verify.stdout).toContain(`BM2109 cache entry ${victim!.sha256}`);
    expect(await readdir(join(fx.cache, "sha256", victim!.sha256.slice(0, 2)))).not.toContain(victim!.sha256);
    const longAgo = new Date(Date.now() - 40 * 86_400_000);
    await utimes(pathOf(old!.sha256), longAgo, longAgo);
    const prune = JSON.parse(
      (await bootmedia(["cache", "prune", "--older-than", "30d", "--cache-dir", fx.cache, "--json"])).stdout,
    );
    expect(prune.removed).toEqual([old!.sha256]);
    expect(prune.kept).toBe(ls.entries.length - 2);
    const bad = await bootmedia(["cache", "prune", "--older-than", "soon", "--cache-dir", fx.cache]);
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toContain("BM2108");
  });
});
