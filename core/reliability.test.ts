/**
 * Unit checks behind the hostile suite: cache hits re-verified, linear fetch grouping,
 * URL redaction, YAML limits, output kinds, hook time limits, plugin setup failures.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { createHash } from "node:crypto";
import { parseDocument } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { ContentCache } from "./cache.ts";
import { fetchItems } from "./fetch.ts";
import { redactEverywhere, redactUrls, Redactor } from "./secrets.ts";
import { checkSpecDocument, parseBounded, toJsBounded } from "./yaml-limits.ts";
import { LineCounter } from "yaml";
import { LIMITS } from "./limits.ts";
import { checkOutputTarget } from "./output-safety.ts";
import { resolveTarget } from "./target.ts";
import type { TargetDeclaration } from "./spec-schema.ts";
import { MediaBuild } from "./build.ts";
import { silentProgress } from "./progress.ts";
import { treeFromDir } from "../base/dir-tree.ts";
import type { BuildContext } from "./context.ts";
import type { ContentItem, ResolvedMedia } from "./types.ts";

const dir = mkdtempSync(join(tmpdir(), "bm-rel-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");
const stage = { update() {}, end() {} } as never;

describe("cache hits are verified", () => {
  it("evicts a corrupted entry, fetches it again and warns BM2008", async () => {
    const cache = new ContentCache(join(dir, "cache"));
    const data = Buffer.from("the bytes that belong on the media\n".repeat(100));
    const item: ContentItem = {
      path: "a.bin",
      size: data.length,
      sha256: sha(data),
      packageId: "p",
      origin: { kind: "test", location: "x" },
    };
    const fetcher = { open: async () => Readable.from([data]) };
    await fetchItems([item], { cache, fetcherFor: () => fetcher, progress: stage });
    const entry = cache.pathOf(item.sha256);
    const bad = Buffer.from(data);
    bad[100] ^= 0xff;
    writeFileSync(entry, bad);
    const warnings: string[] = [];
    const again = { ...item };
    const stats = await fetchItems([again], {
      cache,
      fetcherFor: () => fetcher,
      progress: stage,
      onWarning: (d) => warnings.push(`${d.code} ${d.severity}`),
    });
    expect(warnings).toEqual(["BM2008 warning"]);
    expect(stats.bytesFetched).toBe(data.length);
    expect(sha(readFileSync(again.localPath!))).toBe(item.sha256);
  });

  it("groups 40,000 items sharing one sha256 in linear time", async () => {
    const cache = new ContentCache(join(dir, "cache2"));
    const data = Buffer.from("same\n");
    const items: ContentItem[] = Array.from({ length: 40_000 }, (_, i) => ({
      path: `f${i}`,
      size: data.length,
      sha256: sha(data),
      packageId: "p",
      origin: { kind: "test", location: "x" },
    }));
    const t0 = performance.now();
    await fetchItems(items, {
      cache,
      fetcherFor: () => ({ open: async () => Readable.from([data]) }),
      progress: stage,
    });
    expect(performance.now() - t0).toBeLessThan(10_000); // was O(n^2): 91 s
    expect(items.every((i) => i.localPath === items[0]!.localPath)).toBe(true);
  });
});

describe("URL redaction", () => {
  it("drops userinfo and query strings", () => {
    expect(redactUrls("from https://alice:pw@dp.test:8443/lib?token=abc&x=1#frag done")).toBe(
      "from https://***@dp.test:8443/lib?***#frag done",
    );
    expect(redactUrls('"http://dp.test/lib?sig=xyz"')).toBe('"http://dp.test/lib?***"');
    expect(redactUrls("plain http://dp.test/lib/pkg.json")).toBe("plain http://dp.test/lib/pkg.json");
    new Redactor();
    expect(redactEverywhere("GET http://u:p@h/x?t=1")).toBe("GET http://***@h/x?***");
  });
});

describe("YAML limits", () => {
  it("refuses an alias bomb with BM1014", () => {
    const lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 9; i++)
      lines.push(
        `a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(", ")}]`,
      );
    const doc = parseDocument(lines.join("\n"));
    expect(() => {
      checkSpecDocument(doc, () => "x", "f");
      toJsBounded(doc, "f");
    }).toThrow(expect.objectContaining({ code: "BM1014" }));
  });

  it("finds duplicate keys among 20,000 in one pass, located", () => {
    const text = `v:\n${Array.from({ length: 20_000 }, (_, i) => `  K${i}: 1\n`).join("")}  K5: 2\n`;
    const doc = parseDocument(text, { uniqueKeys: false });
    const t0 = performance.now();
    const ds = checkSpecDocument(doc, (o) => `at ${o}`, "f");
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(ds.map((d) => d.code)).toEqual(["BM1002"]);
    expect(ds[0]!.message).toContain('"K5"');
  });

  it("takes nesting up to the limit and refuses one level more, located, in flow and block style", () => {
    const n = LIMITS.specDepth;
    const flow = (d: number) => `k: ${"[".repeat(d - 1)}${"]".repeat(d - 1)}\n`; // the mapping is a level
    const block = (d: number) => Array.from({ length: d }, (_, i) => `${" ".repeat(i)}k${i}:`).join("\n") + " x\n";
    for (const text of [flow, block]) {
      expect(parseBounded(text(n), "f").errors).toEqual([]);
      const lines = new LineCounter();
      expect(() => parseBounded(text(n + 1), "f.yaml", { lineCounter: lines })).toThrow(
        expect.objectContaining({ code: "BM1014", where: expect.stringMatching(/^f\.yaml:\d+:\d+$/) }),
      );
    }
  });

  it("refuses nesting 100,000 deep in linear time", () => {
    const t0 = performance.now();
    expect(() => parseBounded(`[`.repeat(100_000), "f")).toThrow(expect.objectContaining({ code: "BM1014" }));
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});

describe("output kinds", () => {
  it("refuses device nodes, FIFOs and folders where a file goes (mknod in a temp folder)", () => {
    const null2 = join(dir, "null");
    execFileSync("mknod", [null2, "c", "1", "3"]);
    execFileSync("mkfifo", [join(dir, "fifo")]);
    mkdirSync(join(dir, "folder"));
    // What the built-ins declare (plugins/*/spec.ts), and a third party's file target.
    const declared: Record<string, Pick<TargetDeclaration, "writes" | "drives">> = {
      iso: { writes: "file" },
      usb: { writes: "file", drives: true },
      directory: { writes: "folder" },
      tar: { writes: "file" },
    };
    const codeOf = (type: string, output: string) => {
      try {
        checkOutputTarget(resolveTarget({ type, output }, dir, declared[type]!));
        return "ok";
      } catch (e) {
        return (e as { code: string }).code;
      }
    };
    expect(codeOf("iso", null2)).toBe("BM1016");
    expect(codeOf("usb", null2)).toBe("BM1016");
    expect(codeOf("directory", join(dir, "fifo"))).toBe("BM1016");
    expect(codeOf("iso", join(dir, "folder"))).toBe("BM1012");
    expect(codeOf("iso", join(dir, "n".repeat(240)))).toBe("BM4001");
    expect(codeOf("iso", "/proc/x.iso")).toBe("BM4001");
    expect(codeOf("usb", "/dev/bm-no-such-drive")).toBe("BM3306");
    expect(codeOf("iso", join(dir, "new.iso"))).toBe("ok");
  });

  it("asks the target type's declaration what it writes: a third party's file target may replace a file, not a folder", () => {
    writeFileSync(join(dir, "old.tar"), "");
    writeFileSync(join(dir, "old-tree"), "");
    mkdirSync(join(dir, "tar-folder"));
    const codeOf = (declaration: Pick<TargetDeclaration, "writes">, output: string) => {
      try {
        checkOutputTarget(resolveTarget({ type: "tar", output }, dir, declaration));
        return "ok";
      } catch (e) {
        return (e as { message: string }).message;
      }
    };
    expect(codeOf({ writes: "file" }, join(dir, "old.tar"))).toBe("ok");
    expect(codeOf({ writes: "file" }, join(dir, "tar-folder"))).toMatch(
      /is a folder, but the tar target writes a file/,
    );
    expect(codeOf({ writes: "folder" }, join(dir, "old-tree"))).toMatch(
      /is a file, but the tar target writes a folder/,
    );
  });
});

