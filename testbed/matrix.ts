/**
 * The case matrix: profiles × media × NIC models, each case carrying the verdict the
 * compatibility rules (core/compat.ts) predict, and deterministic sharding of it.
 */
import { basename } from "node:path";
import { readFileSync } from "node:fs";
import { planBoot, missingDrivers, type Arch } from "../core/compat.ts";
import { planSecureBoot, SB_REFUSED_REASON, type MediaChain, type SbMachine } from "../core/secure-boot.ts";
import { certificateSha256 } from "../plugins/secure-boot/trust.ts";
import { BootmediaError } from "../base/errors.ts";
import {
  PROFILES,
  PROFILE_IDS,
  NIC_MODELS,
  type MachineProfile,
  type ProfileId,
  type NicModel,
  type MediaKind,
} from "./profiles.ts";
import type { Expected, ExpectedFailure } from "./verdict.ts";
import type { CaseTaskSequence } from "./ts-case.ts";
import type { PromptAnswers } from "./answers.ts";
import type { CaseManagementPoints } from "./mp-case.ts";
import type { CaseDeploy } from "./deploy-types.ts";
import type { PassPattern } from "./pass-pattern.ts";
import type { BootImageTestbed } from "../core/types.ts";
import "./codes.ts";

export interface MediaUnderTest {
  kind: MediaKind;
  path: string;
  /** Architectures of the boot images the media carries. */
  images: Arch[];
  /** Driver (module) names the boot images carry. */
  drivers: string[];
  /** The Secure Boot chain of the media's UEFI boot files (core/secure-boot.ts); absent: unsigned. */
  secureBoot?: MediaChain;
  label?: string;
  /**
   * What the testbed types at the boot environment's prompts (answers.ts), e.g. the media
   * password. Absent: DEFAULT_ANSWERS (Enter on the interactive questions). Given, it
   * replaces them: a prompt kind it leaves out waits for the guest's timeout.
   */
  answers?: PromptAnswers;
  /**
   * Where the rules predict a boot, the failure this media must end in instead (a wrong
   * password typed three times, a failing prestart command); compat refusals still win.
   */
  expectFailure?: ExpectedFailure;
  /**
   * Management points each case of this media starts on loopback and reaches through the
   * guest network (mp-case.ts); the media's spec names them http(s)://10.0.2.100, .101, ….
   */
  managementPoints?: CaseManagementPoints;
  /** The task sequence the case's policy carries: its verdict then comes from the steps (ts-case.ts). */
  taskSequence?: CaseTaskSequence;
  /**
   * Judge this media by a pattern on the serial line or the VGA text screen instead of the
   * agent's done marker (pass-pattern.ts): for boot images without the bootmedia agent.
   * Wins over the booted image's own `testbed.pass`.
   */
  pass?: PassPattern;
  /** The least memory (MiB) every machine booting this media gets; raises the profile's. */
  memoryMiB?: number;
  /** Per architecture, the boot image's own testbed hints (its manifest's `bootImage.testbed`, read back from media.json). */
  imageTestbed?: Partial<Record<Arch, BootImageTestbed>>;
  /** A deploy case: a blank disk, DPs, and a second boot from the disk alone (deploy/case.ts). */
  deploy?: CaseDeploy;
  /**
   * Stand-alone media (docs/standalone-media.md): they need no network, and a CD/DVD set's
   * discs (paths, disc 1 first) are changed in the drive when the machine asks for them.
   */
  standalone?: { discs: string[] };
}

export interface TestCase {
  /** `<profile>.<media label>.<nic>`: stable across runs and shards. */
  id: string;
  profile: ProfileId;
  media: MediaUnderTest & { label: string };
  nic: NicModel;
  expected: Expected;
  /** The pass pattern this case is judged by, if any: the media's, else the booted image's. */
  pass?: PassPattern;
  /** The least memory (MiB) this case's machine gets: the media's or the booted image's, whichever is more. */
  minMemoryMiB?: number;
}

export interface Shard {
  /** 1-based, as in `--shard 2/4`. */
  index: number;
  count: number;
}

/** Default NICs: one per driver family the reference images carry, plus one they lack. */
export const DEFAULT_NICS: readonly NicModel[] = ["e1000", "virtio-net-pci", "rtl8139"];

/** What the rules predict for one machine, media and NIC: boot rules first, then drivers. */
export function expectCase(
  profile: ProfileId,
  media: Pick<MediaUnderTest, "images" | "drivers" | "expectFailure" | "secureBoot" | "standalone">,
  nic: NicModel,
): Expected {
  const plan = planBoot(PROFILES[profile].machine, media.images);
  if (!plan.ok) return { status: "fail", reason: plan.reason };
  const sb = planSecureBoot(profileSbMachine(profile), media.secureBoot ?? { chain: "unsigned", kernelSigned: false });
  if (!sb.ok) return { status: "fail", reason: SB_REFUSED_REASON };
  if (nic === "none" ? !media.standalone : missingDrivers(NIC_MODELS[nic].drivers, media.drivers).length > 0)
    return { status: "fail", reason: "no-nic-driver" };
  if (media.expectFailure) return { status: "fail", reason: media.expectFailure };
  return { status: "pass" };
}

