/**
 * The ISO writer's options for one volume of a set (volume id, El Torito entries, hybrid MBR),
 * and the bytes that volume's image will take: the same plan the writer follows (planIso), so
 * a plugin that lays out a set of its own (stand-alone media) sizes its discs exactly.
 */
import { planIso } from "../../formats/iso9660/plan.ts";
import type { IsoOptions } from "../../formats/iso9660/types.ts";
import { plannedTree } from "../../core/write.ts";
import type { Volume } from "../../core/types.ts";
import { ESP_PATH } from "./esp.ts";
import { volumeIdOf } from "./volume-id.ts";

/** `id`: the media's name (layout.config.id); `count`: the volumes of the set. Only volume 1 boots. */
export function isoOptions(
  id: string,
  count: number,
  volume: Volume,
  sourceDateEpoch: number,
  mbrCode?: Uint8Array,
): IsoOptions {
  const bios = volume.boot.find((b) => b.role === "bios-eltorito");
  const hasEsp = volume.entries.some((e) => e.path === ESP_PATH);
  const boot = { ...(bios ? { bios: { image: bios.path } } : {}), ...(hasEsp ? { efi: { image: ESP_PATH } } : {}) };
  return {
    volumeId: volumeIdOf(id, volume.index, count),
    sourceDateEpoch,
    application: "BOOTMEDIA",
    ...(bios || hasEsp ? { boot } : {}),
    ...(bios && volume.index === 1 ? { hybrid: { ...(mbrCode ? { mbrCode } : {}) } } : {}),
  };
}

/** The size of volume `volume.index` of `count` as the ISO writer will write it (metadata, data, padding). */
export function plannedVolumeBytes(id: string, count: number, volume: Volume, sourceDateEpoch: number): number {
  return planIso(plannedTree(volume), isoOptions(id, count, volume, sourceDateEpoch)).totalBytes;
}