describe("plugins", () => {
  const ctx = { progress: silentProgress, options: { hookTimeoutMs: 200 } } as unknown as BuildContext;
  const media = { items: [], packages: [] } as unknown as ResolvedMedia;

  it("a hook that never settles is BM4005 naming plugin and hook", async () => {
    const build = new MediaBuild(ctx);
    build.use([{ name: "Stuck", apply: (b) => b.hooks.resolve.tapPromise("Stuck", () => new Promise(() => {})) }]);
    await expect(build.hooks.resolve.promise(media)).rejects.toMatchObject({
      code: "BM4005",
      message: 'plugin "Stuck" did not finish hook "resolve" within 0.2 s',
    });
  });

  it("a tapAsync callback never called is BM4005", async () => {
    const build = new MediaBuild(ctx);
    build.use([{ name: "Silent", apply: (b) => b.hooks.afterResolve.tapAsync("Silent", () => {}) }]);
    await expect(build.hooks.afterResolve.promise(media)).rejects.toMatchObject({ code: "BM4005" });
  });

  it("apply() throwing is BM4006 naming the plugin", () => {
    const build = new MediaBuild(ctx);
    expect(() =>
      build.use([
        {
          name: "Boom",
          apply: () => {
            throw new Error("exploded");
          },
        },
      ]),
    ).toThrow(
      expect.objectContaining({ code: "BM4006", message: 'plugin "Boom" failed while being set up: exploded' }),
    );
  });
});

describe("input folders", () => {
  it("reads links to files inside, refuses links out, loops, folder links and FIFOs", async () => {
    const root = join(dir, "in");
    mkdirSync(join(root, "sub"), { recursive: true });
    writeFileSync(join(root, "a.txt"), "a");
    symlinkSync("a.txt", join(root, "inside"));
    const tree = await treeFromDir(root);
    expect(tree.map((e) => e.path)).toEqual(["a.txt", "inside", "sub"]);
    const refused = async (make: () => void, name: string, why: RegExp) => {
      make();
      await expect(treeFromDir(root)).rejects.toMatchObject({ code: "BM2009", message: expect.stringMatching(why) });
      rmSync(join(root, name), { recursive: true, force: true });
    };
    await refused(() => symlinkSync("/etc/passwd", join(root, "out")), "out", /outside the folder/);
    await refused(() => symlinkSync("..", join(root, "sub/loop")), "sub/loop", /link to a folder/);
    await refused(() => symlinkSync("me", join(root, "me")), "me", /loop/);
    await refused(() => execFileSync("mkfifo", [join(root, "p")]), "p", /FIFO/);
  });
});
