import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mountsUnder, removeTree } from "./tree-mounts.ts";

const TABLE = `proc /proc proc rw 0 0
proc /cache/b/tree/proc proc rw 0 0
tmpfs /cache/b/tree/dev/shm tmpfs rw 0 0
devpts /cache/b/tree/dev/pts devpts rw 0 0
tmpfs /cache/b/tree\\040two/run tmpfs rw 0 0
tmpfs /cache/b/treehouse tmpfs rw 0 0
`;

describe("what a killed build left mounted in its tree", () => {
  it("finds the mounts at or under the tree, deepest first, with the table's octal escapes read", () => {
    expect(mountsUnder(TABLE, "/cache/b/tree")).toEqual([
      "/cache/b/tree/dev/shm",
      "/cache/b/tree/dev/pts",
      "/cache/b/tree/proc",
    ]);
    expect(mountsUnder(TABLE, "/cache/b/tree two/")).toEqual(["/cache/b/tree two/run"]);
    expect(mountsUnder(TABLE, "/elsewhere")).toEqual([]);
  });

  it.runIf(process.getuid?.() === 0)(
    "removes a tree with a tmpfs still mounted in it (the kernel's mount table is the oracle)",
    async () => {
      const tree = mkdtempSync(join(tmpdir(), "bm-tree-mounts-"));
      mkdirSync(join(tree, "proc"));
      execFileSync("mount", ["-t", "tmpfs", "none", join(tree, "proc")]);
      writeFileSync(join(tree, "proc", "x"), "x");
      expect(readFileSync("/proc/self/mounts", "utf8")).toContain(`${tree}/proc`);
      await removeTree(tree);
      expect(existsSync(tree)).toBe(false);
      expect(readFileSync("/proc/self/mounts", "utf8")).not.toContain(tree);
    },
  );
});
