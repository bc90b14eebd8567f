/**
 * The matrix a farm will run, as far as it can be known where the farm is written: media
 * files are read (so ids, count and memory are exact); specs are built by each shard later,
 * so their cases are counted from the media kinds, and their ids follow the labels the
 * testbed gives built media (`<spec>-<kind>`).
 */
import { basename } from "node:path";
import { buildMatrix, checkNic, checkProfile, DEFAULT_NICS, sortCases } from "../matrix.ts";
import { PROFILE_IDS, type MediaKind } from "../profiles.ts";
import { machineMemoryMiB, type MemoryOption } from "../memory.ts";
import { describeMedia, isSpecFile } from "../media-from-inputs.ts";

interface FarmMatrix {
  ids: string[];
  /** The most memory any case's machine gets (MiB). */
  memoryMiB: number;
  buildsMedia: boolean;
}

interface FarmMatrixOptions {
  kinds: readonly MediaKind[];
  profiles?: readonly string[];
  nics?: readonly string[];
  memory?: MemoryOption;
}

export async function farmMatrix(inputs: readonly string[], opts: FarmMatrixOptions): Promise<FarmMatrix> {
  const profiles = (opts.profiles ?? PROFILE_IDS).map(checkProfile);
  const nics = opts.nics ? opts.nics.map(checkNic) : [...DEFAULT_NICS];
  const media = await Promise.all(inputs.filter((i) => !isSpecFile(i)).map((i) => describeMedia(i)));
  const shared = new Set(media.map((m) => m.label).filter((l, i, all) => all.indexOf(l) !== i));
  for (const m of media) if (shared.has(m.label)) m.label = `${m.label}-${m.kind}`;
  const cases = buildMatrix(media, profiles, nics);
  const ids = cases.map((c) => c.id);
  let memoryMiB = Math.max(0, ...cases.map((c) => machineMemoryMiB(c.profile, opts.memory, c.minMemoryMiB)));
  const specs = inputs.filter(isSpecFile);
  for (const spec of specs) {
    for (const kind of opts.kinds) {
      const label = `${basename(spec).replace(/\.(ya?ml|json)$/i, "")}-${kind}`;
      for (const profile of profiles) for (const nic of nics) ids.push(`${profile}.${label}.${nic}`);
    }
    memoryMiB = Math.max(memoryMiB, ...profiles.map((p) => machineMemoryMiB(p, opts.memory)));
  }
  return { ids: sortCases(ids.map((id) => ({ id }))).map((c) => c.id), memoryMiB, buildsMedia: specs.length > 0 };
}