const trustCache = new Map<string, string>();

/** A profile as the Secure Boot rules see it: its firmware's enforcement and db. */
function profileSbMachine(profile: ProfileId): SbMachine {
  const p: MachineProfile = PROFILES[profile];
  const sb = p.secureBoot;
  if (!sb) return p.machine;
  if (sb.trust === "microsoft") return { ...p.machine, secureBoot: true, trust: { kind: "microsoft" } };
  let sha = trustCache.get(sb.certificate);
  if (sha === undefined) trustCache.set(sb.certificate, (sha = certificateSha256(readFileSync(sb.certificate))));
  return { ...p.machine, secureBoot: true, trust: { kind: "certificate", sha256: sha, label: sb.certificate } };
}

/** The pass pattern and least memory of the image a profile boots from this media. */
export function judgingOf(
  profile: ProfileId,
  media: Pick<MediaUnderTest, "images" | "pass" | "memoryMiB" | "imageTestbed">,
): Pick<TestCase, "pass" | "minMemoryMiB"> {
  const plan = planBoot(PROFILES[profile].machine, media.images);
  const image = plan.ok ? media.imageTestbed?.[plan.image] : undefined;
  const pass = media.pass ?? image?.pass;
  const memory = Math.max(media.memoryMiB ?? 0, image?.memoryMiB ?? 0);
  return { ...(pass ? { pass } : {}), ...(memory > 0 ? { minMemoryMiB: memory } : {}) };
}

function labelMedia(media: MediaUnderTest): string {
  return media.label ?? `${media.kind}-${basename(media.path).replace(/\.[^.]*$/, "")}`;
}

/** Every case, sorted by id; ids must be unique so shards and merges can key on them. */
export function buildMatrix(
  media: readonly MediaUnderTest[],
  profiles: readonly ProfileId[] = PROFILE_IDS,
  nics: readonly NicModel[] = DEFAULT_NICS,
): TestCase[] {
  const cases: TestCase[] = [];
  for (const m of media) {
    const label = labelMedia(m);
    for (const profile of profiles) {
      for (const nic of nics) {
        cases.push({
          id: `${profile}.${label}.${nic}`,
          profile,
          media: { ...m, label },
          nic,
          expected: expectCase(profile, m, nic),
          ...judgingOf(profile, m),
        });
      }
    }
  }
  const seen = new Set<string>();
  for (const c of cases) {
    if (seen.has(c.id)) throw new BootmediaError("BM5007", `case id ${c.id} appears twice`, { where: c.media.path });
    seen.add(c.id);
  }
  return sortCases(cases);
}

export function sortCases<T extends { id: string }>(cases: readonly T[]): T[] {
  return [...cases].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Round-robin over the id-sorted cases: every case lands in exactly one shard. */
export function selectShard<T extends { id: string }>(cases: readonly T[], shard: Shard): T[] {
  checkShard(shard);
  return sortCases(cases).filter((_, i) => i % shard.count === shard.index - 1);
}

function checkShard(shard: Shard): void {
  const { index, count } = shard;
  if (!Number.isInteger(index) || !Number.isInteger(count) || count < 1 || index < 1 || index > count) {
    throw new BootmediaError("BM5006", `invalid shard ${index}/${count}`);
  }
}

/** Parses the CLI form "i/n". */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) throw new BootmediaError("BM5006", `invalid shard ${JSON.stringify(text)}`);
  const shard = { index: Number(m[1]), count: Number(m[2]) };
  checkShard(shard);
  return shard;
}

export function checkProfile(id: string): ProfileId {
  if (!(PROFILE_IDS as readonly string[]).includes(id))
    throw new BootmediaError("BM5004", `unknown machine profile ${JSON.stringify(id)}`);
  return id as ProfileId;
}

/** The NIC model whose Linux driver is `driver` (specs name machines' NICs by driver). */
export function nicModelForDriver(driver: string): NicModel | undefined {
  return (Object.keys(NIC_MODELS) as NicModel[]).find((m) =>
    (NIC_MODELS[m].drivers as readonly string[]).includes(driver),
  );
}

export function checkNic(id: string): NicModel {
  if (!Object.hasOwn(NIC_MODELS, id)) throw new BootmediaError("BM5005", `unknown NIC model ${JSON.stringify(id)}`);
  return id as NicModel;
}
