/** The disk layout and its GPT, read back by sfdisk -J and sgdisk -v (independent oracles). */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ARCH_IMAGE_RECIPES, DEFAULT_IMAGE_SIZE, PARTITION_TYPES } from "./config.ts";
import { derivedUuid, planDisk, writePartitionTable } from "./disk.ts";

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "bm-os-disk-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("planDisk + writePartitionTable", () => {
  it.each(["x64", "x86"] as const)("writes the %s table sfdisk and sgdisk read back", async (arch) => {
    const plan = planDisk(DEFAULT_IMAGE_SIZE, ARCH_IMAGE_RECIPES[arch].rootType, `debian-12:${arch}:1700000000`);
    const file = join(work, `${arch}.raw`);
    await writePartitionTable(file, plan);
    const t = JSON.parse((await execa("sfdisk", ["-J", file])).stdout).partitiontable;
    expect(t.label).toBe("gpt");
    expect(t.id.toLowerCase()).toBe(plan.diskGuid);
    expect(
      t.partitions.map((p: { start: number; size: number; type: string; uuid: string; name: string }) => ({
        start: p.start * 512,
        size: p.size * 512,
        type: p.type.toLowerCase(),
        uuid: p.uuid.toLowerCase(),
        name: p.name,
      })),
    ).toEqual(plan.partitions.map(({ start, size, type, uuid, name }) => ({ start, size, type, uuid, name })));
    expect(plan.partitions.map((p) => p.type)).toEqual([
      PARTITION_TYPES.biosBoot,
      PARTITION_TYPES.esp,
      ARCH_IMAGE_RECIPES[arch].rootType,
    ]);
    expect((await execa("sgdisk", ["-v", file])).stdout).toContain("No problems found");
  });

  it("derives the same ids from the same seed, other ids from another", () => {
    const a = planDisk(DEFAULT_IMAGE_SIZE, ARCH_IMAGE_RECIPES.x64.rootType, "s1");
    expect(planDisk(DEFAULT_IMAGE_SIZE, ARCH_IMAGE_RECIPES.x64.rootType, "s1")).toEqual(a);
    expect(planDisk(DEFAULT_IMAGE_SIZE, ARCH_IMAGE_RECIPES.x64.rootType, "s2").rootFsUuid).not.toBe(a.rootFsUuid);
    expect(derivedUuid("s1", "x")).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
